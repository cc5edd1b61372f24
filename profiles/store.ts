import { inTransaction, type Pool, type PoolClient } from '../db/pool';
import { conversationId, conversationSeed } from '../workflows/ids';

export interface BatchSpec {
  batchId: string;
  size: number;
  seed: number;
  concurrency: number;
  provider: string;
}

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

/** The batch's row; the command writes it before it starts the workflow, so a batch id always leads somewhere. */
export async function createBatch(db: Pool | PoolClient, b: BatchSpec): Promise<void> {
  await db.query(
    `INSERT INTO batches (id, seed, size, concurrency, provider) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
    [b.batchId, b.seed, b.size, b.concurrency, b.provider],
  );
}
