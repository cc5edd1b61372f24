/**
 * USD per million tokens (input, output), for the ledger's cost column. A model missing here is
 * recorded with no cost rather than a guessed one; MUSE_PRICES='{"my-model":[0.1,0.4]}' adds or
 * overrides entries.
 */
const BUILT_IN: Record<string, readonly [number, number]> = {
  'gpt-4o-mini': [0.15, 0.6],
  'gpt-4o': [2.5, 10],
  'gpt-4.1-mini': [0.4, 1.6],
  'gpt-4.1': [2, 8],
  'claude-3-5-haiku': [0.8, 4],
};

export function priceTable(env: NodeJS.ProcessEnv = process.env): Record<string, readonly [number, number]> {
  if (!env.MUSE_PRICES) return BUILT_IN;
  let extra: unknown;
  try {
    extra = JSON.parse(env.MUSE_PRICES);
  } catch {
    throw new Error('MUSE_PRICES is not JSON: expected {"model": [input USD per 1M tokens, output USD per 1M tokens]}');
  }
  for (const [m, v] of Object.entries(extra as object)) {
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && x >= 0)) throw new Error(`MUSE_PRICES["${m}"] must be [input, output] USD per 1M tokens`);
  }
  return { ...BUILT_IN, ...(extra as Record<string, [number, number]>) };
}

export function costUsd(prices: Record<string, readonly [number, number]>, model: string, input?: number, output?: number): number | null {
  // Dated snapshots ("gpt-4o-mini-2024-07-18") are priced like their family.
  const key = Object.keys(prices).filter((k) => model === k || model.startsWith(`${k}-`)).sort((a, b) => b.length - a.length)[0];
  if (!key || input === undefined || output === undefined) return null;
  const [i, o] = prices[key];
  return (input * i + output * o) / 1e6;
}
