import fs from 'node:fs';
import path from 'node:path';

/** The marker says a folder is one of ours (older exports: summary.json with batch and thresholds). */
export const MARKER = '.muse-export';

/** Every entry any export format writes at the top of its folder; only these are ever replaced. */
const OWN_ENTRIES = [
  'conversations',
  'images',
  'dataset.jsonl',
  'items.jsonl',
  'summary.json',
  'data',
  'items.parquet',
  'README.md',
  'train.jsonl',
  'validation.jsonl',
  'test.jsonl',
  'train.json',
  'validation.json',
  'test.json',
  MARKER,
];

/** Whether a folder holds an export of ours, and in which format ('muse' for one older than the marker's format field). */
export function exportFormatOf(dir: string): string | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8')).format ?? 'muse';
  } catch {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
      return typeof s.batch === 'string' && typeof s.thresholds === 'object' ? 'muse' : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Whether `dir` may receive an export, checked before anything is written: a new or empty folder, or a
 * previous export (its own entries are replaced). A folder holding anything else is refused unless
 * `force`, which writes the export's entries beside what is there, and never over an entry muse did not write.
 */
function checkTarget(dir: string, written: readonly string[], force: boolean): void {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory())
    throw new Error(`--out ${dir} is a file, not a folder: name a new or empty folder (nothing was written)`);
  const entries = fs.readdirSync(dir);
  const ours = exportFormatOf(dir) !== undefined;
  // A temporary folder left by an export that was killed is ours too (it is replaced on the next run).
  const foreign = entries.filter((e) => !e.startsWith(`${MARKER}.tmp-`) && (!ours || !OWN_ENTRIES.includes(e)));
  if (foreign.length === 0) return;
  const listed = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
  if (!force) {
    throw new Error(
      `--out ${dir} holds files muse did not write (${listed}): name a new or empty folder, or add --force to write the export into it beside them (nothing else there is touched)`,
    );
  }
  const clash = ours ? [] : entries.filter((e) => written.includes(e));
  if (clash.length)
    throw new Error(
      `--out ${dir}: ${clash.join(', ')} already there and not written by muse, so --force would replace it: move it or name another folder (nothing was written)`,
    );
}

/**
 * Writes an export into `out` without ever leaving half of one: `write` fills a temporary folder, which
 * becomes `out` by rename; into an existing export, each entry is written beside its old version and
 * swapped in by rename, the previous export's other entries are removed, and nothing muse did not write
 * is touched. The marker goes last, so a folder that has it holds a complete export.
 */
export async function writeExportFolder(
  out: string,
  o: { force?: boolean; batchId: string; format: string; entries: readonly string[] },
  write: (tmp: string) => Promise<void>,
): Promise<string> {
  const dir = path.resolve(out);
  checkTarget(dir, o.entries, !!o.force);
  const exists = fs.existsSync(dir);
  const ours = exists && exportFormatOf(dir) !== undefined;
  const tmp = exists ? path.join(dir, `${MARKER}.tmp-${process.pid}`) : `${dir}.tmp-${process.pid}`;
  if (exists)
    for (const e of fs.readdirSync(dir))
      if (e.startsWith(`${MARKER}.tmp-`)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await write(tmp);
    fs.writeFileSync(
      path.join(tmp, MARKER),
      JSON.stringify({ tool: 'muse', batch: o.batchId, format: o.format }) + '\n',
    );
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (!exists) {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(tmp, dir);
    return dir;
  }
  const replaced = ours ? OWN_ENTRIES : [...o.entries, MARKER];
  for (const entry of replaced.filter((e) => e !== MARKER).concat(MARKER)) {
    const target = path.join(dir, entry);
    if (fs.existsSync(target)) fs.renameSync(target, path.join(tmp, `${entry}.old`));
    if (fs.existsSync(path.join(tmp, entry))) fs.renameSync(path.join(tmp, entry), target);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  return dir;
}
