/**
 * USD per million tokens (input, output), for the ledger's cost column. A model missing here is
 * recorded with no cost rather than a guessed one; the config's `prices` (or MUSE_PRICES) adds entries.
 */
const BUILT_IN: Record<string, readonly [number, number]> = {
  'gpt-4o-mini': [0.15, 0.6],
  'gpt-4o': [2.5, 10],
  'gpt-4.1-mini': [0.4, 1.6],
  'gpt-4.1': [2, 8],
  'claude-3-5-haiku': [0.8, 4],
};

export type PriceTable = Record<string, readonly [number, number]>;

export const priceTable = (extra: PriceTable = {}): PriceTable => ({ ...BUILT_IN, ...extra });

export function costUsd(prices: PriceTable, model: string, input?: number, output?: number): number | null {
  // Dated snapshots ("gpt-4o-mini-2024-07-18") are priced like their family.
  const key = Object.keys(prices)
    .filter((k) => model === k || model.startsWith(`${k}-`))
    .sort((a, b) => b.length - a.length)[0];
  if (!key || input === undefined || output === undefined) return null;
  const [i, o] = prices[key];
  return (input * i + output * o) / 1e6;
}
