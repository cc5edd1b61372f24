import type { Pool } from '../db/pool';
import { Rng } from '../random';
import { garmentSvg } from './svg';
import { storeImage } from './images';
import { refreshCategories, upsertItem, type NewItem } from '../db/items';
import {
  AUDIENCE_PREFIX,
  COLOURS,
  GARMENT_TYPES,
  PATTERNS,
  withArticle,
  type GarmentType,
  type Pattern,
} from './vocabulary';
import sharp from 'sharp';

const BRANDS = [
  'Northwind',
  'Alder & Co',
  'Kestrel',
  'Marlow',
  'Tidewater',
  'Juniper Lane',
  'Copperfield',
  'Halden',
  'Saltmarsh',
  'Everly',
  'Brightwater',
  'Oak & Thread',
  'Fenwick',
  'Larkspur',
  'Redcliffe',
  'Mossgrove',
  'Ashby Studio',
  'Wrenfield',
  'Calder',
  'Pinecrest',
  'Sable Row',
  'Thistledown',
  'Harbourline',
  'Quillon',
];
const OCCASIONS: Record<GarmentType['department'], readonly string[]> = {
  Clothing: [
    'everyday wear',
    'weekend outings',
    'the office',
    'evening events',
    'travel',
    'weddings and parties',
    'casual dinners',
  ],
  Shoes: ['all-day walking', 'the office', 'evening events', 'weekend outings', 'travel', 'outdoor adventures'],
  Accessories: ['everyday use', 'travel', 'the office', 'weekend outings', 'gifting', 'outdoor adventures'],
  Jewelry: ['everyday wear', 'evening events', 'gifting', 'weddings and parties'],
};
/**
 * Enough variants of each type that retrieval is a real task: the recommender's top 8 of a type rarely
 * holds the target by chance, as in a real catalog (13 per type made the benchmark trivial).
 */
export const DEMO_ITEMS_PER_TYPE = 800;
/**
 * The first 120 of a type cycle through every colour evenly (the catalog's earlier size: databases that
 * hold it keep those items unchanged when `catalog demo` runs again). The rest follow a Zipf law over
 * the type's colours, materials and cuts, as shops stock many blacks and few lavenders, so a common
 * look is shared by dozens of items that only brand, sub-style and details tell apart.
 */
const EVEN_PER_TYPE = 120;

export interface DemoItem {
  id: string;
  type: GarmentType;
  audience: string;
  colour: string;
  pattern: Pattern;
  material: string;
  style: string;
  features: string[];
  brand: string;
  price: number;
  occasion: string;
  /** Which of the title and description phrasings it is written in: catalogs do not word every item alike. */
  wording: number;
}

/** Weights 1, 1/2, 1/3, ...: the first of a list is the one a shop stocks most. */
const zipf = <T>(xs: readonly T[]) => xs.map((x, rank) => [x, 1 / (rank + 1)] as const);

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The demo catalog as data: deterministic, 800 variants of each of the 26 garment types (20,800 items). */
export function demoItems(): DemoItem[] {
  const out: DemoItem[] = [];
  for (const type of GARMENT_TYPES) {
    const rng = new Rng('demo-catalog', type.category);
    const colours = rng.shuffle(Object.keys(COLOURS));
    const stock = { colours: zipf(colours), materials: zipf(type.materials), styles: zipf(type.styles) };
    for (let n = 0; n < DEMO_ITEMS_PER_TYPE; n++) {
      const popular = n >= EVEN_PER_TYPE;
      const pattern: Pattern = type.patterned && rng.chance(0.45) ? rng.pick(PATTERNS.slice(1)) : 'solid';
      const [lo, hi] = type.price;
      out.push({
        id: `demo-${type.category.toLowerCase().replace(/[^a-z]+/g, '-')}-${String(n + 1).padStart(2, '0')}`,
        type,
        audience: rng.pick(type.audiences),
        colour: popular ? rng.weighted(stock.colours) : colours[n % colours.length],
        pattern,
        material: popular ? rng.weighted(stock.materials) : rng.pick(type.materials),
        style: popular ? rng.weighted(stock.styles) : rng.pick(type.styles),
        features: rng.shuffle(type.features).slice(0, 3 + rng.int(0, 1)),
        brand: rng.pick(BRANDS),
        price: Math.round((lo + rng.next() * (hi - lo)) * 100) / 100 - 0.01,
        occasion: rng.pick(OCCASIONS[type.department]),
        wording: rng.int(0, 2),
      });
    }
  }
  return out;
}

export function demoTitle(d: DemoItem): string {
  const pattern = d.pattern === 'solid' ? '' : `${cap(d.pattern)} `;
  const who = AUDIENCE_PREFIX[d.audience];
  return [
    `${d.brand} ${who} ${cap(d.colour)} ${pattern}${cap(d.material)} ${cap(d.style)} ${d.type.singular}`,
    `${who} ${cap(d.style)} ${d.type.singular} in ${cap(d.colour)} ${pattern}${cap(d.material)} by ${d.brand}`,
    `${d.brand} ${d.type.singular}, ${who}, ${cap(d.style)}, ${pattern}${cap(d.colour)} ${cap(d.material)}`,
  ][d.wording];
}

function demoDescription(d: DemoItem): string {
  const patterned = d.pattern === 'solid' ? '' : ` with a ${d.pattern} pattern`;
  const kind = withArticle(`${d.style} ${d.type.singular.toLowerCase()}`, d.type.singular);
  const [f1, f2] = d.features;
  return [
    `${cap(kind)} in ${d.colour} ${d.material}${patterned}. It comes with ${f1} and ${f2}, and it is made for ${d.occasion}.`,
    `Made for ${d.occasion}: ${kind} cut from ${d.colour} ${d.material}${patterned}. ${cap(f1)}; ${f2}.`,
    `${d.brand}'s ${d.style} ${d.type.singular.toLowerCase()}, ${d.colour} ${d.material}${patterned}, with ${f1}. A pick for ${d.occasion}; ${f2}.`,
  ][d.wording];
}

async function renderImage(d: DemoItem): Promise<Buffer> {
  const accent = ['white', 'ivory', 'yellow', 'beige', 'silver', 'sky blue', 'blush'].includes(d.colour)
    ? COLOURS.navy
    : COLOURS.ivory;
  const svg = garmentSvg(d.type.silhouette, COLOURS[d.colour], d.pattern, accent, '#f6f6f4');
  // Fixed PNG settings so the same item always hashes to the same digest.
  return sharp(Buffer.from(svg)).png({ compressionLevel: 9, palette: false }).toBuffer();
}

/** A demo item's catalog record, without its image (rendered and stored on import). */
export function demoRecord(d: DemoItem): Omit<NewItem, 'imageSha256'> {
  return {
    id: d.id,
    source: 'demo',
    title: demoTitle(d),
    description: demoDescription(d),
    features: [cap(d.material), cap(d.style), ...d.features.map(cap), `Ideal for ${d.occasion}`],
    categories: ['Clothing, Shoes & Jewelry', d.audience, d.type.department, d.type.category],
    price: d.price,
    store: d.brand,
    details: { Colour: d.colour, Material: d.material, Pattern: d.pattern, Style: d.style, Department: d.audience },
    imageUrl: null,
  };
}

/** Renders and stores the demo catalog; safe to run again (items and images are upserted). */
export async function importDemoCatalog(
  pool: Pool,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<number> {
  const items = demoItems();
  // Items that look alike (same silhouette, colour and pattern) share one image: rendered and stored once.
  const images = new Map<string, Promise<{ sha256: string }>>();
  const imageOf = (d: DemoItem) => {
    const key = `${d.type.silhouette}|${d.colour}|${d.pattern}`;
    if (!images.has(key))
      images.set(
        key,
        renderImage(d).then((png) => storeImage(pool, png)),
      );
    return images.get(key)!;
  };
  let done = 0;
  // A few at a time: the database round trips overlap, and the pool is never asked for more than it has.
  for (let k = 0; k < items.length; k += 8)
    await Promise.all(
      items.slice(k, k + 8).map(async (d) => {
        await upsertItem(pool, { ...demoRecord(d), imageSha256: (await imageOf(d)).sha256 });
        onProgress(++done, items.length);
      }),
    );
  await refreshCategories(pool);
  return items.length;
}
