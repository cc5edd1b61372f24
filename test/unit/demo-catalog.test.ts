import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { demoItems, demoRecord } from '../../catalog/demo';
import { COLOUR_FAMILY } from '../../agents/simulated/rules';

const items = demoItems();

describe('the demo catalog', () => {
  it('keeps the items earlier versions stored, so `catalog demo` run again rewrites none of them', () => {
    const first = items.filter((d) => Number(d.id.split('-').pop()) <= 120).map(demoRecord);
    expect(first).toHaveLength(3120);
    // The digest of the 3,120-item catalog (commit 800997b), taken before it grew.
    expect(createHash('sha256').update(JSON.stringify(first)).digest('hex')).toBe(
      'd19343c985bf09bec7ddc0e79e492b82234a69c12c670d1a8b14a6f0c6a22437',
    );
  });

  it("leaves most targets among dozens of items a shopper's words cannot tell apart", () => {
    // What a shopper says by the second recommendation: the type, the colour family and the material.
    const key = (d: (typeof items)[number]) => `${d.type.category}|${COLOUR_FAMILY[d.colour]}|${d.material}`;
    const size = new Map<string, number>();
    for (const d of items) size.set(key(d), (size.get(key(d)) ?? 0) + 1);
    const alike = items.map((d) => size.get(key(d))!).sort((a, b) => a - b);
    // The top 8 the recommender draws from holds a target by chance only where fewer than 8 look alike.
    expect(alike[alike.length >> 1]).toBeGreaterThanOrEqual(20);
    expect(alike.filter((n) => n >= 8).length / alike.length).toBeGreaterThan(0.8);
  });
});
