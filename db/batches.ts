import { inTransaction, type Pool, type PoolClient } from './pool';
import { conversationId, conversationSeed } from '../common/ids';
import { Batch, type BatchSpec } from '../schemas/batch';

/**
 * Gives the batch as many of its conversations as there are accepted profiles of its provider that no
 * batch has used yet, in acceptance order, and returns how many it has now: the batch workflow has the profiles workflow
 * make the rest and asks again. Idempotent, and serialised across concurrent batches.
 */
export async function assignProfiles(pool: Pool, b: BatchSpec): Promise<number> {
  return inTransaction(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock(hashtext('muse.assign-profiles'))");
    await createBatch(c, b);
    const have = (await c.query('SELECT count(*)::int AS n FROM conversations WHERE batch_id = $1', [b.batchId]))
      .rows[0].n as number;
    if (have >= b.size) return have;
    const unused = async () =>
      (
        await c.query(
          // A batch's profiles come from its own provider: records must not claim one provider for another's work.
          `SELECT id FROM profiles p WHERE status = 'accepted' AND provider = $2 AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.profile_id = p.id)
         ORDER BY accepted_order LIMIT $1`,
          [b.size - have, b.provider],
        )
      ).rows.map((r) => r.id as string);
    const ids = await unused();
    for (const [k, profileId] of ids.entries()) {
      const idx = have + k;
      await c.query(`INSERT INTO conversations (id, batch_id, idx, profile_id, seed) VALUES ($1, $2, $3, $4, $5)`, [
        conversationId(b.batchId, idx),
        b.batchId,
        idx,
        profileId,
        conversationSeed(b.seed, idx),
      ]);
    }
    return have + ids.length;
  });
}

/**
 * The batch's row, whole in one statement (its Batch API roles and budget cap too); the command writes it
 * before it starts the workflow, so a batch id always leads somewhere.
 */
export async function createBatch(
  db: Pool | PoolClient,
  b: BatchSpec & { batchRoles?: readonly string[]; maxCostUsd?: number },
): Promise<void> {
  await db.query(
    `INSERT INTO batches (id, seed, size, concurrency, provider, batch_roles, max_cost_usd)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
    [b.batchId, b.seed, b.size, b.concurrency, b.provider, b.batchRoles ?? [], b.maxCostUsd ?? null],
  );
}

const BATCH_COLUMNS = `id AS "batchId", seed::float8 AS seed, size, concurrency, provider,
  max_cost_usd AS "maxCostUsd", spent_usd AS "spentUsd", batch_roles AS "batchRoles", created_at AS "createdAt"`;

/** The roles a batch sends through the Batch API, as its command (or a resume's `--api`) resolved them. */
export async function setBatchRoles(pool: Pool, batchId: string, roles: readonly string[]): Promise<void> {
  await pool.query('UPDATE batches SET batch_roles = $2 WHERE id = $1', [batchId, roles]);
}

export async function findBatch(pool: Pool, batchId: string): Promise<Batch | undefined> {
  const row = (await pool.query(`SELECT ${BATCH_COLUMNS} FROM batches WHERE id = $1`, [batchId])).rows[0];
  return row && Batch.parse(row);
}

/** The batch, or an error that says where it looked and how to find the batches that are there. */
export async function requireBatch(pool: Pool, batchId: string, where: string): Promise<Batch> {
  const b = await findBatch(pool, batchId);
  if (!b) throw new Error(`no batch ${batchId} in the database ${where}: \`muse batches\` lists the batches there`);
  return b;
}

/** Sets a batch's budget cap: no paid call starts once its spend reaches it (see Ledger.checkBudget). */
export async function setBatchBudget(pool: Pool, batchId: string, maxCostUsd: number): Promise<void> {
  await pool.query('UPDATE batches SET max_cost_usd = $2 WHERE id = $1', [batchId, maxCostUsd]);
}

/** Tokens the ledger has charged to a batch, answered and failed calls alike. */
export async function batchTokens(pool: Pool, batchId: string): Promise<number> {
  const r = await pool.query(
    `SELECT coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), 0)::float8 AS tokens
     FROM llm_calls WHERE batch_id = $1`,
    [batchId],
  );
  return r.rows[0].tokens;
}

export interface BatchSummary {
  batchId: string;
  size: number;
  provider: string;
  createdAt: Date;
  completed: number;
  failed: number;
}

/** The newest batches, with how many of their conversations completed and failed. */
export async function newestBatches(pool: Pool, limit: number): Promise<BatchSummary[]> {
  const r = await pool.query(
    `SELECT b.id AS "batchId", b.size, b.provider, b.created_at AS "createdAt",
       count(c.id) FILTER (WHERE c.status = 'completed')::int AS completed,
       count(c.id) FILTER (WHERE c.status = 'failed')::int AS failed
     FROM batches b LEFT JOIN conversations c ON c.batch_id = b.id
     GROUP BY b.id ORDER BY b.created_at DESC, b.id LIMIT $1`,
    [limit],
  );
  return r.rows;
}

/** How many batch ids start with `prefix` (the demo numbers its batches). */
export async function countBatchesWithPrefix(pool: Pool, prefix: string): Promise<number> {
  const r = await pool.query(`SELECT count(*)::int AS n FROM batches WHERE starts_with(id, $1)`, [prefix]);
  return r.rows[0].n;
}
