import fs from 'node:fs';
import path from 'node:path';
import { listProblems, parseJsonl } from '../rec-benchmark/files';
import { describeProblems } from '../schemas/problems';
import { z } from 'zod';
import { ForeignRecord } from '../schemas/eval';

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

/** One conversation of any dataset in the Muse record format, as muse shows and counts it (view, stats). */
export const RecordConversation = z.object({
  id: z.string(),
  persona: z.string(),
  scenario: z.string(),
  requirement: z.string().nullable(),
  target: z.string().nullable(),
  category: z.string().nullable(),
  opening: z.string().nullable(),
  outcome: z.string().nullable(),
  review: z
    .object({
      total: z.number(),
      contentQuality: z.number(),
      logicalFluency: z.number(),
      userConsistency: z.number(),
      fitsContext: z.boolean(),
    })
    .nullable(),
  simulated: z.boolean().nullable(),
  utterances: z.array(
    z.object({
      speaker: z.enum(['User', 'Assistant']),
      text: z.string(),
      /** Stage 3's text, when stage 4's accepted rewrite replaced it. */
      original: z.string().nullable(),
      action: z.string().nullable(),
      /** Image names relative to the dataset (the viewer serves them under /files/). */
      images: z.array(z.string()),
    }),
  ),
  /** The conversation's run in the Temporal Web UI, when it was made by a batch of ours. */
  runUrl: z.string().nullable(),
});
export type RecordConversation = z.infer<typeof RecordConversation>;

/** A dataset read for reading: its conversations, what was left out, and where its images are. */
export interface RecordSource {
  title: string;
  conversations: RecordConversation[];
  /** Records left out, each with where and why. */
  problems: string[];
  /** The file behind an image name a conversation uses; throws for any other name. */
  imageFile: (name: string) => string;
}

const text = (v: unknown) => (v === undefined || v === null ? null : String(v));

/**
 * A folder in the Muse record format as anyone wrote it (the authors' files: ids as numbers, images
 * without extensions): read leniently, every field the viewer shows taken when present.
 */
export function readRecordFolder(dir: string): RecordSource {
  const abs = path.resolve(dir);
  const { found, problems } = readRecordFiles(abs);
  const names = new Set<string>();
  const conversations: RecordConversation[] = [];
  for (const { where, rec } of found) {
    const r = rec as Record<string, unknown>;
    const turns = rec.Conversations.map((t) => ({ t, images: imagesOf(t).map((p) => [p, resolveImage(abs, p)]) }));
    const missing = turns.flatMap((x) => x.images).find(([, f]) => f === undefined);
    if (missing) {
      problems.push(`${where}: Image: ${missing[0]} is not a file in the folder`);
      continue;
    }
    const review = r.Review as Record<string, unknown> | undefined;
    conversations.push({
      id: text(rec.Conversation_id) ?? path.relative(abs, where),
      persona: rec.Persona ?? '',
      scenario: rec.Scenario ?? '',
      requirement: text(r.Requirement),
      target: text(r.Target_item),
      category: null,
      opening: text(r.Opening),
      outcome: text(r.Target_reached_by),
      review:
        review && typeof review.Total === 'number'
          ? {
              total: review.Total,
              contentQuality: Number(review.Content_quality),
              logicalFluency: Number(review.Logical_fluency),
              userConsistency: Number(review.User_consistency),
              fitsContext: review.Fits_context === true,
            }
          : null,
      simulated: typeof r.Simulated === 'boolean' ? r.Simulated : null,
      utterances: turns.map(({ t, images }) => {
        for (const [, f] of images) names.add(f!);
        return {
          speaker: t.User !== undefined ? ('User' as const) : ('Assistant' as const),
          text: (t.User ?? t.Assistant)!,
          original: text((t as Record<string, unknown>).Original),
          action: text((t as Record<string, unknown>).Action),
          images: images.map(([, f]) => f!.split(path.sep).join('/')),
        };
      }),
      runUrl: null,
    });
  }
  if (conversations.length === 0) throw noRecordsError(abs, problems);
  return {
    title: abs,
    conversations,
    problems,
    imageFile: (name) => {
      if (!names.has(name)) throw new Error(`${name} is not an image of this dataset`);
      return path.join(abs, name);
    },
  };
}
