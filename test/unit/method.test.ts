import { describe, expect, it } from 'vitest';
import { Rng } from '../../random';
import { sampleProfile, type CategoryPool } from '../../profiles/sample';
import {
  CHIT_CHAT_PROBABILITY,
  MAX_ROUND,
  nextAction,
  runConversation,
  type ConversationSteps,
} from '../../method/index';
import { expectedCalls } from '../../client/estimate';

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

/** Steps that log what the conversation asks for; recommendations hit the target when `hits` says so. */
function fakeSteps(opts: { imageOk: boolean; hits: (n: number) => boolean }) {
  const log: string[] = [];
  const written: number[] = [];
  let recommended = 0;
  const at = (name: string) => async (idx: number) => {
    log.push(name);
    written.push(idx);
  };
  const steps: ConversationSteps = {
    begin: async () => void log.push('begin'),
    planImageOpening: async () => (log.push('plan'), opts.imageOk ? { ok: true, boughtItemId: 'B' } : { ok: false }),
    writeImageOpening: async () => (log.push('imageOpening'), written.push(0, 1, 2, 3)),
    askOccasion: at('askOccasion'),
    answerOccasion: at('answerOccasion'),
    writeTextOpening: async () => (log.push('textOpening'), written.push(0, 1, 2, 3)),
    opened: (o) => log.push(`opened:${o}`),
    systemRecommends: async (idx) => {
      log.push('recommend');
      written.push(idx);
      const isTarget = opts.hits(recommended++);
      return { itemId: isTarget ? 'T' : 'X', isTarget };
    },
    systemRecommendsTarget: async (idx) => (await at('recommendTarget')(idx), 'T'),
    userAccepts: at('accept'),
    userRejects: at('reject'),
    userChitChat: at('userChitChat'),
    systemChitChat: at('systemChitChat'),
  };
  return { steps, log, written };
}

describe('runConversation, the method of stage 3 over any steps', () => {
  it('accepts at once when the first recommendation is the target', async () => {
    // A seed whose first draw skips the image opening.
    let seed = 0;
    while (new Rng('t', seed).next() < 0.2) seed++;
    const f = fakeSteps({ imageOk: true, hits: () => true });
    const r = await runConversation(f.steps, new Rng('t', seed));
    expect(r).toEqual({ opening: 'text', outcome: 'retrieval', utterances: 6 });
    expect(f.log).toEqual(['begin', 'textOpening', 'opened:text', 'recommend', 'accept']);
  });

  it('writes every utterance index once, in order, and forces the target by max_round, over many seeds', async () => {
    const seen = { image: 0, text: 0, chitChat: 0 };
    for (let seed = 0; seed < 300; seed++) {
      const f = fakeSteps({ imageOk: seed % 2 === 0, hits: () => false });
      const r = await runConversation(f.steps, new Rng('t', seed));
      expect(f.written).toEqual([...Array(r.utterances).keys()]);
      expect(r.outcome).toBe('forced');
      expect(f.log.at(-2)).toBe('recommendTarget');
      // One rejection per round from 2 to max_round, less those spent on chit-chat.
      const rounds = f.log.filter((s) => s === 'reject' || s === 'userChitChat').length;
      expect(rounds).toBe(MAX_ROUND[r.opening] - 1);
      if (r.opening === 'image')
        expect(f.log.slice(0, 5)).toEqual(['begin', 'plan', 'imageOpening', 'askOccasion', 'answerOccasion']);
      seen[r.opening]++;
      if (f.log.includes('userChitChat')) seen.chitChat++;
    }
    expect(seen.image).toBeGreaterThan(0);
    expect(seen.text).toBeGreaterThan(0);
    expect(seen.chitChat).toBeGreaterThan(0);
  });

  it('falls back to the text opening when the judge turns the pairing down', async () => {
    for (let seed = 0; seed < 50; seed++) {
      const f = fakeSteps({ imageOk: false, hits: (n) => n === 1 });
      const r = await runConversation(f.steps, new Rng('t', seed));
      expect(r.opening).toBe('text');
      expect(f.log).not.toContain('imageOpening');
    }
  });
});

describe('the call model behind muse estimate', () => {
  it('plays the workflow schedule: one opening, one acceptance, and no rejection when every recommendation hits', async () => {
    const sure = await expectedCalls({ imageSuccess: 1, hit: 1, source: 'test' }, 20_000);
    expect(sure.acceptance).toBe(1);
    expect(sure.recommendation).toBe(1);
    expect(sure.rejection).toBe(0);
    expect(sure.textOpening + sure.imageOpening).toBeCloseTo(1, 10);
    expect(Math.abs(sure.imageOpening - 0.2)).toBeLessThan(0.01);

    const never = await expectedCalls({ imageSuccess: 0, hit: 0, source: 'test' }, 20_000);
    expect(never.textOpening).toBe(1);
    expect(never.acceptance).toBe(1);
    // Text openings, no hit: rounds 2-4 each reject unless they chit-chat; round 4 forces the target.
    expect(never.rejection + never.userChitChat).toBeCloseTo(3, 10);
    expect(never.recommendation).toBeCloseTo(1 + never.rejection, 10);
    expect(never.queryMerger).toBeCloseTo(never.rejection - 1, 10);
  });

  it('counts stage 2 as it runs: a gate call per sample, a backstory per sample let through, rejected ones included', async () => {
    const calls = await expectedCalls(
      { imageSuccess: 0.5, hit: 0.1, samplesPerProfile: 2.5, backstoriesPerProfile: 1.25, source: 'test' },
      2_000,
    );
    expect(calls.profileGate).toBeCloseTo(2.5, 10);
    expect(calls.backstoryWriter).toBeCloseTo(1.25, 10);
  });
});
