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
  const r = await pool.query(
    `SELECT agent, model,
       count(*) FILTER (WHERE status NOT IN ('cached'))::int AS requests,
       count(*) FILTER (WHERE status = 'cached')::int AS cache_hits,
       count(*) FILTER (WHERE status IN ('http_error', 'network_error', 'invalid'))::int AS failed,
       coalesce(sum(input_tokens), 0)::int AS input_tokens, coalesce(sum(output_tokens), 0)::int AS output_tokens,
       sum(cost_usd)::float AS cost, bool_or(cost_usd IS NULL AND status NOT IN ('cached', 'http_error', 'network_error')) AS unpriced
     FROM llm_calls WHERE conversation_id IN (SELECT id FROM conversations WHERE batch_id = $1) OR batch_id = $1
     GROUP BY agent, model ORDER BY agent, model`,
    [batchId],
  );
  return r.rows.map((x) => ({
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
