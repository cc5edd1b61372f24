import { FailureType } from '../schemas/failures';
import type { Mllm } from '../agents/calls';
import { getItem } from '../catalog/store';
import { inTransaction, type Pool, type PoolClient } from '../db/pool';
import { BleuIndex, MAX_BLEU } from '../profiles/dedup';
import { loadCategoryPools, NO_TARGETS, sampleProfile } from '../profiles/sample';
import { ApplicationFailure } from '@temporalio/activity';
import { personaLine } from '../schemas/profile';
import { inLanes } from '../workflows/lanes';

/** Profiles of one chunk written at once: enough to overlap LLM latency inside one activity. */
const WRITES_IN_FLIGHT = 4;

export const profileId = (seed: number, seq: number) => `p${seed}-${seq}`;

/**
 * Stage 2 activities. Generation (gate, then backstory) runs in parallel chunks and stores each sample
 * as 'gated_out' or 'pending'; acceptance then takes the pending ones in seq order, one chunk at a time,
 * under a PostgreSQL advisory lock, and drops a backstory whose BLEU against an accepted one is too high.
 */
export function profileActivities({ pool, llm }: { pool: Pool; llm: (provider: string) => Mllm }) {
  // Accepted backstories, replayed from PostgreSQL in acceptance order; shared by this worker's activities.
  let index = new BleuIndex();
  let indexedUpTo = 0;
  async function catchUp(c: PoolClient) {
    const r = await c.query(
      `SELECT id, backstory, accepted_order FROM profiles WHERE status = 'accepted' AND accepted_order > $1 ORDER BY accepted_order`,
      [indexedUpTo],
    );
    for (const row of r.rows) index.add(row.id, row.backstory);
    if (r.rows.length) indexedUpTo = Number(r.rows[r.rows.length - 1].accepted_order);
  }

  return {
    /** Where a seed's sequence goes on: its first pending sample, else past its last one. */
    async firstProfileSeq(input: { seed: number }): Promise<number> {
      const r = await pool.query(
        `SELECT coalesce(min(seq) FILTER (WHERE status = 'pending'), max(seq) + 1, 0)::int AS next FROM profiles WHERE seed = $1`,
        [input.seed],
      );
      return r.rows[0].next;
    },

    /**
     * Samples seq from..to-1 of a seed in the method's order, asks the gate, and writes the backstory of
     * those it lets through. Samples already stored are skipped, so a retry or a resume redoes nothing.
     */
    async generateProfiles(input: {
      seed: number;
      from: number;
      to: number;
      provider: string;
      batchId?: string;
    }): Promise<void> {
      const agent = llm(input.provider);
      const stored = new Set<number>(
        (
          await pool.query('SELECT seq FROM profiles WHERE seed = $1 AND seq >= $2 AND seq < $3', [
            input.seed,
            input.from,
            input.to,
          ])
        ).rows.map((r) => r.seq),
      );
      const todo = Array.from({ length: input.to - input.from }, (_, k) => input.from + k).filter(
        (seq) => !stored.has(seq),
      );
      if (todo.length === 0) return;
      const categories = await loadCategoryPools(pool);
      if (categories.length === 0) throw ApplicationFailure.nonRetryable(NO_TARGETS, FailureType.NoTargets);
      await inLanes(todo.length, WRITES_IN_FLIGHT, async (k) => {
        const seq = todo[k];
        const sample = sampleProfile(categories, input.seed, seq);
        const target = await getItem(pool, sample.targetItemId);
        const persona = personaLine(sample);
        const gate = await agent.call(
          'profileGate',
          { sample, persona, target },
          { key: `profile:${input.seed}:${seq}:gate`, batchId: input.batchId },
        );
        const pass = gate.fits_person && gate.fits_scenario;
        const story = pass
          ? await agent.call(
              'backstoryWriter',
              { sample, persona, target },
              { key: `profile:${input.seed}:${seq}`, batchId: input.batchId },
            )
          : null;
        await pool.query(
          `INSERT INTO profiles (id, seed, seq, category, target_item_id, scenario_group, scenario, age, gender, name, profession,
             backstory, requirement, status, gate, provider)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (seed, seq) DO NOTHING`,
          [
            profileId(input.seed, seq),
            input.seed,
            seq,
            sample.category,
            sample.targetItemId,
            sample.scenarioGroup,
            sample.scenario,
            sample.age,
            sample.gender,
            sample.name,
            sample.profession,
            story?.scenario ?? null,
            story?.requirement ?? null,
            pass ? 'pending' : 'gated_out',
            gate,
            agent.provider,
          ],
        );
      });
    },

    /**
     * Accepts the chunk's pending profiles in seq order until `want` are accepted; the rest stay pending
     * for the next run. Serialised across workers by an advisory lock, so the BLEU check always sees every
     * backstory accepted before, and the same runs on a fresh database accept the same profiles.
     */
    async acceptProfiles(input: {
      seed: number;
      from: number;
      to: number;
      want: number;
    }): Promise<{ accepted: number; duplicates: number; gatedOut: number; compared: number }> {
      try {
        return await inTransaction(pool, async (c) => {
          await c.query("SELECT pg_advisory_xact_lock(hashtext('muse.accept-profiles'))");
          await catchUp(c);
          const range = [input.seed, input.from, input.to];
          const pending = (
            await c.query(
              `SELECT id, backstory FROM profiles WHERE seed = $1 AND seq >= $2 AND seq < $3 AND status = 'pending' ORDER BY seq`,
              range,
            )
          ).rows;
          // What an earlier attempt of this very call committed counts (its reply may have been lost): the
          // chunk's totals are what is returned, so a retry neither accepts past `want` nor counts twice.
          const done = (
            await c.query(
              `SELECT count(*) FILTER (WHERE status = 'accepted')::int AS accepted, count(*) FILTER (WHERE status = 'duplicate')::int AS duplicates,
               count(*) FILTER (WHERE status = 'gated_out')::int AS "gatedOut"
             FROM profiles WHERE seed = $1 AND seq >= $2 AND seq < $3`,
              range,
            )
          ).rows[0];
          const out = {
            accepted: done.accepted as number,
            duplicates: done.duplicates as number,
            gatedOut: done.gatedOut as number,
            compared: 0,
          };
          for (const p of pending) {
            if (out.accepted >= input.want) break;
            const near = index.nearest(p.backstory, MAX_BLEU);
            out.compared += near.compared;
            if (near.score > MAX_BLEU) {
              await c.query(
                `UPDATE profiles SET status = 'duplicate', max_bleu = $2, duplicate_of = $3 WHERE id = $1`,
                [p.id, near.score, near.against],
              );
              out.duplicates++;
            } else {
              const r = await c.query(
                `UPDATE profiles SET status = 'accepted', max_bleu = $2, accepted_order = nextval('profiles_accepted_order') WHERE id = $1 RETURNING accepted_order`,
                [p.id, near.score],
              );
              index.add(p.id, p.backstory);
              indexedUpTo = Number(r.rows[0].accepted_order);
              out.accepted++;
            }
          }
          return out;
        });
      } catch (e) {
        // The transaction rolled back: what this call added to the index must go too; rebuild it next time.
        index = new BleuIndex();
        indexedUpTo = 0;
        throw e;
      }
    },
  };
}
