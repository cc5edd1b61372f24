import fs from 'node:fs';
import path from 'node:path';
import { storeImage } from '../catalog/images';
import type { Pool } from '../db/pool';
import { buildRecords, describeCounts } from '../export';
import type { Thresholds } from '../schemas/review';
import type { ImageRef } from '../schemas/catalog';
import { type EvalItem } from '../schemas/eval';
import { imagesOf, noRecordsError, readRecordFiles, resolveImage } from '../readers/muse-record';

export interface Loaded {
  /** 'batch:<id>' or 'folder:<absolute path>': part of the evaluation's identity. */
  source: string;
  /** Every usable conversation; images are resolved lazily, only for the sampled ones. */
  records: Array<{ recordId: string; resolve: () => Promise<EvalItem> }>;
  /** Records left out, each with its file, line and field. */
  problems: string[];
}

/** A batch as its export would hold it (the same thresholds, accepted rewrites), read from PostgreSQL. */
export async function loadBatch(pool: Pool, batchId: string, thresholds: Partial<Thresholds> = {}): Promise<Loaded> {
  const { records, images, counts } = await buildRecords(pool, batchId, thresholds);
  if (counts.considered === 0) throw new Error(`${batchId} is neither a folder nor a batch in the database`);
  if (records.length === 0)
    throw new Error(`batch ${batchId} has no conversation to evaluate: ${describeCounts(counts)}`);
  return {
    source: `batch:${batchId}?min-score=${counts.thresholds.minScore}&screener=${counts.thresholds.requireScreener}`,
    problems: [],
    records: records.map((r) => ({
      recordId: r.Conversation_id,
      resolve: async () =>
        toItem(
          r.Conversation_id,
          r.Persona,
          r.Scenario,
          r.Conversations.map((t) => ({
            speaker: 'User' in t ? ('User' as const) : ('Assistant' as const),
            text: 'User' in t ? t.User : t.Assistant,
            images: t.Image,
          })),
          async (name) => images.get(name)!,
        ),
    })),
  };
}

/**
 * A folder holding a dataset in the Muse record format: dataset.jsonl, or else every *.jsonl file, or
 * else every *.json file (one record, or an array of records). Image paths are relative to the folder;
 * the images are copied into the image store so the judge's activities can reach them by reference.
 */
export async function loadFolder(pool: Pool, dir: string): Promise<Loaded> {
  const abs = path.resolve(dir);
  const { found, problems } = readRecordFiles(abs);
  const records: Loaded['records'] = [];
  for (const { where, rec } of found) {
    const turns = rec.Conversations.map((t) => ({
      speaker: t.User !== undefined ? ('User' as const) : ('Assistant' as const),
      text: (t.User ?? t.Assistant)!,
      images: imagesOf(t),
    }));
    const missing = turns.flatMap((t) => t.images).filter((p) => resolveImage(abs, p) === undefined);
    if (missing.length) {
      problems.push(`${where}: Image: ${missing.length} file(s) not in the folder, e.g. ${missing[0]}`);
      continue;
    }
    for (const t of turns) t.images = t.images.map((p) => resolveImage(abs, p)!);
    const recordId = String(rec.Conversation_id ?? path.relative(abs, where));
    records.push({
      recordId,
      resolve: () =>
        toItem(recordId, rec.Persona ?? '', rec.Scenario ?? '', turns, async (p) => {
          const stored = await storeImage(pool, fs.readFileSync(path.join(abs, p)));
          return { itemId: path.basename(p, path.extname(p)), ...stored };
        }),
    });
  }
  if (records.length === 0) throw noRecordsError(abs, problems);
  return { source: `folder:${abs}`, records, problems };
}

/** Numbers each distinct image of the conversation (from 1) and points the turns at them. */
async function toItem(
  recordId: string,
  persona: string,
  scenario: string,
  turns: Array<{ speaker: 'User' | 'Assistant'; text: string; images: string[] }>,
  image: (name: string) => Promise<ImageRef>,
): Promise<EvalItem> {
  const names: string[] = [];
  const dialogue = turns.map((t) => ({
    speaker: t.speaker,
    text: t.text,
    images: t.images.map((n) => (names.includes(n) ? names.indexOf(n) : names.push(n) - 1) + 1),
  }));
  return { recordId, persona, scenario, dialogue, images: await Promise.all(names.map(image)) };
}
