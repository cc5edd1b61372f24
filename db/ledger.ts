import type { Pool, PoolClient } from './pool';

/** One agent call as the ledger (llm_calls) records it: answered, answered from the cache, or failed. */
export interface LedgerRow {
  contentHash: string;
  conversationId?: string;
  batchId?: string;
  callKey: string;
  agent: string;
  role: string;
  baseUrl?: string;
  model: string;
  promptVersion: string;
  attempt?: number;
  ask: number;
  status: 'ok' | 'cached' | 'http_error' | 'network_error' | 'invalid';
  httpStatus?: number;
  error?: string;
  responseMode?: string;
  inputTokens?: number;
  outputTokens?: number;
  latencyMs: number;
  costUsd?: number | null;
  rawReply?: string;
  output?: unknown;
  /** 'batch' when a provider batch answered it (priced at the batch price), and which one. */
  api?: 'online' | 'batch';
  providerBatchId?: number;
}

/** The ledger (llm_calls) summed by agent and model over a batch: its conversations and the profiles made for it. */
export async function costByAgent(
  pool: Pool,
  batchId: string,
): Promise<
  Array<{
    agent: string;
    model: string;
    api: 'online' | 'batch';
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
    `SELECT agent, model, api,
       count(*) FILTER (WHERE status NOT IN ('cached'))::int AS requests,
       count(*) FILTER (WHERE status = 'cached')::int AS cache_hits,
       count(*) FILTER (WHERE status IN ('http_error', 'network_error', 'invalid'))::int AS failed,
       coalesce(sum(input_tokens), 0)::int AS input_tokens, coalesce(sum(output_tokens), 0)::int AS output_tokens,
       sum(cost_usd)::float AS cost, bool_or(cost_usd IS NULL AND status NOT IN ('cached', 'http_error', 'network_error')) AS unpriced
     FROM llm_calls WHERE conversation_id IN (SELECT id FROM conversations WHERE batch_id = $1) OR batch_id = $1
     GROUP BY agent, model, api ORDER BY agent, model, api`,
    [batchId],
  );
  return r.rows;
}

/**
 * The stage-2 calls of the profiles a batch's conversations use that were charged elsewhere: made by
 * `muse profiles` (or another batch) before this batch took them. By the seed they were made for.
 */
export async function profileCallsElsewhere(
  pool: Pool,
  batchId: string,
): Promise<Array<{ seed: number; chargedTo: string | null; profiles: number; requests: number; cost: number | null }>> {
  const r = await pool.query(
    `WITH used AS (
       SELECT DISTINCT p.seed, p.seq FROM conversations c JOIN profiles p ON p.id = c.profile_id WHERE c.batch_id = $1
     )
     SELECT u.seed::float8 AS seed, l.batch_id AS "chargedTo", count(DISTINCT (u.seed, u.seq))::int AS profiles,
       count(*) FILTER (WHERE l.status <> 'cached')::int AS requests, sum(l.cost_usd)::float8 AS cost
     FROM used u JOIN llm_calls l
       ON l.call_key IN ('profile:' || u.seed || ':' || u.seq, 'profile:' || u.seed || ':' || u.seq || ':gate')
     WHERE l.batch_id IS DISTINCT FROM $1 AND l.conversation_id IS NULL
     GROUP BY u.seed, l.batch_id ORDER BY u.seed, l.batch_id`,
    [batchId],
  );
  return r.rows;
}

/** The batch a conversation belongs to. */
export async function batchIdOf(pool: Pool, conversationId: string): Promise<string | undefined> {
  return (await pool.query('SELECT batch_id FROM conversations WHERE id = $1', [conversationId])).rows[0]?.batch_id;
}

/** A batch's or an evaluation's cap and spend (ids never collide: evaluations are e-<hash>). */
export async function budgetOf(
  pool: Pool,
  id: string,
): Promise<{ kind: 'batch' | 'evaluation'; cap: number | null; spent: number } | undefined> {
  const r = await pool.query(
    `SELECT 'batch' AS kind, max_cost_usd::float8 AS cap, spent_usd::float8 AS spent FROM batches WHERE id = $1
     UNION ALL SELECT 'evaluation', max_cost_usd::float8, spent_usd::float8 FROM evals WHERE id = $1`,
    [id],
  );
  return r.rows[0];
}

/** The stored answer to a request with this content hash, if any call was answered. */
export async function answeredOutput(pool: Pool, contentHash: string): Promise<unknown | undefined> {
  const r = await pool.query(
    `SELECT output FROM llm_calls WHERE content_hash = $1 AND status = 'ok' ORDER BY id LIMIT 1`,
    [contentHash],
  );
  return r.rowCount ? r.rows[0].output : undefined;
}

export async function insertCall(pool: Pool, row: LedgerRow): Promise<void> {
  await pool.query(
    `INSERT INTO llm_calls (content_hash, conversation_id, call_key, agent, role, base_url, model, prompt_version, attempt, ask,
       status, http_status, error, response_mode, input_tokens, output_tokens, latency_ms, cost_usd, raw_reply, output, batch_id,
       api, provider_batch_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
    [
      row.contentHash,
      row.conversationId ?? null,
      row.callKey,
      row.agent,
      row.role,
      row.baseUrl ?? null,
      row.model,
      row.promptVersion,
      row.attempt ?? null,
      row.ask,
      row.status,
      row.httpStatus ?? null,
      row.error ?? null,
      row.responseMode ?? null,
      row.inputTokens ?? null,
      row.outputTokens ?? null,
      row.latencyMs,
      row.costUsd ?? null,
      row.rawReply ?? null,
      row.output === undefined ? null : JSON.stringify(row.output),
      row.batchId ?? null,
      row.api ?? 'online',
      row.providerBatchId ?? null,
    ],
  );
}

/** Adds a paid call's cost to its batch or evaluation, in one round trip whichever it is. */
export async function chargeSpend(db: Pool | PoolClient, id: string, usd: number): Promise<void> {
  await db.query(
    `WITH b AS (UPDATE batches SET spent_usd = spent_usd + $2 WHERE id = $1)
     UPDATE evals SET spent_usd = spent_usd + $2 WHERE id = $1`,
    [id, usd],
  );
}
