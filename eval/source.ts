import fs from 'node:fs';
import path from 'node:path';
import { listProblems, parseJsonl } from '../rec-benchmark/files';
import { storeImage } from '../catalog/images';
import type { Pool } from '../db/pool';
import { buildRecords, describeCounts } from '../export';
import type { Thresholds } from '../schemas/review';
import type { ImageRef } from '../schemas/catalog';
import { describeProblems } from '../schemas/problems';
import { ForeignRecord, type EvalItem } from './schema';

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
  const files = fs.readdirSync(abs);
  const problems: string[] = [];
  const found: Array<{ where: string; rec: ForeignRecord }> = [];
  const jsonl = files.includes('dataset.jsonl') ? ['dataset.jsonl'] : files.filter((f) => f.endsWith('.jsonl')).sort();
  if (jsonl.length) {
    for (const f of jsonl) {
      const { rows, errors } = parseJsonl(path.join(abs, f), ForeignRecord);
      problems.push(...errors);
      found.push(...rows.map((r) => ({ where: `${path.join(abs, f)}:${r.line}`, rec: r.row })));
    }
  } else {
    const jsonDirs = [abs, path.join(abs, 'conversations')].filter((d) => fs.existsSync(d));
    for (const d of jsonDirs)
      for (const f of fs
        .readdirSync(d)
        .filter((x) => x.endsWith('.json') && x !== 'summary.json')
        .sort()) {
        const file = path.join(d, f);
        let json: unknown;
        try {
          json = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch (e) {
          problems.push(`${file}: not valid JSON (${(e as Error).message})`);
          continue;
        }
        (Array.isArray(json) ? json : [json]).forEach((x, i) => {
          const where = Array.isArray(json) ? `${file}[${i}]` : file;
          const r = ForeignRecord.safeParse(x);
          if (r.success) found.push({ where, rec: r.data });
          else problems.push(`${where}: ${describeProblems(r.error)}`);
        });
      }
  }
  if (found.length === 0)
    throw new Error(
      `${abs}: no conversation in the Muse record format found${problems.length ? `:\n${listProblems(problems)}` : ' (expected dataset.jsonl, *.jsonl or *.json files)'}`,
    );
  const records: Loaded['records'] = [];
  for (const { where, rec } of found) {
    const turns = rec.Conversations.map((t) => ({
      speaker: t.User !== undefined ? ('User' as const) : ('Assistant' as const),
      text: (t.User ?? t.Assistant)!,
      images: t.Image == null ? [] : Array.isArray(t.Image) ? t.Image : [t.Image],
    }));
    const missing = turns.flatMap((t) => t.images).filter((p) => !fs.existsSync(path.join(abs, p)));
    if (missing.length) {
      problems.push(`${where}: Image: ${missing.length} file(s) not in the folder, e.g. ${missing[0]}`);
      continue;
    }
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
