import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import {
  describeCounts,
  exportBatch,
  exportDataset,
  loadExportFolder,
  EXPORT_FORMATS,
  type ExportReport,
} from '../../export';
import { DEFAULT_SPLIT, DEFAULT_SPLIT_SEED } from '../../export/splits';
import { listProblems } from '../../rec-benchmark/files';
import { type Pool } from '../../db/pool';
import { int, withThresholds, thresholdsOf, withSession } from './shared';

export function register(program: Command): void {
  withThresholds(
    program
      .command('export')
      .description(
        'write a dataset: the Muse record format (default: one JSON per conversation, a JSONL, items, images, summary.json), the Hugging Face layout (Parquet splits, items.parquet, a dataset card), or fine-tuning files (OpenAI chat JSONL, LLaVA JSON)',
      )
      .argument('[batch]', 'the batch to export (or --from a previous export)')
      .addOption(new Option('--format <name>', 'what to write').choices(EXPORT_FORMATS).default('muse'))
      .option(
        '--from <folder>',
        "a previous export in muse's format to convert, instead of a batch (no database needed)",
      )
      .option(
        '--out <dir>',
        'output folder (default out/<batch>, or out/<batch>-<format>); a folder holding other files is refused',
      )
      .option('--split <ratios>', 'train/validation/test percentages (hf, openai-ft, llava)', DEFAULT_SPLIT)
      .option('--split-seed <n>', 'seed of the stratified split draw', int('--split-seed'), DEFAULT_SPLIT_SEED)
      .option('--license <id>', "the dataset card's license, as a Hub license id (e.g. cc-by-4.0)", 'other')
      .option('--force', 'write into a folder that holds other files, beside them (they are never touched)'),
  ).action(async (batchArg: string | undefined, o) => {
    if (!batchArg === !o.from) throw new Error('name a batch, or a previous export with --from <folder> (not both)');
    const opts = { format: o.format, force: o.force, split: o.split, splitSeed: o.splitSeed, license: o.license };
    const outOf = (batchId: string) =>
      o.out ?? path.join('out', o.format === 'muse' ? batchId : `${batchId}-${o.format}`);
    let r: ExportReport;
    if (o.from) {
      // An old export without items.jsonl needs the catalog; a current one is converted offline.
      const needsCatalog = !fs.existsSync(path.join(o.from, 'items.jsonl'));
      const convert = async (pool?: Pool) => {
        const { dataset, problems } = await loadExportFolder(o.from, pool);
        if (problems.length) console.error(`left out of ${o.from} (kept the rest):\n${listProblems(problems)}`);
        return exportDataset(dataset, outOf(dataset.batchId), opts);
      };
      r = needsCatalog ? await withSession((s) => convert(s.pool)) : await convert();
    } else r = await withSession((s) => exportBatch(s.pool, batchArg!, outOf(batchArg!), thresholdsOf(o), opts));
    const splits = r.splits
      ? `; ${Object.entries(r.splits)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} ${r.format === 'hf' ? 'conversations' : 'examples'}`
      : '';
    console.log(
      `exported ${r.conversations} conversations, ${r.utterances} utterances, ${r.images} images as ${r.format} to ${r.dir}${splits}\n${describeCounts(r.counts)} (no LLM call; counts in summary.json)`,
    );
  });
}
