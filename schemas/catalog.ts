import { z } from 'zod';

/** An image travels through workflows by reference only: the item it shows, where it lives, its digest. */
export const ImageRef = z.object({
  itemId: z.string(),
  path: z.string().describe('path relative to the image store root'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ImageRef = z.infer<typeof ImageRef>;

/** A catalog item as stored in PostgreSQL (table items). */
export const Item = z.object({
  id: z.string().min(1),
  source: z.enum(['demo', 'amazon']),
  title: z.string().min(1),
  description: z.string(),
  features: z.array(z.string()),
  categories: z.array(z.string()),
  price: z.number().nonnegative().nullable(),
  store: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  imageSha256: z.string().nullable(),
  imagePath: z.string().nullable(),
  /** The image's http(s) address at its source, when known: agents are sent it instead of the bytes. */
  imageUrl: z.string().nullable(),
});
export type Item = z.infer<typeof Item>;

/** {hi_res: [a, b], variant: ['MAIN', 'PT01']} -> [{hi_res: a, variant: 'MAIN'}, {hi_res: b, variant: 'PT01'}]. */
function imagesFromColumns(cols: Record<string, unknown>): unknown {
  const lists = Object.entries(cols).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  if (lists.length !== Object.keys(cols).length) return cols;
  const n = Math.max(0, ...lists.map(([, l]) => l.length));
  return Array.from({ length: n }, (_, i) => Object.fromEntries(lists.map(([k, l]) => [k, l[i] ?? null])));
}

/**
 * One line of Amazon Reviews 2023 item metadata, as the original files or the Hugging Face conversion
 * (McAuley-Lab/Amazon-Reviews-2023's `raw_meta_*`) write it; only the fields the method uses are checked.
 */
export const AmazonItemLine = z.object({
  // It names the item's image file and its id everywhere: nothing that could climb out of a folder.
  parent_asin: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
      "must be safe as a file name: letters, digits, '.', '_' and '-', starting with a letter or digit",
    ),
  title: z.string().min(1),
  features: z.array(z.string()).default([]),
  description: z.array(z.string()).default([]),
  categories: z.array(z.string()).default([]),
  // The Hugging Face conversion writes a missing price as the text "None" (or "").
  price: z.preprocess(
    (v) => (typeof v === 'string' && /^(none|null|—|-)?$/i.test(v.trim()) ? null : v),
    z.union([z.number().nonnegative(), z.string().regex(/^\$?\d+(\.\d+)?$/), z.null()]).default(null),
  ),
  // The original files list images as objects; the Hugging Face conversion as a dict of parallel lists.
  images: z.preprocess(
    (v) => (v && typeof v === 'object' && !Array.isArray(v) ? imagesFromColumns(v as Record<string, unknown>) : v),
    z
      .array(
        z.object({
          variant: z.string().nullable().optional(),
          thumb: z.string().nullable().optional(),
          large: z.string().nullable().optional(),
          hi_res: z.string().nullable().optional(),
        }),
      )
      .default([]),
  ),
  // The Hugging Face conversion keeps details as JSON text.
  details: z.preprocess((v, ctx) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON text (the Hugging Face form holds a JSON object here)' });
      return z.NEVER;
    }
  }, z.record(z.string(), z.unknown()).default({})),
  store: z.string().nullable().default(null),
  main_category: z.string().nullable().optional(),
});
export type AmazonItemLine = z.infer<typeof AmazonItemLine>;
