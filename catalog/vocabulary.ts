/**
 * The clothing vocabulary shared by the demo catalog (which writes items with it) and the attribute
 * reader (which finds colour, material, pattern and type in any item's text, demo or Amazon).
 */
import { z } from 'zod';
import data from './vocabulary.json';

export const PATTERNS = ['solid', 'striped', 'checked', 'polka dot', 'floral'] as const;
export type Pattern = (typeof PATTERNS)[number];

export const SILHOUETTES = [
  'tee',
  'shirt',
  'sweater',
  'hoodie',
  'jacket',
  'coat',
  'dress',
  'skirt',
  'trousers',
  'shorts',
  'sneaker',
  'boot',
  'sandal',
  'heel',
  'hat',
  'cap',
  'scarf',
  'handbag',
  'backpack',
  'belt',
  'sunglasses',
  'watch',
  'necklace',
  'swimsuit',
] as const;
export type Silhouette = (typeof SILHOUETTES)[number];

const GarmentType = z.object({
  /** The leaf category tag, as Amazon's category paths name it. */
  category: z.string(),
  singular: z.string(),
  department: z.enum(['Clothing', 'Shoes', 'Accessories', 'Jewelry']),
  silhouette: z.enum(SILHOUETTES),
  audiences: z.array(z.string()),
  materials: z.array(z.string()),
  styles: z.array(z.string()),
  features: z.array(z.string()),
  price: z.tuple([z.number(), z.number()]),
  patterned: z.boolean(),
});
export type GarmentType = z.infer<typeof GarmentType>;

/** The word lists themselves live in vocabulary.json; this checks them once, at load. */
const Vocabulary = z.object({
  /** Colour names with the hex the demo renders them in. */
  colours: z.record(z.string(), z.string().regex(/^#[0-9a-f]{6}$/)),
  materials: z.array(z.string()),
  audiencePrefix: z.record(z.string(), z.string()),
  garmentTypes: z.array(GarmentType),
});
const vocabulary = Vocabulary.parse(data);

export const COLOURS: Readonly<Record<string, string>> = vocabulary.colours;
/** "#rrggbb" as [r, g, b], 0-255 each. */
export const rgbOf = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
export const MATERIALS: readonly string[] = vocabulary.materials;
export const AUDIENCE_PREFIX: Readonly<Record<string, string>> = vocabulary.audiencePrefix;
export const GARMENT_TYPES: readonly GarmentType[] = vocabulary.garmentTypes;

/** Nouns the catalog uses in the plural for one product ("boots", "jeans", "sunglasses"). */
export const plural = (noun: string) => /s$/i.test(noun) && !/dress$/i.test(noun);
/** "a" or "an" before a phrase, by its first letter. */
export const an = (phrase: string) => (/^[aeiou]/i.test(phrase) ? `an ${phrase}` : `a ${phrase}`);
/** an(), but nothing before a phrase about a plural `noun`: "an oversized tee", "ankle boots". */
export const withArticle = (phrase: string, noun: string) => (plural(noun) ? phrase : an(phrase));
