import { describe, expect, it } from 'vitest';
import { assignSplits, parseSplit, stratumOf } from '../../export/splits';
import type { ConversationRecord } from '../../schemas/record';

// Just what the split reads of a record: its id and its stage-2 sample.
const record = (i: number, category: string, group: string) =>
  ({
    Conversation_id: `c-${i}`,
    Sample: { Category: category, Scenario_group: group, Scenario: 'x' },
  }) as ConversationRecord;

const records = Array.from({ length: 1000 }, (_, i) =>
  record(i, ['Dresses', 'Jeans', 'Hats', 'Boots'][i % 4], i % 10 < 6 ? 'Attend' : i % 10 < 9 ? 'Gifts' : 'Work'),
);

describe('the stratified split', () => {
  it('holds the ratios overall and within every stratum, and is the same for the same seed', () => {
    const s = assignSplits(records, parseSplit('80/10/10'), 3);
    const count = (xs: ConversationRecord[], split: string) =>
      xs.filter((r) => s.get(r.Conversation_id) === split).length;
    expect([count(records, 'train'), count(records, 'validation'), count(records, 'test')]).toEqual([800, 100, 100]);
    const strata = new Map<string, ConversationRecord[]>();
    for (const r of records) strata.set(stratumOf(r), [...(strata.get(stratumOf(r)) ?? []), r]);
    for (const [k, xs] of strata) {
      // Within one record of its share in each split (each stratum is dealt in one run).
      for (const [split, share] of [
        ['train', 0.8],
        ['validation', 0.1],
        ['test', 0.1],
      ] as const)
        expect(Math.abs(count(xs, split) - share * xs.length), `${k} ${split}`).toBeLessThanOrEqual(1.01);
    }
    expect(assignSplits([...records].reverse(), parseSplit('80/10/10'), 3)).toEqual(s);
    const other = assignSplits(records, parseSplit('80/10/10'), 4);
    expect([...other].filter(([id, v]) => s.get(id) !== v).length).toBeGreaterThan(100);
  });

  it('refuses ratios that do not add up, naming the option', () => {
    expect(() => parseSplit('80/10')).toThrow(/--split 80\/10: expected train\/validation\/test percentages/);
    expect(() => parseSplit('80/30/10')).toThrow(/adding up to 100/);
    expect(parseSplit('90/0/10')).toEqual([0.9, 0, 0.1]);
  });
});
