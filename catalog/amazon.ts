import fs from 'node:fs';
import { describeProblems } from '../schemas/problems';
import path from 'node:path';
import readline from 'node:readline';
import type { Pool } from '../db/pool';
import { AmazonItemLine } from '../schemas/catalog';
import { storeImage } from './images';
import { refreshCategories, upsertItem } from './store';

export interface LineError {
  line: number;
  problem: string;
}
export interface ImportReport {
  imported: number;
  withoutImage: number;
  errors: LineError[];
}

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

const mainImage = (rec: AmazonItemLine) => rec.images.find((i) => i.variant === 'MAIN') ?? rec.images[0];
const mainImageUrl = (rec: AmazonItemLine) => [mainImage(rec)?.hi_res, mainImage(rec)?.large].find((u) => u && /^https?:\/\//.test(u)) ?? null;

/** The main image: <asin>.<ext> in the folder, else the file named like the MAIN image's URL. */
function findMainImage(dir: string, rec: AmazonItemLine): string | undefined {
  for (const ext of IMAGE_EXTENSIONS) {
    const p = path.join(dir, rec.parent_asin + ext);
    if (fs.existsSync(p)) return p;
  }
  const main = mainImage(rec);
  for (const url of [main?.hi_res, main?.large, main?.thumb]) {
    if (!url) continue;
    const p = path.join(dir, path.basename(new URL(url, 'http://x/').pathname));
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Imports Amazon Reviews 2023 item metadata (JSON lines). A bad line is reported with its number and
 * what is wrong, and every good line is still imported; re-importing a file updates items in place.
 */
export async function importAmazonCatalog(pool: Pool, file: string, imageDir?: string, onProgress: (n: number) => void = () => {}): Promise<ImportReport> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  if (imageDir && !fs.statSync(imageDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--images ${imageDir}: not a folder`);
  const report: ImportReport = { imported: 0, withoutImage: 0, errors: [] };
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (!raw.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      report.errors.push({ line: n, problem: `not valid JSON (${(e as Error).message})` });
      continue;
    }
    const parsed = AmazonItemLine.safeParse(json);
    if (!parsed.success) {
      report.errors.push({ line: n, problem: describeProblems(parsed.error) });
      continue;
    }
    const rec = parsed.data;
    let imageSha256: string | null = null;
    const imagePath = imageDir ? findMainImage(imageDir, rec) : undefined;
    if (imagePath) {
      try {
        imageSha256 = (await storeImage(pool, fs.readFileSync(imagePath))).sha256;
      } catch (e) {
        report.errors.push({ line: n, problem: `image ${imagePath}: ${(e as Error).message}` });
        continue;
      }
    } else report.withoutImage++;
    await upsertItem(pool, {
      id: rec.parent_asin,
      source: 'amazon',
      title: rec.title,
      description: rec.description.join(' '),
      features: rec.features,
      categories: rec.categories,
      price: typeof rec.price === 'string' ? Number(rec.price.replace('$', '')) : rec.price,
      store: rec.store,
      details: rec.details,
      imageSha256,
      imageUrl: mainImageUrl(rec),
    });
    report.imported++;
    onProgress(report.imported);
  }
  await refreshCategories(pool);
  return report;
}
