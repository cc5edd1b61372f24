import fs from 'node:fs';
import path from 'node:path';
import { listProblems, parseJsonl } from '../rec-benchmark/files';
import { describeProblems } from '../schemas/problems';
import { ForeignRecord } from '../eval/schema';

/**
 * Datasets in the Muse record format from a folder, as any tool wrote them: our exports, and the
 * authors' files (item ids as numbers, image paths without their extension).
 */

export interface FoundRecord {
  /** file:line, file or file[index]: where a problem with it is reported. */
  where: string;
  rec: ForeignRecord;
}

/** Extensions tried, in order, for an image path written without one (`images_main/<id>` for `.jpg`). */
const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

/**
 * An image path of a record as a file inside `dir`, relative to it: as written, or with the first
 * image extension that exists. Undefined when there is none, or when the path would leave `dir`.
 */
export function resolveImage(dir: string, p: string): string | undefined {
  const abs = path.resolve(dir, p);
  if (!abs.startsWith(path.resolve(dir) + path.sep)) return undefined;
  for (const f of [abs, ...IMAGE_EXTENSIONS.map((e) => abs + e)])
    if (fs.statSync(f, { throwIfNoEntry: false })?.isFile()) return path.relative(dir, f);
  return undefined;
}

/** A turn's images as a list, whatever the record wrote (a list, one path, null or nothing). */
export const imagesOf = (t: { Image?: string[] | string | null }) =>
  t.Image == null ? [] : Array.isArray(t.Image) ? t.Image : [t.Image];

/**
 * Every record of a folder: dataset.jsonl, or else every *.jsonl file, or else every *.json file (one
 * record, or an array of them) in it and in conversations/. Records that do not parse are listed with
 * file, line and field; the rest are kept.
 */
export function readRecordFiles(dir: string): { found: FoundRecord[]; problems: string[] } {
  const abs = path.resolve(dir);
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new Error(`${abs}: no such folder`);
  const files = fs.readdirSync(abs);
  const problems: string[] = [];
  const found: FoundRecord[] = [];
  const jsonl = files.includes('dataset.jsonl') ? ['dataset.jsonl'] : files.filter((f) => f.endsWith('.jsonl')).sort();
  if (jsonl.length) {
    for (const f of jsonl) {
      const { rows, errors } = parseJsonl(path.join(abs, f), ForeignRecord);
      problems.push(...errors);
      found.push(...rows.map((r) => ({ where: `${path.join(abs, f)}:${r.line}`, rec: r.row })));
    }
    return { found, problems };
  }
  for (const d of [abs, path.join(abs, 'conversations')].filter((x) => fs.existsSync(x)))
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
  return { found, problems };
}

/** The error for a folder where no record could be used: what was looked for, and why each file was left out. */
export function noRecordsError(dir: string, problems: readonly string[]): Error {
  return new Error(
    `${path.resolve(dir)}: no usable conversation in the Muse record format${problems.length ? `; left out:\n${listProblems(problems)}` : ' (expected dataset.jsonl, *.jsonl or *.json files)'}`,
  );
}
