import { describe, expect, it } from 'vitest';
import { distinct, modifiedPrecision, repeatedOpenings, selfBleu, sentenceBleu } from '../../metrics/text';

// The worked example of Papineni et al. (2002), as NLTK documents sentence_bleu with it.
const split = (s: string) => s.split(' ');
const hypothesis1 = split(
  'It is a guide to action which ensures that the military always obeys the commands of the party',
);
const hypothesis2 = split('It is to insure the troops forever hearing the activity guidebook that party direct');
const references = [
  split('It is a guide to action that ensures that the military will forever heed Party commands'),
  split('It is the guiding principle which guarantees the military forces always being under the command of the Party'),
  split('It is the practical guide for the army always to heed the directions of the party'),
];

describe('sentence-BLEU', () => {
  it('matches NLTK on its documented example', () => {
    expect(sentenceBleu(references, hypothesis1)).toBeCloseTo(0.5045666840058485, 14);
    expect([1, 2, 3, 4].map((n) => modifiedPrecision(references, hypothesis1, n))).toEqual([
      { matched: 17, total: 18 },
      { matched: 10, total: 17 },
      { matched: 7, total: 16 },
      { matched: 4, total: 15 },
    ]);
    expect(sentenceBleu(references, hypothesis2)).toBe(0);
    expect([1, 2].map((n) => modifiedPrecision(references, hypothesis2, n))).toEqual([
      { matched: 8, total: 14 },
      { matched: 1, total: 13 },
    ]);
  });
  it('is 1 for an identical sentence and applies the brevity penalty to a short one', () => {
    expect(sentenceBleu([hypothesis1], hypothesis1)).toBe(1);
    const short = hypothesis1.slice(0, 9);
    expect(sentenceBleu([hypothesis1], short)).toBeCloseTo(Math.exp(1 - 18 / 9), 12);
  });
});

describe('diversity metrics', () => {
  it('Distinct-n counts unique n-grams over all n-grams', () => {
    expect(distinct(['a b a b', 'a b c'], 1)).toBeCloseTo(3 / 7, 12);
    expect(distinct(['a b a b', 'a b c'], 2)).toBeCloseTo(3 / 5, 12);
  });
  it('self-BLEU is 1 for copies and 0 for texts that share no 4-gram', () => {
    expect(selfBleu(['the navy linen dress is lovely', 'the navy linen dress is lovely'])).toBe(1);
    expect(selfBleu(['the navy linen dress is lovely', 'red wool coats keep you warm'])).toBe(0);
  });
  it('finds openings a speaker repeats', () => {
    const r = repeatedOpenings([
      'How about this one? A dress.',
      'How about this one? A coat.',
      'Take a look at these boots.',
    ]);
    expect(r.share).toBeCloseTo(2 / 3, 12);
    expect(r.top).toEqual([['how about this one', 2]]);
  });
});
