import fs from 'node:fs';
import path from 'node:path';
import { writeJsonl } from '../rec-benchmark/files';
import type { ExportSummary } from './records';
import type { Dataset } from './records';

/** What the default format writes at the top of its folder. */
export const MUSE_ENTRIES = ['conversations', 'dataset.jsonl', 'items.jsonl', 'images', 'summary.json'];

/** Every image a record or an item names, once. */
export const imageNames = (ds: Dataset) =>
  [
    ...new Set([
      ...ds.records.flatMap((r) => r.Conversations.flatMap((t) => t.Image)),
      ...ds.items.flatMap((it) => (it.image ? [it.image] : [])),
    ]),
  ].sort();

/** Copies the dataset's images into <dir>/images/ under the names the records use. */
export function copyImages(ds: Dataset, dir: string): number {
  const names = imageNames(ds);
  fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
  for (const name of names) fs.copyFileSync(ds.imageFile(name), path.join(dir, name));
  return names.length;
}

export const summaryOf = (ds: Dataset): ExportSummary => ({
  batch: ds.batchId,
  exportedAt: new Date().toISOString(),
  ...ds.counts,
  ...(ds.generation ? { generation: ds.generation } : {}),
});

/** The Muse record format: conversations/<id>.json, dataset.jsonl, items.jsonl, images/, summary.json. */
export async function writeMuseFormat(ds: Dataset, dir: string): Promise<void> {
  fs.mkdirSync(path.join(dir, 'conversations'), { recursive: true });
  for (const r of ds.records)
    fs.writeFileSync(path.join(dir, 'conversations', `${r.Conversation_id}.json`), JSON.stringify(r, null, 2) + '\n');
  writeJsonl(path.join(dir, 'dataset.jsonl'), ds.records);
  writeJsonl(path.join(dir, 'items.jsonl'), ds.items);
  copyImages(ds, dir);
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summaryOf(ds), null, 2) + '\n');
}
