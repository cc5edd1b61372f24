import fs from 'node:fs';
import path from 'node:path';
import { imageAbsolutePath } from '../catalog/images';
import type { Pool } from '../db/pool';
import { datasetItems } from '../db/dataset';
import type { Thresholds } from '../schemas/review';
import { writeExportFolder } from './folder';
import { writeHfFormat, HF_ENTRIES } from './hf';
import { writeFinetuneFormat, LLAVA_ENTRIES, OPENAI_FT_ENTRIES } from './finetune';
import { MUSE_ENTRIES, summaryOf, writeMuseFormat, imageNames } from './muse-format';
import {
  datasetFromBatch,
  datasetFromFolder,
  describeCounts,
  exportItemOf,
  type Dataset,
  type DatasetCounts,
} from './records';
import { assignSplits, DEFAULT_SPLIT, DEFAULT_SPLIT_SEED, parseSplit, type Split } from './splits';

export { buildRecords, datasetCounts, describeCounts, DatasetCounts, type Dataset } from './records';

/** The formats `muse export` writes: muse (the Muse record format, the default), hf, openai-ft, llava. */
export const EXPORT_FORMATS = ['muse', 'hf', 'openai-ft', 'llava'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format?: ExportFormat;
  force?: boolean;
  /** train/validation/test percentages, "80/10/10" by default. */
  split?: string;
  splitSeed?: number;
  /** The dataset card's license (a Hub license id); "other" until the user says. */
  license?: string;
}

export interface ExportReport {
  dir: string;
  format: ExportFormat;
  conversations: number;
  utterances: number;
  images: number;
  counts: DatasetCounts;
  /** Rows per split: conversations (hf) or examples (openai-ft, llava); absent for the muse format. */
  splits?: Record<Split, number>;
  /** The exported conversations' ids, in batch order. */
  ids: string[];
}

/** Writes a dataset in one format into `out`, safely (see writeExportFolder). */
export async function exportDataset(ds: Dataset, out: string, o: ExportOptions = {}): Promise<ExportReport> {
  const format = o.format ?? 'muse';
  const ratios = parseSplit(o.split ?? DEFAULT_SPLIT);
  const seed = o.splitSeed ?? DEFAULT_SPLIT_SEED;
  const splits = assignSplits(ds.records, ratios, seed);
  const entries = { muse: MUSE_ENTRIES, hf: HF_ENTRIES, 'openai-ft': OPENAI_FT_ENTRIES, llava: LLAVA_ENTRIES }[format];
  let sizes: Record<Split, number> | undefined;
  const dir = await writeExportFolder(out, { force: o.force, batchId: ds.batchId, format, entries }, async (tmp) => {
    if (format === 'muse') return writeMuseFormat(ds, tmp);
    if (format === 'hf') sizes = await writeHfFormat(ds, tmp, splits, { ratios, seed, license: o.license ?? 'other' });
    else sizes = await writeFinetuneFormat(ds, tmp, format, splits);
    fs.writeFileSync(
      path.join(tmp, 'summary.json'),
      JSON.stringify({ ...summaryOf(ds), format, split: { ratios, seed, sizes } }, null, 2) + '\n',
    );
  });
  return {
    dir,
    format,
    conversations: ds.records.length,
    utterances: ds.records.reduce((n, r) => n + r.Conversations.length, 0),
    images: imageNames(ds).length,
    counts: ds.counts,
    splits: sizes,
    ids: ds.records.map((r) => r.Conversation_id),
  };
}

/** A batch's dataset as PostgreSQL holds it (the thresholds applied), with its images in the image store. */
export async function loadBatchDataset(pool: Pool, batchId: string, thresholds: Partial<Thresholds> = {}) {
  return datasetFromBatch(pool, batchId, thresholds, imageAbsolutePath);
}

/** A previous export (muse's format) read back; items it lacks (older exports) are looked up in the catalog. */
export async function loadExportFolder(folder: string, pool?: Pool, o: { itemsOptional?: boolean } = {}) {
  return datasetFromFolder(folder, pool && (async (ids) => (await datasetItems(pool, ids)).map(exportItemOf)), o);
}

/** The batch's dataset in the Muse record format (or another), thresholds applied. No LLM is called. */
export async function exportBatch(
  pool: Pool,
  batchId: string,
  out: string,
  thresholds: Partial<Thresholds> = {},
  o: ExportOptions = {},
): Promise<ExportReport> {
  const ds = await loadBatchDataset(pool, batchId, thresholds);
  if (ds.counts.considered === 0)
    throw new Error(`batch ${batchId} has no conversations yet (\`muse status ${batchId}\` says where it is)`);
  if (ds.records.length === 0)
    throw new Error(`batch ${batchId} has no conversation to export: ${describeCounts(ds.counts)}`);
  return exportDataset(ds, out, o);
}
