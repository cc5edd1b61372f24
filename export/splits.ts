import { z } from 'zod';
import { Rng } from '../random';
import type { ConversationRecord } from '../schemas/record';

export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Shares of the three splits; they must add up to 1 (a 0 leaves that split out). */
export const SplitRatios = z
  .tuple([z.number().min(0), z.number().min(0), z.number().min(0)])
  .refine(
    (r) => Math.abs(r[0] + r[1] + r[2] - 1) < 1e-9 && r[0] > 0,
    'train/validation/test must add up to 100, train above 0',
  );
export type SplitRatios = z.infer<typeof SplitRatios>;

export const DEFAULT_SPLIT = '80/10/10';
export const DEFAULT_SPLIT_SEED = 0;

/** "80/10/10" (percentages) -> [0.8, 0.1, 0.1], or an error that says what a valid value looks like. */
export function parseSplit(text: string): SplitRatios {
  const parts = text.split('/').map(Number);
  const r = SplitRatios.safeParse(parts.length === 3 ? parts.map((p) => p / 100) : []);
  if (!r.success)
    throw new Error(`--split ${text}: expected train/validation/test percentages adding up to 100, e.g. 80/10/10`);
  return r.data;
}

/** What a record is stratified on: the target's category and the scenario group of its profile. */
export const stratumOf = (r: ConversationRecord) => `${r.Sample?.Category ?? '?'}|${r.Sample?.Scenario_group ?? '?'}`;

/**
 * A seeded, stratified split. Records are grouped by stratum (target category x scenario group), each
 * group shuffled by the seed, and the groups dealt out one after another by a smooth weighted round
 * robin: every record goes to the split furthest behind its share. So every prefix of the deal, and so
 * every large stratum, holds the ratios to within one record, and small strata still add up to them.
 * The same records, ratios and seed always give the same split, whatever the export format.
 */
export function assignSplits(
  records: readonly ConversationRecord[],
  ratios: SplitRatios,
  seed: number,
): Map<string, Split> {
  const strata = new Map<string, ConversationRecord[]>();
  for (const r of [...records].sort((a, b) => (a.Conversation_id < b.Conversation_id ? -1 : 1)))
    strata.set(stratumOf(r), [...(strata.get(stratumOf(r)) ?? []), r]);
  const order = new Rng('split', seed)
    .shuffle([...strata.keys()].sort())
    .flatMap((k) => new Rng('split', seed, k).shuffle(strata.get(k)!));
  const credit = [0, 0, 0];
  const out = new Map<string, Split>();
  for (const r of order) {
    for (let k = 0; k < 3; k++) credit[k] += ratios[k];
    const k = credit.indexOf(Math.max(...credit));
    credit[k] -= 1;
    out.set(r.Conversation_id, SPLITS[k]);
  }
  return out;
}
