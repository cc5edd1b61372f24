import { costByAgent } from '../db/ledger';
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
  if (rows.some((r) => r.api === 'batch') && priced)
    out.push(
      `online vs batch: these calls would have cost ${money(sum((r) => r.onlineUsd ?? 0))} online; through the Batch API they cost ${money(sum((r) => r.costUsd ?? 0))}`,
    );
  return out.join('\n');
}
