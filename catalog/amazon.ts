import fs from 'node:fs';
import { describeProblems } from '../schemas/problems';
import path from 'node:path';
import type { Pool } from '../db/pool';
import { AmazonItemLine } from '../schemas/catalog';
import { storeImage } from './images';
import { refreshCategories, upsertItem } from '../db/items';

export interface LineError {
  line: number;
  problem: string;
}
export interface ImportReport {
  imported: number;
  withoutImage: number;
  /** Imported items with an empty `categories`: stage 1 and 2 cannot use them as targets. */
  withoutCategories: number;
  /** Set when the file as a whole cannot serve the method (no item has categories). */
  warning?: string;
  errors: LineError[];
}

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];
/** Far above any real item's metadata; a longer line is reported, not read into memory whole. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

const mainImage = (rec: AmazonItemLine) => rec.images.find((i) => i.variant === 'MAIN') ?? rec.images[0];
const mainImageUrl = (rec: AmazonItemLine) =>
  [mainImage(rec)?.hi_res, mainImage(rec)?.large].find((u) => u && /^https?:\/\//.test(u)) ?? null;

/**
 * The main image: <asin>.<ext> in the folder, else the file named like the MAIN image's URL. Only a
 * regular file whose real path (links resolved) lies inside the folder counts; a link that leads out
 * of it is an error of the line, so no byte outside the folder the user named is ever read.
 */
function findMainImage(realDir: string, dir: string, rec: AmazonItemLine): string | undefined {
  const main = mainImage(rec);
  const names = [
    ...IMAGE_EXTENSIONS.map((ext) => rec.parent_asin + ext),
    ...[main?.hi_res, main?.large, main?.thumb]
      .filter((u): u is string => !!u)
      .map((url) => path.basename(new URL(url, 'http://x/').pathname)),
  ];
  for (const name of names) {
    const p = path.join(dir, name);
    if (!fs.existsSync(p)) continue;
    const real = fs.realpathSync(p);
    if (path.relative(realDir, real).startsWith('..') || path.isAbsolute(path.relative(realDir, real)))
      throw new Error(
        `image ${p}: it leads outside --images ${dir} (to ${real}); only files inside that folder are read`,
      );
    if (fs.statSync(real).isFile()) return real;
  }
  return undefined;
}

/** Lines of a file as bytes, without decoding (so bad UTF-8 can be reported) and without holding an over-long line. */
async function* byteLines(file: string): AsyncGenerator<{ bytes: Buffer; tooLong: number }> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
      const piece = chunk.subarray(from, nl);
      const total = size + piece.length;
      yield total > MAX_LINE_BYTES
        ? { bytes: Buffer.alloc(0), tooLong: total }
        : { bytes: Buffer.concat([...parts, piece]), tooLong: 0 };
      parts = [];
      size = 0;
      from = nl + 1;
    }
    const rest = chunk.subarray(from);
    size += rest.length;
    if (size <= MAX_LINE_BYTES) parts.push(Buffer.from(rest));
    else parts = [];
  }
  if (size > 0)
    yield size > MAX_LINE_BYTES
      ? { bytes: Buffer.alloc(0), tooLong: size }
      : { bytes: Buffer.concat(parts), tooLong: 0 };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The first string (or key) holding a NUL character, which PostgreSQL text cannot store: its field path. */
function nulField(v: unknown, at: string): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? at : undefined;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const f = nulField(x, `${at}[${i}]`);
      if (f) return f;
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const f = k.includes('\u0000') ? `${at ? `${at}.` : ''}${JSON.stringify(k)}` : nulField(x, at ? `${at}.${k}` : k);
      if (f) return f;
    }
  }
  return undefined;
}

/**
 * Imports Amazon Reviews 2023 item metadata (JSON lines). A bad line (not UTF-8, too long, not JSON,
 * a field the schema refuses, an unreadable image, a database error) is reported with its number, field
 * and problem, and every good line is still imported; re-importing a file updates items in place.
 */
export async function importAmazonCatalog(
  pool: Pool,
  file: string,
  imageDir?: string,
  onProgress: (n: number) => void = () => {},
): Promise<ImportReport> {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${file}: no such file`);
  if (stat.isDirectory())
    throw new Error(`${file}: a folder, not a file; give the .jsonl file of item metadata inside it`);
  if (imageDir && !fs.statSync(imageDir, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`--images ${imageDir}: not a folder`);
  const realImageDir = imageDir && fs.realpathSync(imageDir);
  const report: ImportReport = { imported: 0, withoutImage: 0, withoutCategories: 0, errors: [] };
  let n = 0;
  for await (const { bytes, tooLong } of byteLines(file)) {
    n++;
    const reject = (problem: string) => report.errors.push({ line: n, problem });
    if (tooLong) {
      reject(
        `the line is ${tooLong.toLocaleString('en')} bytes, more than the ${MAX_LINE_BYTES / 1024 / 1024} MiB a catalog line may have`,
      );
      continue;
    }
    let raw: string;
    try {
      raw = utf8.decode(bytes);
    } catch {
      const at = firstBadUtf8(bytes);
      reject(
        `not valid UTF-8 (byte ${at + 1} of the line is 0x${bytes[at]?.toString(16).padStart(2, '0')}); save the file as UTF-8`,
      );
      continue;
    }
    if (!raw.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      reject(`not valid JSON (${(e as Error).message})`);
      continue;
    }
    const nul = nulField(json, '');
    if (nul) {
      reject(`${nul}: contains a NUL character (\\u0000), which PostgreSQL cannot store`);
      continue;
    }
    const parsed = AmazonItemLine.safeParse(json);
    if (!parsed.success) {
      reject(describeProblems(parsed.error));
      continue;
    }
    const rec = parsed.data;
    try {
      let imageSha256: string | null = null;
      const imagePath = imageDir ? findMainImage(realImageDir!, imageDir, rec) : undefined;
      if (imagePath) {
        try {
          imageSha256 = (await storeImage(pool, fs.readFileSync(imagePath))).sha256;
        } catch (e) {
          throw new Error(`image ${imagePath}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
        }
      } else report.withoutImage++;
      try {
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
      } catch (e) {
        throw new Error(`database: ${(e as Error).message}`, { cause: e });
      }
    } catch (e) {
      reject((e as Error).message);
      continue;
    }
    report.imported++;
    if (rec.categories.length === 0) report.withoutCategories++;
    onProgress(report.imported);
  }
  await refreshCategories(pool);
  // Stage 1 filters product-type categories and stage 2 samples targets by them: a file without any
  // (Amazon_Fashion's are all empty) would only fail there, much later, so it is said here.
  if (report.imported > 0 && report.withoutCategories === report.imported)
    report.warning = `none of the ${report.imported} items imported from ${file} has categories (Amazon Reviews 2023's Amazon_Fashion file leaves them all empty), so stage 1 finds no product type and stage 2 no target: import a file whose items have categories, such as Clothing_Shoes_and_Jewelry`;
  return report;
}

/** Where a byte sequence stops being UTF-8 (the decoder says whether it is; this finds the byte to name). */
function firstBadUtf8(b: Buffer): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    const follow =
      c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (follow < 0) return i;
    for (let k = 1; k <= follow; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += follow + 1;
  }
  return 0;
}
