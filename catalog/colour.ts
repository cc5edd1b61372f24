import sharp from 'sharp';
import { COLOURS, rgbOf } from './vocabulary';

const PALETTE = Object.entries(COLOURS).map(([name, hex]) => [name, rgbOf(hex)] as const);
const nearest = (r: number, g: number, b: number) => {
  let best = PALETTE[0][0];
  let d = Infinity;
  for (const [name, [pr, pg, pb]] of PALETTE) {
    const e = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
    if (e < d) [best, d] = [name, e];
  }
  return best;
};

/** Stored images are content-addressed, so a file's colours never change: read once per file. */
const read = new Map<string, Promise<string[]>>();
const MAX_REMEMBERED = 20_000;

/**
 * The named colours (from the catalog vocabulary) that cover most of an image, most first. Pixels of the
 * background are left out: the colour of the four corners, which product photos and the demo renders share.
 * Items that share an image (variants, the demo's look-alikes) decode it once.
 */
export function dominantColours(file: string, k = 2): Promise<string[]> {
  const key = `${k}|${file}`;
  if (!read.has(key)) {
    if (read.size >= MAX_REMEMBERED) read.clear();
    // A failed read is not remembered: the next caller tries again.
    read.set(
      key,
      readColours(file, k).catch((e) => (read.delete(key), Promise.reject(e))),
    );
  }
  return read.get(key)!;
}

async function readColours(file: string, k: number): Promise<string[]> {
  const { data, info } = await sharp(file)
    .removeAlpha()
    .resize(48, 48, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const px = (i: number) => [data[i * 3], data[i * 3 + 1], data[i * 3 + 2]] as const;
  const w = info.width;
  const corners = [0, w - 1, w * (info.height - 1), w * info.height - 1].map(px);
  const isBackground = (r: number, g: number, b: number) =>
    corners.some(([cr, cg, cb]) => Math.abs(r - cr) + Math.abs(g - cg) + Math.abs(b - cb) < 24);
  const counts = new Map<string, number>();
  for (let i = 0; i < w * info.height; i++) {
    const [r, g, b] = px(i);
    if (!isBackground(r, g, b)) counts.set(nearest(r, g, b), (counts.get(nearest(r, g, b)) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name]) => name);
}
