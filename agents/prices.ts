/**
 * USD per million tokens (input, output), for the ledger's cost column. A model missing here is
 * recorded with no cost rather than a guessed one; the config's `prices` (or MUSE_PRICES) adds entries.
 * The Batch API's price is half the online one unless an entry says otherwise (OpenAI's documented
 * discount; a local server priced [0, 0] costs nothing either way).
 */
const BUILT_IN: Record<string, readonly [number, number]> = {
  'gpt-4o-mini': [0.15, 0.6],
  'gpt-4o': [2.5, 10],
  'gpt-4.1-mini': [0.4, 1.6],
  'gpt-4.1': [2, 8],
  'claude-3-5-haiku': [0.8, 4],
};

type Price = readonly [number, number];
/** As the config writes an entry: [input, output] online, or a price for each API. */
export type PriceEntry = Price | { online: Price; batch?: Price };
export type PriceTable = Record<string, PriceEntry>;
export type Api = 'online' | 'batch';

/** What the Batch API takes off the online price when an entry names no batch price. */
export const BATCH_DISCOUNT = 0.5;

export const priceTable = (extra: PriceTable = {}): PriceTable => ({ ...BUILT_IN, ...extra });

/** A model's [input, output] price on one API, or undefined when the table does not know the model. */
export function priceOf(prices: PriceTable, model: string, api: Api = 'online'): Price | undefined {
  // Dated snapshots ("gpt-4o-mini-2024-07-18") are priced like their family.
  const key = Object.keys(prices)
    .filter((k) => model === k || model.startsWith(`${k}-`))
    .sort((a, b) => b.length - a.length)[0];
  if (!key) return undefined;
  const e = prices[key];
  const online = Array.isArray(e) ? (e as Price) : (e as { online: Price }).online;
  if (api === 'online') return online;
  return (
    (!Array.isArray(e) && (e as { batch?: Price }).batch) || [online[0] * BATCH_DISCOUNT, online[1] * BATCH_DISCOUNT]
  );
}

export function costUsd(
  prices: PriceTable,
  model: string,
  input?: number,
  output?: number,
  api: Api = 'online',
): number | null {
  const p = priceOf(prices, model, api);
  if (!p || input === undefined || output === undefined) return null;
  return (input * p[0] + output * p[1]) / 1e6;
}
