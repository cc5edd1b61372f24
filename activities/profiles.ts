import { queuedAsResult } from '../common/queued';
import { FailureType } from '../schemas/failures';
import type { Mllm, ViaBatch } from '../agents/calls';
import { getItem } from '../db/items';
import { inTransaction, type Pool, type PoolClient } from '../db/pool';
import {
  acceptedSince,
  chunkCounts,
  insertProfile,
  lockAcceptance,
  markAccepted,
  markDuplicate,
  nextProfileSeq,
  pendingProfiles,
  storedSeqs,
} from '../db/profiles';
import { BleuIndex, MAX_BLEU } from '../profiles/dedup';
import { loadCategoryPools, NO_TARGETS, sampleProfile } from '../profiles/sample';
import { ApplicationFailure } from '@temporalio/activity';
import { personaLine } from '../schemas/profile';
import { inLanes } from '../common/lanes';

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
    for (const row of await acceptedSince(c, indexedUpTo)) {
      index.add(row.id, row.backstory);
      indexedUpTo = row.acceptedOrder;
    }
  }

  return {
    /** Where a seed's sequence goes on: its first pending sample, else past its last one. */
    async firstProfileSeq(input: { seed: number }): Promise<number> {
      return nextProfileSeq(pool, input.seed);
    },

    /**
     * Samples seq from..to-1 of a seed in the method's order, asks the gate, and writes the backstory of
     * those it lets through. Samples already stored are skipped, so a retry or a resume redoes nothing.
     */
    generateProfiles: queuedAsResult(
      async (
        input: {
          seed: number;
          from: number;
          to: number;
          provider: string;
          batchId?: string;
        } & ViaBatch,
      ): Promise<void> => {
        const agent = llm(input.provider);
        const stored = new Set(await storedSeqs(pool, input.seed, input.from, input.to));
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
            { key: `profile:${input.seed}:${seq}:gate`, batchId: input.batchId, batchRoles: input.batchRoles },
          );
          const pass = gate.fits_person && gate.fits_scenario;
          const story = pass
            ? await agent.call(
                'backstoryWriter',
                { sample, persona, target },
                { key: `profile:${input.seed}:${seq}`, batchId: input.batchId, batchRoles: input.batchRoles },
              )
            : null;
          await insertProfile(pool, {
            id: profileId(input.seed, seq),
            seed: input.seed,
            seq,
            sample,
            backstory: story?.scenario ?? null,
            requirement: story?.requirement ?? null,
            status: pass ? 'pending' : 'gated_out',
            gate,
            provider: agent.provider,
          });
        });
      },
    ),

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
          await lockAcceptance(c);
          await catchUp(c);
          const range = { seed: input.seed, from: input.from, to: input.to };
          const pending = await pendingProfiles(c, range);
          // What an earlier attempt of this very call committed counts (its reply may have been lost): the
          // chunk's totals are what is returned, so a retry neither accepts past `want` nor counts twice.
          const done = await chunkCounts(c, range);
          const out = {
            accepted: done.accepted,
            duplicates: done.duplicates,
            gatedOut: done.gatedOut,
            compared: 0,
          };
          for (const p of pending) {
            if (out.accepted >= input.want) break;
            const near = index.nearest(p.backstory, MAX_BLEU);
            out.compared += near.compared;
            if (near.score > MAX_BLEU) {
              await markDuplicate(c, p.id, near.score, near.against);
              out.duplicates++;
            } else {
              const order = await markAccepted(c, p.id, near.score);
              index.add(p.id, p.backstory);
              indexedUpTo = order;
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
