import type { Item } from '../schemas/catalog';
import { COLOURS, GARMENT_TYPES, MATERIALS, PATTERNS } from './vocabulary';

/** What an item is, in words a shopper would use; read from its details first, then from its text. */
export interface ItemAttributes {
  category: string;
  noun: string;
  colour?: string;
  material?: string;
  pattern?: string;
  style?: string;
  features: string[];
  occasion?: string;
}

const byLength = (xs: readonly string[]) => [...xs].sort((a, b) => b.length - a.length);
const COLOUR_WORDS = byLength(Object.keys(COLOURS));
const MATERIAL_WORDS = byLength(MATERIALS);
const PATTERN_ALIASES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bstrip(e|es|ed)\b/i, 'striped'],
  [/\b(checked|check|plaid|gingham|tartan)\b/i, 'checked'],
  [/\bpolka[- ]dots?\b/i, 'polka dot'],
  [/\b(floral|flower)/i, 'floral'],
];
const ALL_STYLES = byLength([...new Set(GARMENT_TYPES.flatMap((t) => t.styles))]);
const ALL_NOUNS = byLength([
  ...new Set(GARMENT_TYPES.flatMap((t) => [t.singular.toLowerCase(), t.category.toLowerCase()])),
]);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The first vocabulary word found in text, longest words first so "sky blue" beats "blue". */
export function findWord(text: string, words: readonly string[]): string | undefined {
  for (const w of words) if (new RegExp(`\\b${escape(w)}\\b`, 'i').test(text)) return w;
  return undefined;
}
/** Where in text a vocabulary word last occurs, for "the later mention wins" readings. */
export function lastWord(text: string, words: readonly string[]): string | undefined {
  let best: { w: string; at: number } | undefined;
  for (const w of words) {
    const re = new RegExp(`\\b${escape(w)}\\b`, 'gi');
    for (const m of text.matchAll(re))
      if (!best || m.index! > best.at || (m.index === best.at && w.length > best.w.length)) best = { w, at: m.index! };
  }
  return best?.w;
}

function detail(item: Item, ...keys: string[]): string | undefined {
  for (const [k, v] of Object.entries(item.details)) {
    if (keys.some((key) => k.toLowerCase() === key) && typeof v === 'string' && v.trim()) return v.trim().toLowerCase();
  }
  return undefined;
}

function singular(category: string): string {
  const type = GARMENT_TYPES.find((t) => t.category.toLowerCase() === category.toLowerCase());
  if (type) return type.singular.toLowerCase();
  const c = category.toLowerCase();
  if (/(jeans|shorts|trousers|pants|leggings|sunglasses|glasses)$/.test(c)) return c;
  if (/ies$/.test(c)) return c.replace(/ies$/, 'y');
  if (/(ches|shes|sses|xes)$/.test(c)) return c.replace(/es$/, '');
  return c.replace(/s$/, '');
}

export function readAttributes(item: Item): ItemAttributes {
  const text = `${item.title}. ${item.description}. ${item.features.join('. ')}`;
  const known = [...item.categories].reverse().find((c) => GARMENT_TYPES.some((t) => t.category === c));
  const category = known ?? item.categories[item.categories.length - 1] ?? findWord(item.title, ALL_NOUNS) ?? 'item';
  const pattern = detail(item, 'pattern') ?? PATTERN_ALIASES.find(([re]) => re.test(text))?.[1];
  const colour = detail(item, 'colour', 'color') ?? findWord(text, COLOUR_WORDS);
  const material = detail(item, 'material', 'fabric type', 'fabric') ?? findWord(text, MATERIAL_WORDS);
  const style = detail(item, 'style') ?? findWord(item.title, ALL_STYLES);
  const plain = (f: string) =>
    ![colour, material, style].some((a) => a && f.toLowerCase() === a) && !/^ideal for /i.test(f);
  return {
    category,
    noun: singular(category),
    colour,
    material,
    pattern: pattern === 'solid' ? undefined : pattern,
    style,
    features: item.features.filter(plain).map((f) => f.charAt(0).toLowerCase() + f.slice(1)),
    occasion: /(?:ideal for|made for) ([^.]+)/i.exec(text)?.[1]?.trim(),
  };
}

export const VOCABULARY = {
  colours: COLOUR_WORDS,
  materials: MATERIAL_WORDS,
  styles: ALL_STYLES,
  nouns: ALL_NOUNS,
  patterns: PATTERNS.filter((p) => p !== 'solid'),
};
