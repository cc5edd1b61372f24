import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Pool } from '../db/pool';
import { paths } from '../stack/config';
import { recordImage } from '../db/items';

export interface StoredImage {
  sha256: string;
  path: string;
}

/**
 * Content-addressed: the file is named by its digest, written to a temporary name and renamed, so a
 * crash never leaves a half-written image and storing the same bytes twice is a no-op.
 */
export async function storeImage(pool: Pool, bytes: Buffer): Promise<StoredImage> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const meta = await sharp(bytes).metadata();
  if (!meta.format) throw new Error('not an image sharp can read');
  // The header alone says nothing of the rest: decode it all, so a truncated file is refused here, not by an agent later.
  await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer();
  const ext = meta.format === 'jpeg' ? 'jpg' : meta.format;
  const rel = path.join(sha256.slice(0, 2), `${sha256}.${ext}`);
  const abs = path.join(paths.images(), rel);
  if (!fs.existsSync(abs)) {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const tmp = `${abs}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, abs);
  }
  await recordImage(pool, {
    sha256,
    path: rel,
    mime: `image/${meta.format}`,
    width: meta.width ?? null,
    height: meta.height ?? null,
    bytes: bytes.length,
  });
  return { sha256, path: rel };
}

export const imageAbsolutePath = (rel: string) => path.join(paths.images(), rel);
