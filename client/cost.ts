import { costByAgent, profileCallsElsewhere } from '../db/ledger';
import { seedProfilesWorkflowId } from '../common/ids';
import type { Pool } from '../db/pool';
import { loadLlmConfig } from '../agents/config';
import { costUsd, priceTable } from '../agents/prices';

export interface CostRow {
  agent: string;
  model: string;
  /** Which API answered: online, or a provider batch (at its price). */
  api: 'online' | 'batch';
  requests: number;
  cacheHits: number;
  failedRequests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  /** What the same tokens cost online: for a row the Batch API answered, the price it saved against. */
  onlineUsd: number | null;
}

/** What a batch has spent so far, by agent and model, from the ledger: its conversations and the profiles made for it (cache hits cost nothing). */
export async function batchCost(pool: Pool, batchId: string, env: NodeJS.ProcessEnv = process.env): Promise<CostRow[]> {
  const rows = await costByAgent(pool, batchId);
  const prices = priceTable(loadLlmConfig(env).config.prices);
  return rows.map((x) => ({
    agent: x.agent,
    model: x.model,
    api: x.api,
    requests: x.requests,
    cacheHits: x.cache_hits,
    failedRequests: x.failed,
    inputTokens: x.input_tokens,
    outputTokens: x.output_tokens,
    costUsd: x.unpriced ? null : (x.cost ?? 0),
    onlineUsd:
      x.api === 'batch' ? costUsd(prices, x.model, x.input_tokens, x.output_tokens) : x.unpriced ? null : (x.cost ?? 0),
  }));
}

export function formatCost(rows: CostRow[]): string {
  const money = (v: number | null) => (v === null ? 'unpriced' : `$${v.toFixed(4)}`);
  const head = ['agent', 'model', 'api', 'requests', 'failed', 'cache hits', 'input tok', 'output tok', 'cost'];
  const body = rows.map((r) =>
    [
      r.agent,
      r.model,
      r.api,
      r.requests,
      r.failedRequests,
      r.cacheHits,
      r.inputTokens,
      r.outputTokens,
      money(r.costUsd),
    ].map(String),
  );
  const sum = (f: (r: CostRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  const priced = rows.every((r) => r.costUsd !== null);
  body.push(
    [
      'total',
      '',
      '',
      sum((r) => r.requests),
      sum((r) => r.failedRequests),
      sum((r) => r.cacheHits),
      sum((r) => r.inputTokens),
      sum((r) => r.outputTokens),
      priced ? money(sum((r) => r.costUsd ?? 0)) : `${money(sum((r) => r.costUsd ?? 0))} + unpriced`,
    ].map(String),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(head), ...body.map(line)];
  // Each API with its own total: the Batch API's beside what the same calls would have cost online.
  const by = (api: CostRow['api']) => rows.filter((r) => r.api === api);
  const total = (rs: CostRow[], f: (r: CostRow) => number | null) =>
    rs.some((r) => f(r) === null)
      ? `${money(rs.reduce((n, r) => n + (f(r) ?? 0), 0))} + unpriced`
      : money(rs.reduce((n, r) => n + (f(r) ?? 0), 0));
  const count = (rs: CostRow[]) => rs.reduce((n, r) => n + r.requests, 0);
  if (by('batch').length)
    out.push(
      `online: ${total(by('online'), (r) => r.costUsd)} for ${count(by('online'))} requests`,
      `Batch API: ${total(by('batch'), (r) => r.costUsd)} for ${count(by('batch'))} requests (${total(by('batch'), (r) => r.onlineUsd)} had they gone online)`,
    );
  return out.join('\n');
}

/** A line per seed whose profiles this batch used but whose stage-2 calls are charged to another run. */
export async function profilesChargedElsewhere(pool: Pool, batchId: string): Promise<string[]> {
  return (await profileCallsElsewhere(pool, batchId)).map(
    (p) =>
      `stage 2: the ${p.profiles} profiles of seed ${p.seed} this batch used cost ${p.cost === null ? 'an unpriced amount' : `$${p.cost.toFixed(4)}`} in ${p.requests} requests, charged to ${p.chargedTo ? `batch ${p.chargedTo}` : `\`muse profiles --seed ${p.seed}\` (${seedProfilesWorkflowId(p.seed)})`} (not in the table above)`,
  );
}
