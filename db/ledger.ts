import type { Pool } from './pool';

/** The ledger (llm_calls) summed by agent and model over a batch: its conversations and the profiles made for it. */
export async function costByAgent(
  pool: Pool,
  batchId: string,
): Promise<
  Array<{
    agent: string;
    model: string;
    requests: number;
    cache_hits: number;
    failed: number;
    input_tokens: number;
    output_tokens: number;
    cost: number | null;
    unpriced: boolean;
  }>
> {
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
  return r.rows;
}
