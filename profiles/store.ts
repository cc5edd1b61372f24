import type { Mllm } from '../agents/calls';
import { getItems } from '../catalog/store';
import { inTransaction, type Pool } from '../db/pool';
import { personaLine } from '../schemas/profile';
import { loadCategoryPools, sampleProfile } from './sample';
import { conversationId, conversationSeed } from '../workflows/ids';

/**
 * Creates `count` profiles for a seed, continuing that seed's sequence, so the same commands on a
 * fresh database give the same profiles. The gate and BLEU dedup of the method are a later stage;
 * until then every sample is accepted.
 */
export async function createProfiles(pool: Pool, llm: Mllm, seed: number, count: number): Promise<string[]> {
  const categories = await loadCategoryPools(pool);
  const start = (await pool.query('SELECT coalesce(max(seq), -1) + 1 AS next FROM profiles WHERE seed = $1', [seed])).rows[0].next as number;
  const ids: string[] = [];
  for (let seq = start; seq < start + count; seq++) {
    const sample = sampleProfile(categories, seed, seq);
    const target = (await getItems(pool, [sample.targetItemId])).get(sample.targetItemId)!;
    const persona = personaLine(sample);
    const story = await llm.call('backstoryWriter', { sample, persona, target }, { key: `profile:${seed}:${seq}` });
    const id = `p${seed}-${seq}`;
    await pool.query(
      `INSERT INTO profiles (id, seed, seq, category, target_item_id, scenario_group, scenario, age, gender, name, profession,
         backstory, requirement, status, provider)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'accepted', $14) ON CONFLICT (seed, seq) DO NOTHING`,
      [id, seed, seq, sample.category, sample.targetItemId, sample.scenarioGroup, sample.scenario, sample.age, sample.gender,
        sample.name, sample.profession, story.scenario, story.requirement, llm.provider],
    );
    ids.push(id);
  }
  return ids;
}

export interface BatchSpec {
  batchId: string;
  size: number;
  seed: number;
  concurrency: number;
  provider: string;
}

/**
 * Gives the batch its conversations: profiles no batch has used yet, oldest first, and new ones made
 * with the batch's seed when there are too few. Idempotent, and serialised across concurrent batches.
 */
export async function assignProfiles(pool: Pool, llm: Mllm, b: BatchSpec): Promise<number> {
  return inTransaction(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock(hashtext('muse.assign-profiles'))");
    await c.query(
      `INSERT INTO batches (id, seed, size, concurrency, provider) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [b.batchId, b.seed, b.size, b.concurrency, b.provider],
    );
    const have = (await c.query('SELECT count(*)::int AS n FROM conversations WHERE batch_id = $1', [b.batchId])).rows[0].n as number;
    if (have >= b.size) return have;
    const unused = async () =>
      (await c.query(
        `SELECT id FROM profiles p WHERE status = 'accepted' AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.profile_id = p.id)
         ORDER BY ordinal LIMIT $1`, [b.size - have])).rows.map((r) => r.id as string);
    let ids = await unused();
    if (ids.length < b.size - have) {
      await createProfiles(pool, llm, b.seed, b.size - have - ids.length);
      ids = await unused();
    }
    for (const [k, profileId] of ids.entries()) {
      const idx = have + k;
      await c.query(
        `INSERT INTO conversations (id, batch_id, idx, profile_id, seed) VALUES ($1, $2, $3, $4, $5)`,
        [conversationId(b.batchId, idx), b.batchId, idx, profileId, conversationSeed(b.seed, idx)],
      );
    }
    return have + ids.length;
  });
}
