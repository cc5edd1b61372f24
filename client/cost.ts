import { costByAgent } from '../db/ledger';
import type { Pool } from '../db/pool';

export interface CostRow {
  agent: string;
  model: string;
  requests: number;
  cacheHits: number;
  failedRequests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
}

/** What a batch has spent so far, by agent and model, from the ledger: its conversations and the profiles made for it (cache hits cost nothing). */
export async function batchCost(pool: Pool, batchId: string): Promise<CostRow[]> {
  const rows = await costByAgent(pool, batchId);
  return rows.map((x) => ({
    agent: x.agent,
    model: x.model,
    requests: x.requests,
    cacheHits: x.cache_hits,
    failedRequests: x.failed,
    inputTokens: x.input_tokens,
    outputTokens: x.output_tokens,
    costUsd: x.unpriced ? null : (x.cost ?? 0),
  }));
}

export function formatCost(rows: CostRow[]): string {
  const money = (v: number | null) => (v === null ? 'unpriced' : `$${v.toFixed(4)}`);
  const head = ['agent', 'model', 'requests', 'failed', 'cache hits', 'input tok', 'output tok', 'cost'];
  const body = rows.map((r) =>
    [r.agent, r.model, r.requests, r.failedRequests, r.cacheHits, r.inputTokens, r.outputTokens, money(r.costUsd)].map(
      String,
    ),
  );
  const sum = (f: (r: CostRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  const priced = rows.every((r) => r.costUsd !== null);
  body.push(
    [
      'total',
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
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
