import fs from 'node:fs';
import path from 'node:path';
import { listProblems, parseJsonl } from '../rec-benchmark/files';
import { describeProblems } from '../schemas/problems';
import { z } from 'zod';
import { redact, type Pool } from '../db/pool';
import { ConversationRecord, ExportItem, STAGE_AGENTS, type RecordTurn } from '../schemas/record';
import { Thresholds } from '../schemas/review';
import { ImageRef, type Item } from '../schemas/catalog';
import { personaLine } from '../schemas/profile';
import {
  agentsOfBatch,
  datasetItems,
  datasetUtterancesOf,
  modelsByCallKey,
  modelsByConversationStage,
  reviewedConversations,
} from '../db/dataset';
import { requireBatch } from '../db/batches';
import { costByAgent } from '../db/ledger';

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

/** How a batch was made, as the dataset card tells it: seeds, provider, the model and prompt version per agent, spend. */
export const Generation = z.object({
  batchSeed: z.number().int(),
  profileSeeds: z.array(z.number().int()),
  provider: z.string(),
  agents: z.array(
    z.object({ agent: z.string(), role: z.string(), model: z.string(), promptVersion: z.string(), calls: z.number() }),
  ),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number().nullable(),
});
export type Generation = z.infer<typeof Generation>;

/** summary.json of an export: the counts, and (since the HF export) how the batch was made. */
export const ExportSummary = DatasetCounts.extend({
  batch: z.string(),
  exportedAt: z.string(),
  generation: Generation.optional(),
});
export type ExportSummary = z.infer<typeof ExportSummary>;

/** A dataset whatever it was read from: the records, the items they name, where their images are, and how it was made. */
export interface Dataset {
  batchId: string;
  records: ConversationRecord[];
  /** Every item a record names, sorted by id; `image` is relative to the dataset folder. */
  items: ExportItem[];
  /** The file behind an image name a record or item uses (`images/<item>.<ext>`). */
  imageFile: (name: string) => string;
  counts: DatasetCounts;
  generation?: Generation;
}

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

/** The name an exported image has: by item, so it is stable across exports. */
export const imageName = (r: ImageRef) => `images/${r.itemId}${path.extname(r.path)}`;

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
        images.set(imageName(r), r);
        return imageName(r);
      });
      const fields = {
        Action: u.action,
        Mentioned_item: u.mentioned_item_ids,
        Image: paths,
        ...(u.original === null ? {} : { Original: u.original }),
      };
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
        Sample: { Category: c.category, Scenario_group: c.scenario_group, Scenario: c.scenario },
        Conversations: turns,
      }),
    );
  }
  return { records, images, counts };
}

/** Every item id a record names: its target and every mentioned item. */
export const referencedItems = (records: readonly ConversationRecord[]) =>
  [...new Set(records.flatMap((r) => [r.Target_item, ...r.Mentioned_items]))].sort();

/** A catalog item as an export lists it, its image named as the records name it. */
export function exportItemOf(it: Item & { caption: string | null }): ExportItem {
  return ExportItem.parse({
    id: it.id,
    title: it.title,
    caption: it.caption,
    description: it.description,
    features: it.features,
    categories: it.categories,
    price: it.price,
    store: it.store,
    details: it.details,
    image:
      it.imageSha256 && it.imagePath ? imageName({ itemId: it.id, path: it.imagePath, sha256: it.imageSha256 }) : null,
  });
}

/** A batch's dataset, read from PostgreSQL: records, items, stored images, and how the batch was made. */
export async function datasetFromBatch(
  pool: Pool,
  batchId: string,
  thresholds: Partial<Thresholds>,
  imagePath: (stored: string) => string,
): Promise<Dataset> {
  const batch = await requireBatch(pool, batchId, redact(pool.options.connectionString ?? ''));
  const { records, images, counts } = await buildRecords(pool, batchId, thresholds);
  const rows = await datasetItems(pool, referencedItems(records));
  const stored = new Map(images);
  const items = rows.map((it) => {
    const item = exportItemOf(it);
    if (item.image) stored.set(item.image, { itemId: it.id, path: it.imagePath!, sha256: it.imageSha256! });
    return item;
  });
  const agents = await agentsOfBatch(pool, batchId);
  const cost = await costByAgent(pool, batchId);
  const reviewed = await reviewedConversations(pool, batchId);
  return {
    batchId,
    records,
    items,
    counts,
    imageFile: (name) => {
      const ref = stored.get(name);
      if (!ref) throw new Error(`${name} is not an image of batch ${batchId}`);
      return imagePath(ref.path);
    },
    generation: {
      batchSeed: batch.seed,
      profileSeeds: [...new Set(reviewed.map((c) => Number(c.profile_seed)))].sort((a, b) => a - b),
      provider: batch.provider,
      agents: agents.map((a) => ({
        agent: a.agent,
        role: a.role,
        model: a.model,
        promptVersion: a.prompt_version,
        calls: a.calls,
      })),
      inputTokens: cost.reduce((n, r) => n + r.input_tokens, 0),
      outputTokens: cost.reduce((n, r) => n + r.output_tokens, 0),
      costUsd: cost.some((r) => r.unpriced) ? null : cost.reduce((n, r) => n + (r.cost ?? 0), 0),
    },
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

/** `name` inside `dir`, or an error: a record must never make muse read outside the folder it was given. */
export function inside(dir: string, name: string): string {
  const file = path.resolve(dir, name);
  if (!file.startsWith(dir + path.sep)) throw new Error(`${name} points outside ${dir}: refused`);
  return file;
}

/**
 * A previous export in muse's own format (dataset.jsonl, items.jsonl, images/, summary.json), read back
 * so any other format can be made from it offline. Bad lines are listed (file, line, field) and skipped;
 * the good ones are kept. Items come from items.jsonl, or, for an export older than it, from the catalog.
 */
export async function datasetFromFolder(
  folder: string,
  catalog?: (ids: string[]) => Promise<ExportItem[]>,
  o: { itemsOptional?: boolean } = {},
): Promise<{ dataset: Dataset; problems: string[] }> {
  const dir = path.resolve(folder);
  const jsonl = path.join(dir, 'dataset.jsonl');
  if (!fs.existsSync(jsonl))
    throw new Error(
      `${dir}: no dataset.jsonl, so it is not an export in muse's format (\`muse export <batch>\` writes one)`,
    );
  const { rows, errors } = parseJsonl(jsonl, ConversationRecord);
  const problems = [...errors];
  const records = rows
    .map((r) => r.row)
    .filter((r, i) => {
      const bad = r.Conversations.flatMap((t) => t.Image).find((name) => {
        try {
          return !fs.existsSync(inside(dir, name));
        } catch {
          return true;
        }
      });
      if (bad) problems.push(`${jsonl}:${rows[i].line}: Image: ${bad} is not a file inside ${dir}`);
      return !bad;
    });
  if (records.length === 0)
    throw new Error(`${jsonl}: no usable record${problems.length ? `:\n${listProblems(problems)}` : ''}`);
  const itemsFile = path.join(dir, 'items.jsonl');
  let items: ExportItem[];
  if (fs.existsSync(itemsFile)) {
    const parsed = parseJsonl(itemsFile, ExportItem);
    problems.push(...parsed.errors);
    items = parsed.rows.map((r) => r.row);
  } else if (catalog) items = await catalog(referencedItems(records));
  else if (o.itemsOptional) items = [];
  else throw new Error(`${dir}: no items.jsonl (an export older than it) and no catalog to look the items up in`);
  const summaryFile = path.join(dir, 'summary.json');
  const summary = fs.existsSync(summaryFile)
    ? ExportSummary.safeParse(JSON.parse(fs.readFileSync(summaryFile, 'utf8')))
    : undefined;
  if (summary && !summary.success) problems.push(`${summaryFile}: ${describeProblems(summary.error)}`);
  const s = summary?.success ? summary.data : undefined;
  const n = records.length;
  return {
    problems,
    dataset: {
      batchId: s?.batch ?? records[0].Batch_id,
      records,
      items,
      counts: s ?? {
        thresholds: Thresholds.parse({}),
        considered: n,
        kept: n,
        dropped: 0,
        notCompleted: 0,
        notReviewed: 0,
        belowMinScore: 0,
        screenerNo: 0,
      },
      generation: s?.generation,
      imageFile: (name) => inside(dir, name),
    },
  };
}
