import { chargeSpend, insertCall, type LedgerRow } from './ledger';
import type { Pool } from './pool';

/** One request waiting for a provider batch, as the asking activity enqueues it: what its ledger row will say, and more. */
export interface NewBatchRequest extends Pick<
  LedgerRow,
  'contentHash' | 'conversationId' | 'batchId' | 'callKey' | 'agent' | 'role' | 'baseUrl' | 'model' | 'promptVersion'
> {
  runId: string;
  requester: string;
  /** The chat-completions body, images by reference. */
  body: unknown;
  bytes: number;
  estimateTokens: number;
}

export type RequestStatus = 'queued' | 'planned' | 'answered' | 'failed' | 'paused' | 'cancelled';

/**
 * Enqueues a request, or joins the one already there (same content hash: sent once). A request that
 * failed comes back `failed` with its error to every ask of the workflow run first told of it; asked by
 * another run (a resume) it is queued anew, as are cancelled ones. Paused ones stay paused until a
 * resume raises the cap (unpauseRequests).
 */
export async function enqueueBatchRequest(
  pool: Pool,
  r: NewBatchRequest & { requesterRun: string },
): Promise<{ status: RequestStatus; error: string | null }> {
  const res = await pool.query(
    `INSERT INTO batch_requests (content_hash, run_id, requesters, conversation_id, batch_id, call_key, agent, role,
       base_url, model, prompt_version, body, bytes, estimate_tokens)
     VALUES ($1, $2, ARRAY[$3], $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (content_hash) DO UPDATE SET
       requesters = CASE WHEN $3 = ANY (batch_requests.requesters) THEN batch_requests.requesters
                         ELSE batch_requests.requesters || $3 END,
       status = CASE WHEN ${ANEW} THEN 'queued' ELSE batch_requests.status END,
       tries = CASE WHEN ${ANEW} THEN 0 ELSE batch_requests.tries END,
       run_id = CASE WHEN ${ANEW} THEN $2 ELSE batch_requests.run_id END,
       error = CASE WHEN ${ANEW} THEN NULL ELSE batch_requests.error END,
       failed_run = CASE WHEN batch_requests.status = 'failed' AND batch_requests.failed_run IS NULL THEN $15
                         WHEN ${ANEW} THEN NULL ELSE batch_requests.failed_run END,
       updated_at = now()
     RETURNING status, error`,
    [
      r.contentHash,
      r.runId,
      r.requester,
      r.conversationId ?? null,
      r.batchId ?? null,
      r.callKey,
      r.agent,
      r.role,
      r.baseUrl ?? null,
      r.model,
      r.promptVersion,
      JSON.stringify(r.body),
      r.bytes,
      r.estimateTokens,
      r.requesterRun,
    ],
  );
  return res.rows[0];
}

/**
 * A sent batch abandoned by an earlier run (its polls or files refused: a revoked key, an outage of hours)
 * is read again, not sent again, when a later run asks one of its requests: the batch goes back to its
 * workflow, and its failed requests back into it. Once per batch. Returns the batch's run, whose collector
 * starts that workflow, when this call reopened it.
 */
export async function reopenAbandonedBatch(
  pool: Pool,
  contentHash: string,
  requesterRun: string,
): Promise<{ id: number; runId: string } | undefined> {
  const r = await pool.query(
    `WITH b AS (
       UPDATE provider_batches pb SET status = 'reopened', reopened_at = now(), error = NULL
       FROM batch_requests r
       WHERE r.content_hash = $1 AND pb.id = r.provider_batch_id AND r.status = 'failed'
         AND r.failed_run IS NOT NULL AND r.failed_run <> $2
         AND pb.status = 'abandoned' AND pb.provider_batch_id IS NOT NULL AND pb.reopened_at IS NULL
       RETURNING pb.id, pb.run_id
     ), requests AS (
       UPDATE batch_requests SET status = 'planned', error = NULL, failed_run = NULL, updated_at = now()
       WHERE provider_batch_id IN (SELECT id FROM b) AND status = 'failed'
     )
     SELECT id::int, run_id FROM b`,
    [contentHash, requesterRun],
  );
  return r.rows[0] && { id: r.rows[0].id, runId: r.rows[0].run_id };
}

/** Whether a request is planned into a provider batch already, for this requester: its ask has nothing to change. */
export async function inProviderBatch(pool: Pool, contentHash: string, requester: string): Promise<boolean> {
  const r = await pool.query(
    `SELECT 1 FROM batch_requests WHERE content_hash = $1 AND status = 'planned' AND $2 = ANY (requesters)`,
    [contentHash, requester],
  );
  return (r.rowCount ?? 0) > 0;
}

/** When a request already there is sent anew: cancelled, or failed and told to another workflow run. */
const ANEW = `(batch_requests.status = 'cancelled' OR (batch_requests.status = 'failed'
  AND batch_requests.failed_run IS NOT NULL AND batch_requests.failed_run <> $15))`;

export interface ProviderBatchRow {
  id: number;
  run_id: string;
  role: string;
  base_url: string | null;
  model: string;
  status: string;
  requests: number;
  bytes: number;
  worst_case_usd: number | null;
  input_file_id: string | null;
  provider_batch_id: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  counts: { total?: number; completed?: number; failed?: number } | null;
  error: string | null;
  cancel_requested: boolean;
  created_at: Date;
  ended_at: Date | null;
  /** A later run read it again after it was abandoned (once only). */
  reopened_at: Date | null;
  /** Estimated input tokens it holds in the provider's queue, and since when it holds them (see admitProviderBatch). */
  tokens: number;
  admitted_at: Date | null;
  /** Times the provider refused it as a whole for now (its queue limit), and why the last time. */
  deferrals: number;
  deferred_error: string | null;
  /** The provider's last state of it (completed, expired, cancelled, failed), kept once ingested. */
  final_status: string | null;
}

/** Provider states after which a batch answers no more requests. */
export const TERMINAL = ['completed', 'failed', 'expired', 'cancelled'] as const;
/** Our states of a batch that is done with: its answers stored, paused at the budget cap, or abandoned. */
export const CLOSED: readonly string[] = ['ingested', 'paused', 'abandoned'];

/**
 * Puts the run's queued requests into new provider batches, one endpoint and model per batch, each
 * within the provider's limits (requests and bytes per file), in one transaction. Returns every batch of
 * the run whose workflow is to start: not yet sent (new, or left over from a planner that died before
 * starting its workflow), or reopened.
 */
export async function planProviderBatches(
  pool: Pool,
  runId: string,
  limits: {
    maxRequests: number;
    maxBytes: number;
    /** No batch holds more estimated input tokens than this for its model (a request alone over it goes alone). */
    maxTokens?: (model: string) => number;
  },
): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const queued = await client.query(
      `SELECT content_hash, role, base_url, model, bytes, estimate_tokens FROM batch_requests
       WHERE run_id = $1 AND status = 'queued' ORDER BY base_url, model, created_at, content_hash FOR UPDATE SKIP LOCKED`,
      [runId],
    );
    type Chunk = {
      role: string;
      baseUrl: string | null;
      model: string;
      hashes: string[];
      bytes: number;
      tokens: number;
    };
    const chunks: Chunk[] = [];
    for (const q of queued.rows) {
      const last = chunks.at(-1);
      const fits =
        last &&
        last.baseUrl === q.base_url &&
        last.model === q.model &&
        last.hashes.length < limits.maxRequests &&
        last.bytes + q.bytes <= limits.maxBytes &&
        (!limits.maxTokens || last.tokens + q.estimate_tokens <= limits.maxTokens(q.model));
      if (fits) {
        last.hashes.push(q.content_hash);
        last.bytes += q.bytes;
        last.tokens += q.estimate_tokens;
      } else
        chunks.push({
          role: q.role,
          baseUrl: q.base_url,
          model: q.model,
          hashes: [q.content_hash],
          bytes: q.bytes,
          tokens: q.estimate_tokens,
        });
    }
    for (const c of chunks) {
      const { id } = (
        await client.query(
          `INSERT INTO provider_batches (run_id, role, base_url, model, requests, bytes, tokens)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
          [runId, c.role, c.baseUrl, c.model, c.hashes.length, c.bytes, c.tokens],
        )
      ).rows[0];
      await client.query(
        `UPDATE batch_requests SET status = 'planned', provider_batch_id = $2, sent_in = sent_in || $2::bigint, updated_at = now()
         WHERE content_hash = ANY ($1)`,
        [c.hashes, id],
      );
    }
    const planned = await client.query(
      `SELECT id::int FROM provider_batches WHERE run_id = $1 AND status IN ('planned', 'reopened') ORDER BY id`,
      [runId],
    );
    await client.query('COMMIT');
    return planned.rows.map((r) => r.id);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

const BATCH_COLUMNS = `id::int, run_id, role, base_url, model, status, requests, bytes::int, worst_case_usd::float8, input_file_id,
  provider_batch_id, output_file_id, error_file_id, counts, error, cancel_requested, created_at, ended_at, reopened_at,
  tokens::float8, admitted_at, deferrals, deferred_error, final_status`;

export async function providerBatch(pool: Pool, id: number): Promise<ProviderBatchRow> {
  const r = await pool.query(`SELECT ${BATCH_COLUMNS} FROM provider_batches WHERE id = $1`, [id]);
  if (!r.rowCount) throw new Error(`provider batch ${id} is not in the database`);
  return r.rows[0];
}

/** A run's provider batches, newest first. */
export async function providerBatchesOf(pool: Pool, runId: string): Promise<ProviderBatchRow[]> {
  return (await pool.query(`SELECT ${BATCH_COLUMNS} FROM provider_batches WHERE run_id = $1 ORDER BY id DESC`, [runId]))
    .rows;
}

/** The requests of a provider batch in the order of its request file (line n is the n-th). */
export async function requestsOf(
  pool: Pool,
  id: number,
): Promise<
  Array<{
    content_hash: string;
    agent: string;
    call_key: string;
    conversation_id: string | null;
    batch_id: string | null;
    body: Record<string, unknown>;
    estimate_tokens: number;
  }>
> {
  return (
    await pool.query(
      `SELECT content_hash, agent, call_key, conversation_id, batch_id, body, estimate_tokens FROM batch_requests
       WHERE provider_batch_id = $1 AND status = 'planned' ORDER BY content_hash`,
      [id],
    )
  ).rows;
}

export interface RequestLine {
  content_hash: string;
  agent: string;
  call_key: string;
}

/**
 * The lines of a sent batch's request file, in order, for a batch that failed validation (it answered
 * none): its requests still planned, and those its ingest already failed (an ingest that ran before).
 */
export async function requestFileOf(pool: Pool, id: number): Promise<RequestLine[]> {
  return (
    await pool.query(
      `SELECT content_hash, agent, call_key FROM batch_requests
       WHERE provider_batch_id = $1 AND status IN ('planned', 'failed') ORDER BY content_hash`,
      [id],
    )
  ).rows;
}

/** Stores what the provider handed out (file ids, batch id, state, counts): each the moment it is known. */
export async function updateProviderBatch(
  pool: Pool,
  id: number,
  s: Partial<{
    status: string;
    inputFileId: string;
    providerBatchId: string;
    outputFileId: string | null;
    errorFileId: string | null;
    counts: unknown;
    error: string | null;
    worstCaseUsd: number | null;
    bytes: number;
  }>,
): Promise<void> {
  const cols: Record<string, unknown> = {
    status: s.status,
    input_file_id: s.inputFileId,
    provider_batch_id: s.providerBatchId,
    output_file_id: s.outputFileId,
    error_file_id: s.errorFileId,
    counts: s.counts === undefined ? undefined : JSON.stringify(s.counts),
    error: s.error,
    worst_case_usd: s.worstCaseUsd,
    bytes: s.bytes,
  };
  const set = Object.entries(cols).filter(([, v]) => v !== undefined);
  const statusParam = `$${set.findIndex(([k]) => k === 'status') + 2}`;
  const extra = [
    s.providerBatchId ? 'submitted_at = now()' : '',
    s.status && (TERMINAL as readonly string[]).includes(s.status)
      ? `ended_at = coalesce(ended_at, now()), final_status = ${statusParam}`
      : '',
    s.status === 'ingested' ? 'ingested_at = now()' : '',
  ].filter(Boolean);
  await pool.query(
    `UPDATE provider_batches SET ${[...set.map(([k], i) => `${k} = $${i + 2}`), ...extra].join(', ')} WHERE id = $1`,
    [id, ...set.map(([, v]) => v)],
  );
}

/**
 * Stores a provider batch's answers: each planned request of this batch becomes answered and its ledger
 * row is written, in one transaction, so an ingest that dies half-way and runs again stores each once.
 * Returns the hashes stored (those not already answered).
 */
export async function storeAnswers(
  pool: Pool,
  providerBatchId: number,
  answers: Array<{ contentHash: string; row: LedgerRow }>,
): Promise<string[]> {
  if (!answers.length) return [];
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const won = new Set<string>(
      (
        await client.query(
          `UPDATE batch_requests SET status = 'answered', error = NULL, updated_at = now()
           WHERE content_hash = ANY ($1) AND provider_batch_id = $2 AND status = 'planned' RETURNING content_hash`,
          [answers.map((a) => a.contentHash), providerBatchId],
        )
      ).rows.map((r) => r.content_hash),
    );
    const spend = new Map<string, number>();
    for (const a of answers) {
      if (!won.has(a.contentHash)) continue;
      await insertCall(client as unknown as Pool, a.row);
      if (a.row.batchId && a.row.costUsd) spend.set(a.row.batchId, (spend.get(a.row.batchId) ?? 0) + a.row.costUsd);
    }
    for (const [id, usd] of spend) await chargeSpend(client, id, usd);
    await client.query('COMMIT');
    return [...won];
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Settles requests of a provider batch that got no answer: `queued` again (a retryable error, an
 * expired or cancelled batch; tries counted), `failed` with the error, `paused` or `cancelled`.
 * Only requests still planned in this batch change.
 */
export async function settleRequests(
  pool: Pool,
  providerBatchId: number,
  status: 'queued' | 'failed' | 'paused' | 'cancelled',
  hashes: string[] | 'all',
  error?: string,
): Promise<number> {
  const r = await pool.query(
    `UPDATE batch_requests SET status = $2, error = $3, failed_run = NULL, provider_batch_id = CASE WHEN $2 = 'queued' THEN NULL ELSE provider_batch_id END,
       tries = tries + CASE WHEN $2 = 'queued' THEN 1 ELSE 0 END, updated_at = now()
     WHERE provider_batch_id = $1 AND status = 'planned' AND ($4::text[] IS NULL OR content_hash = ANY ($4))`,
    [providerBatchId, status, error ?? null, hashes === 'all' ? null : hashes],
  );
  return r.rowCount ?? 0;
}

/** How often each request of a provider batch has been sent before this batch. */
export async function triesOf(pool: Pool, providerBatchId: number): Promise<Map<string, number>> {
  const r = await pool.query(
    `SELECT content_hash, tries FROM batch_requests WHERE provider_batch_id = $1 AND status = 'planned'`,
    [providerBatchId],
  );
  return new Map(r.rows.map((x) => [x.content_hash, x.tries]));
}

/** The workflows waiting for any request of this provider batch (signalled once its answers are in). */
export async function requestersOf(pool: Pool, providerBatchId: number): Promise<string[]> {
  const r = await pool.query(
    `SELECT DISTINCT unnest(requesters) AS w FROM batch_requests WHERE provider_batch_id = $1 ORDER BY w`,
    [providerBatchId],
  );
  return r.rows.map((x) => x.w);
}

/** Requests of a run by status, for progress lines and `muse status`. */
export async function requestCounts(pool: Pool, runId: string): Promise<Record<string, number>> {
  const r = await pool.query(
    `SELECT status, count(*)::int AS n FROM batch_requests WHERE run_id = $1 GROUP BY status ORDER BY status`,
    [runId],
  );
  return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
}

/** The worst case of a run's other batches that are sent and not yet ingested (their spend is not in the ledger yet). */
export async function committedWorstCase(pool: Pool, runId: string, except: number): Promise<number> {
  const r = await pool.query(
    `SELECT coalesce(sum(worst_case_usd), 0)::float8 AS w FROM provider_batches
     WHERE run_id = $1 AND id <> $2 AND provider_batch_id IS NOT NULL AND NOT (status = ANY ($3))`,
    [runId, except, CLOSED],
  );
  return r.rows[0].w;
}

/** A run's requests the Batch API could not answer, each with the error its unit failed with (the first `limit`). */
export async function refusedRequests(
  pool: Pool,
  runId: string,
  limit: number,
): Promise<Array<{ agent: string; call_key: string; error: string }>> {
  const r = await pool.query(
    `SELECT agent, call_key, error FROM batch_requests WHERE run_id = $1 AND status = 'failed'
     ORDER BY updated_at, content_hash LIMIT $2`,
    [runId, limit],
  );
  return r.rows;
}

/** The run a provider's batch id was sent for (`muse status batch_…`). */
export async function runOfProviderBatch(pool: Pool, providerBatchId: string): Promise<string | undefined> {
  const r = await pool.query(
    `SELECT run_id FROM provider_batches WHERE provider_batch_id = $1 OR $1 = ANY (refused_ids) LIMIT 1`,
    [providerBatchId],
  );
  return r.rows[0]?.run_id;
}

/** Marks a run's unfinished provider batches for cancelling; returns them (the provider is told next). */
export async function requestCancel(pool: Pool, runId: string): Promise<ProviderBatchRow[]> {
  await pool.query(
    `UPDATE batch_requests SET status = 'cancelled', updated_at = now() WHERE run_id = $1 AND status = 'queued'`,
    [runId],
  );
  return (
    await pool.query(
      `UPDATE provider_batches SET cancel_requested = true
       WHERE run_id = $1 AND NOT (status = ANY ($2))
       RETURNING ${BATCH_COLUMNS}`,
      [runId, [...TERMINAL, ...CLOSED]],
    )
  ).rows;
}

/** A resume with a higher cap: requests paused at the budget cap are queued again (their activities re-ask for them). */
export async function unpauseRequests(pool: Pool, runId: string): Promise<number> {
  const r = await pool.query(
    `UPDATE batch_requests SET status = 'queued', error = NULL, provider_batch_id = NULL, updated_at = now()
     WHERE run_id = $1 AND status = 'paused'`,
    [runId],
  );
  return r.rowCount ?? 0;
}

/** The input tokens a model's batches at one endpoint hold in the provider's queue: admitted and not yet ended. */
const IN_QUEUE = `base_url IS NOT DISTINCT FROM $1 AND model = $2 AND admitted_at IS NOT NULL AND ended_at IS NULL
  AND NOT (status = ANY ($3))`;

/**
 * A planned batch takes its place under its model's queue limit, when its tokens fit beside those of
 * the batches in the queue (of every run of this database) or when none is there (a batch alone is
 * always tried: the limit may be set lower than the provider's). One admission at a time per model.
 * A batch that is not planned (sent, reopened, closed) needs none; one whose run was cancelled is
 * settled as cancelled instead.
 */
export async function admitProviderBatch(
  pool: Pool,
  id: number,
  limit: number,
): Promise<{ admitted: boolean; cancelled?: boolean; queued: number; tokens: number }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const row = (
      await client.query(
        `SELECT base_url, model, status, tokens::float8, admitted_at, cancel_requested FROM provider_batches WHERE id = $1 FOR UPDATE`,
        [id],
      )
    ).rows[0];
    if (!row) throw new Error(`provider batch ${id} is not in the database`);
    if (row.status !== 'planned' || row.admitted_at) {
      await client.query('COMMIT');
      return { admitted: true, queued: 0, tokens: row.tokens };
    }
    if (row.cancel_requested) {
      await client.query(
        `UPDATE batch_requests SET status = 'cancelled', updated_at = now() WHERE provider_batch_id = $1 AND status = 'planned'`,
        [id],
      );
      await client.query(
        `UPDATE provider_batches SET status = 'ingested', final_status = 'cancelled', ingested_at = now() WHERE id = $1`,
        [id],
      );
      await client.query('COMMIT');
      return { admitted: false, cancelled: true, queued: 0, tokens: row.tokens };
    }
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('muse.batch-queue:' || coalesce($1, '') || ':' || $2))`, [
      row.base_url,
      row.model,
    ]);
    const q = (
      await client.query(
        `SELECT coalesce(sum(tokens), 0)::float8 AS tokens, count(*)::int AS n FROM provider_batches WHERE ${IN_QUEUE}`,
        [row.base_url, row.model, CLOSED],
      )
    ).rows[0];
    const admitted = q.n === 0 || q.tokens + row.tokens <= limit;
    // The moment of the decision, not the transaction's start (now()): a wait for the lock came first.
    if (admitted) await client.query(`UPDATE provider_batches SET admitted_at = clock_timestamp() WHERE id = $1`, [id]);
    await client.query('COMMIT');
    return { admitted, queued: q.tokens, tokens: row.tokens };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/**
 * The provider refused a sent batch as a whole for now (its queue limit): the batch goes back to
 * waiting for its place, its requests stay in it untouched (no try counted), and it is sent again
 * later under a new provider batch id, from the same uploaded file.
 */
export async function deferProviderBatch(pool: Pool, id: number, why: string): Promise<void> {
  await pool.query(
    `UPDATE provider_batches SET status = 'planned', provider_batch_id = NULL, output_file_id = NULL, error_file_id = NULL,
       counts = NULL, error = NULL, admitted_at = NULL, submitted_at = NULL, ended_at = NULL, final_status = NULL,
       deferrals = deferrals + 1, deferred_error = $2, refused_ids = refused_ids || provider_batch_id
     WHERE id = $1`,
    [id, why],
  );
}

/** Planned batches of this model and endpoint still waiting for their place under the queue limit (any run). */
export async function waitingForRoom(pool: Pool, baseUrl: string | null, model: string): Promise<number[]> {
  const r = await pool.query(
    `SELECT id::int FROM provider_batches
     WHERE base_url IS NOT DISTINCT FROM $1 AND model = $2 AND status = 'planned' AND admitted_at IS NULL ORDER BY id`,
    [baseUrl, model],
  );
  return r.rows.map((x) => x.id);
}

/** Where the requests of a batch went after it: for each later batch (null: queued, not yet planned), how many and their state. */
export async function requestsSentOnFrom(
  pool: Pool,
  id: number,
): Promise<Array<{ batch: number | null; status: string; n: number }>> {
  const r = await pool.query(
    `SELECT provider_batch_id::int AS batch, status, count(*)::int AS n
     FROM batch_requests WHERE $1 = ANY (sent_in) AND provider_batch_id IS DISTINCT FROM $1
     GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2`,
    [id],
  );
  return r.rows;
}
