import fs from 'node:fs';
import path from 'node:path';
import { imageAbsolutePath } from '../catalog/images';
import type { Pool } from '../db/pool';
import { z } from 'zod';
import { ConversationRecord, STAGE_AGENTS, type RecordTurn } from '../schemas/record';
import { Thresholds } from '../schemas/review';
import { ImageRef } from '../schemas/catalog';
import { personaLine } from '../schemas/profile';
import { datasetUtterancesOf, modelsByCallKey, modelsByConversationStage, reviewedConversations } from '../db/dataset';

export interface ExportReport {
  dir: string;
  conversations: number;
  utterances: number;
  images: number;
  counts: DatasetCounts;
  /** The exported conversations' ids, in batch order. */
  ids: string[];
}

/** Why conversations are in the dataset or not; a conversation can fail both stage-4 tests. */
export const DatasetCounts = z.object({
  thresholds: Thresholds,
  considered: z.number().int(),
  kept: z.number().int(),
  dropped: z.number().int(),
  notCompleted: z.number().int(),
  notReviewed: z.number().int().describe('completed, but stage 4 has not stored a review (run `muse optimize`)'),
  belowMinScore: z.number().int(),
  screenerNo: z.number().int(),
});
export type DatasetCounts = z.infer<typeof DatasetCounts>;

/** The batch's conversations with their current review, those the thresholds keep, and why the others go. */
async function selectConversations(pool: Pool, batchId: string, thresholds: Partial<Thresholds>) {
  const t = Thresholds.parse(thresholds);
  const convs = await reviewedConversations(pool, batchId);
  const counts: DatasetCounts = {
    thresholds: t,
    considered: convs.length,
    kept: 0,
    dropped: 0,
    notCompleted: 0,
    notReviewed: 0,
    belowMinScore: 0,
    screenerNo: 0,
  };
  const kept = convs.filter((c) => {
    if (c.status !== 'completed') counts.notCompleted++;
    else if (c.pass === null) counts.notReviewed++;
    const low = c.pass !== null && c.total < t.minScore;
    const no = c.pass !== null && t.requireScreener && !c.fits_context;
    if (low) counts.belowMinScore++;
    if (no) counts.screenerNo++;
    const keep = c.status === 'completed' && c.pass !== null && !low && !no;
    counts[keep ? 'kept' : 'dropped']++;
    return keep;
  });
  return { kept, counts };
}

/** How many conversations the thresholds keep and drop, and why, without reading a single utterance. */
export async function datasetCounts(
  pool: Pool,
  batchId: string,
  thresholds: Partial<Thresholds> = {},
): Promise<DatasetCounts> {
  return (await selectConversations(pool, batchId, thresholds)).counts;
}

/**
 * The models that answered each stage's calls of each conversation, from the ledger (cache hits count:
 * the answer came from that model): "<conversation>|<stage>" -> sorted model names.
 */
async function modelsByStage(
  pool: Pool,
  convs: Array<{ id: string; profile_seed: string | number; profile_seq: number }>,
): Promise<Map<string, string[]>> {
  const out = await modelsByConversationStage(
    pool,
    convs.map((c) => c.id),
    STAGE_AGENTS,
  );
  // Stage 2's calls belong to no conversation: they are found by the profile's keys.
  const byKey = new Map(
    convs.flatMap((c) =>
      [`profile:${c.profile_seed}:${c.profile_seq}`, `profile:${c.profile_seed}:${c.profile_seq}:gate`].map((k) => [
        k,
        c.id,
      ]),
    ),
  );
  for (const r of await modelsByCallKey(pool, [...byKey.keys()])) {
    const key = `${byKey.get(r.call_key)}|Profile`;
    out.set(key, [...new Set([...(out.get(key) ?? []), ...r.models])].sort());
  }
  return out;
}

/**
 * A batch's conversations as Muse records, each validated by its schema: completed, reviewed, and
 * passing the thresholds. Utterances carry the accepted rewrite when there is one. No LLM is called.
 */
export async function buildRecords(
  pool: Pool,
  batchId: string,
  thresholds: Partial<Thresholds> = {},
): Promise<{ records: ConversationRecord[]; images: Map<string, ImageRef>; counts: DatasetCounts }> {
  const { kept, counts } = await selectConversations(pool, batchId, thresholds);
  const utts = await datasetUtterancesOf(
    pool,
    kept.map((c) => c.id),
  );
  const models = await modelsByStage(pool, kept);
  const byConv = new Map<string, typeof utts>();
  for (const u of utts) byConv.set(u.conversation_id, [...(byConv.get(u.conversation_id) ?? []), u]);
  // Exported image name -> stored image; the record refers to images/<item>.<ext>, stable across exports.
  const images = new Map<string, ImageRef>();
  const records: ConversationRecord[] = [];
  for (const c of kept) {
    const turns: RecordTurn[] = (byConv.get(c.id) ?? []).map((u) => {
      const refs = ImageRef.array().parse(u.images);
      const paths = refs.map((r) => {
        const name = `images/${r.itemId}${path.extname(r.path)}`;
        images.set(name, r);
        return name;
      });
      const fields = { Action: u.action, Mentioned_item: u.mentioned_item_ids, Image: paths };
      return u.speaker === 'User' ? { User: u.text, ...fields } : { Assistant: u.text, ...fields };
    });
    const mentioned = [...new Set(turns.flatMap((t) => t.Mentioned_item))];
    records.push(
      ConversationRecord.parse({
        Conversation_id: c.id,
        Batch_id: batchId,
        Persona: personaLine(c),
        Scenario: c.backstory,
        Requirement: c.requirement,
        Target_item: c.target_item_id,
        Mentioned_items: mentioned,
        Opening: c.opening,
        Target_reached_by: c.outcome,
        Provider: c.provider,
        Simulated: c.provider === 'simulated',
        Provenance: {
          Profile: { Provider: c.profile_provider, Models: models.get(`${c.id}|Profile`) ?? [] },
          ...Object.fromEntries(
            (['Conversation', 'Rewrite', 'Review'] as const).map((st) => [
              st,
              { Provider: c.provider, Models: models.get(`${c.id}|${st}`) ?? [] },
            ]),
          ),
        },
        Review: {
          Pass: c.pass,
          Content_quality: c.content_quality,
          Logical_fluency: c.logical_fluency,
          User_consistency: c.user_consistency,
          Total: c.total,
          Fits_context: c.fits_context,
        },
        Conversations: turns,
      }),
    );
  }
  return { records, images, counts };
}

/** The entries an export writes; the marker says a folder is one of ours (older exports: summary.json with batch and thresholds). */
const MARKER = '.muse-export';
const OWN_ENTRIES = ['conversations', 'images', 'dataset.jsonl', 'summary.json', MARKER];

function isMuseExport(dir: string): boolean {
  if (fs.existsSync(path.join(dir, MARKER))) return true;
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    return typeof s.batch === 'string' && typeof s.thresholds === 'object';
  } catch {
    return false;
  }
}

/**
 * Whether `dir` may receive an export, checked before anything is written: a new or empty folder, or a
 * previous export (its own entries are replaced). A folder holding anything else is refused unless
 * `force`, which writes the export's entries beside what is there, and never over an entry muse did not write.
 */
function checkTarget(dir: string, force: boolean): void {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory())
    throw new Error(`--out ${dir} is a file, not a folder: name a new or empty folder (nothing was written)`);
  const entries = fs.readdirSync(dir);
  const ours = isMuseExport(dir);
  // A temporary folder left by an export that was killed is ours too (it is replaced on the next run).
  const foreign = entries.filter((e) => !e.startsWith(`${MARKER}.tmp-`) && (!ours || !OWN_ENTRIES.includes(e)));
  if (foreign.length === 0) return;
  const listed = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
  if (!force) {
    throw new Error(
      `--out ${dir} holds files muse did not write (${listed}): name a new or empty folder, or add --force to write the export into it beside them (nothing else there is touched)`,
    );
  }
  const clash = ours ? [] : entries.filter((e) => OWN_ENTRIES.includes(e));
  if (clash.length)
    throw new Error(
      `--out ${dir}: ${clash.join(', ')} already there and not written by muse, so --force would replace it: move it or name another folder (nothing was written)`,
    );
}

/**
 * Writes <out>/conversations/<id>.json, <out>/dataset.jsonl, <out>/images/ and <out>/summary.json. A new
 * folder is written under a temporary name and renamed into place; into an existing one, each entry is
 * written beside its old version and swapped in by rename, so no half-written file is ever left behind
 * and nothing but the export's own entries is replaced.
 */
export async function exportBatch(
  pool: Pool,
  batchId: string,
  out: string,
  thresholds: Partial<Thresholds> = {},
  o: { force?: boolean } = {},
): Promise<ExportReport> {
  const dir = path.resolve(out);
  checkTarget(dir, !!o.force);
  const { records, images, counts } = await buildRecords(pool, batchId, thresholds);
  if (counts.considered === 0) throw new Error(`no batch ${batchId} in the database`);
  if (records.length === 0)
    throw new Error(`batch ${batchId} has no conversation to export: ${describeCounts(counts)}`);
  const exists = fs.existsSync(dir);
  const tmp = exists ? path.join(dir, `${MARKER}.tmp-${process.pid}`) : `${dir}.tmp-${process.pid}`;
  if (exists)
    for (const e of fs.readdirSync(dir))
      if (e.startsWith(`${MARKER}.tmp-`)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'conversations'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'images'), { recursive: true });
  for (const r of records)
    fs.writeFileSync(path.join(tmp, 'conversations', `${r.Conversation_id}.json`), JSON.stringify(r, null, 2) + '\n');
  fs.writeFileSync(path.join(tmp, 'dataset.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  fs.writeFileSync(
    path.join(tmp, 'summary.json'),
    JSON.stringify({ batch: batchId, exportedAt: new Date().toISOString(), ...counts }, null, 2) + '\n',
  );
  for (const [name, stored] of images) fs.copyFileSync(imageAbsolutePath(stored.path), path.join(tmp, name));
  fs.writeFileSync(path.join(tmp, MARKER), JSON.stringify({ tool: 'muse', batch: batchId }) + '\n');
  if (!exists) {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(tmp, dir);
  } else {
    // The marker goes last: a folder that has it holds a complete export.
    for (const entry of OWN_ENTRIES) {
      const target = path.join(dir, entry);
      const old = path.join(tmp, `${entry}.old`);
      if (fs.existsSync(target)) fs.renameSync(target, old);
      fs.renameSync(path.join(tmp, entry), target);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return {
    dir,
    conversations: records.length,
    utterances: records.reduce((n, r) => n + r.Conversations.length, 0),
    images: images.size,
    counts,
    ids: records.map((r) => r.Conversation_id),
  };
}

/** "kept 180 of 200; dropped 20: 12 below score 4, 9 screener no, ..." (zero reasons left out). */
export function describeCounts(c: DatasetCounts): string {
  const why = (
    [
      [c.notCompleted, 'not completed'],
      [c.notReviewed, 'not reviewed (run `muse optimize`)'],
      [c.belowMinScore, `review total below ${c.thresholds.minScore}`],
      [c.screenerNo, 'screener said no'],
    ] as const
  )
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`);
  return `kept ${c.kept} of ${c.considered}` + (c.dropped ? `; dropped ${c.dropped}: ${why.join(', ')}` : '');
}
