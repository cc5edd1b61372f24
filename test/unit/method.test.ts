import { describe, expect, it } from 'vitest';
import { Rng } from '../random';
import { sampleProfile, type CategoryPool } from '../profiles/sample';
import { CHIT_CHAT_PROBABILITY, nextAction } from '../workflows/method';
import { expectedCalls } from '../client/estimate';

describe('the action schedule of stage 3', () => {
  const never = () => {
    throw new Error('no draw expected');
  };
  it('recommends at max_round and after a chit-chat round, without drawing', () => {
    expect(nextAction(4, 4, 'recommend', never)).toBe('recommend');
    expect(nextAction(3, 3, 'recommend', never)).toBe('recommend');
    expect(nextAction(2, 4, 'chit-chat', never)).toBe('recommend');
    expect(nextAction(3, 4, 'chit-chat', never)).toBe('recommend');
  });
  it('chit-chats with probability 0.3 in round 2 and 0.2 in round 3', () => {
    for (const round of [2, 3]) {
      const rng = new Rng('schedule-test', round);
      const n = 200_000;
      let chit = 0;
      for (let i = 0; i < n; i++) if (nextAction(round, 4, 'recommend', () => rng.next()) === 'chit-chat') chit++;
      expect(Math.abs(chit / n - CHIT_CHAT_PROBABILITY[round])).toBeLessThan(0.005);
    }
  });
});

describe('stage 2 sampling', () => {
  const cats: CategoryPool[] = [
    {
      name: 'Dresses',
      itemIds: Array.from({ length: 30 }, (_, i) => `d${i}`),
      eligible: new Set(Array.from({ length: 30 }, (_, i) => `d${i}`).filter((_, i) => i % 3 !== 0)),
    },
    {
      name: 'Boots',
      itemIds: Array.from({ length: 10 }, (_, i) => `b${i}`),
      eligible: new Set(Array.from({ length: 10 }, (_, i) => `b${i}`)),
    },
  ];
  const samples = Array.from({ length: 20_000 }, (_, i) => sampleProfile(cats, 3, i));
  const share = (f: (s: (typeof samples)[number]) => boolean) => samples.filter(f).length / samples.length;

  it('draws categories by item count and only eligible targets', () => {
    expect(Math.abs(share((s) => s.category === 'Dresses') - 0.75)).toBeLessThan(0.015);
    for (const s of samples) expect(cats.find((c) => c.name === s.category)!.eligible.has(s.targetItemId)).toBe(true);
  });
  it('uses the method weights for scenario groups and genders, ages 5..70, no profession at 15 or younger', () => {
    expect(Math.abs(share((s) => s.scenarioGroup === 'Attend') - 0.33)).toBeLessThan(0.015);
    expect(Math.abs(share((s) => s.scenarioGroup === 'Sports') - 0.2)).toBeLessThan(0.015);
    expect(Math.abs(share((s) => s.gender === 'unknown') - 0.1)).toBeLessThan(0.01);
    expect(Math.min(...samples.map((s) => s.age))).toBe(5);
    expect(Math.max(...samples.map((s) => s.age))).toBe(70);
    for (const s of samples) expect(s.profession === null).toBe(s.age <= 15);
  });
  it('is a pure function of its key', () => {
    expect(sampleProfile(cats, 3, 17)).toEqual(samples[17]);
    expect(sampleProfile(cats, 4, 17)).not.toEqual(samples[17]);
  });
});

describe('the call model behind muse estimate', () => {
  it('plays the workflow schedule: one opening, one acceptance, and no rejection when every recommendation hits', () => {
    const sure = expectedCalls({ imageSuccess: 1, hit: 1, source: 'test' }, 20_000);
    expect(sure.acceptance).toBe(1);
    expect(sure.recommendation).toBe(1);
    expect(sure.rejection).toBe(0);
    expect(sure.textOpening + sure.imageOpening).toBeCloseTo(1, 10);
    expect(Math.abs(sure.imageOpening - 0.2)).toBeLessThan(0.01);

    const never = expectedCalls({ imageSuccess: 0, hit: 0, source: 'test' }, 20_000);
    expect(never.textOpening).toBe(1);
    expect(never.acceptance).toBe(1);
    // Text openings, no hit: rounds 2-4 each reject unless they chit-chat; round 4 forces the target.
    expect(never.rejection + never.userChitChat).toBeCloseTo(3, 10);
    expect(never.recommendation).toBeCloseTo(1 + never.rejection, 10);
    expect(never.queryMerger).toBeCloseTo(never.rejection - 1, 10);
  });

  it('counts stage 2 as it runs: a gate call per sample, a backstory per sample let through, rejected ones included', () => {
    const calls = expectedCalls(
      { imageSuccess: 0.5, hit: 0.1, samplesPerProfile: 2.5, backstoriesPerProfile: 1.25, source: 'test' },
      2_000,
    );
    expect(calls.profileGate).toBeCloseTo(2.5, 10);
    expect(calls.backstoryWriter).toBeCloseTo(1.25, 10);
  });
});
