import path from 'node:path';
import { z } from 'zod';
import type { Dataset } from '../export';
import { exportFormatOf } from '../export/folder';
import { imagesOf, noRecordsError, readRecordFiles, resolveImage } from '../readers/muse-record';

/** One conversation as the viewer shows it, whatever it was read from. */
export const ViewConversation = z.object({
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
      /** Image names the viewer serves under /images/. */
      images: z.array(z.string()),
    }),
  ),
  /** The conversation's run in the Temporal Web UI, when it was made by a batch of ours. */
  runUrl: z.string().nullable(),
});
export type ViewConversation = z.infer<typeof ViewConversation>;

export interface ViewSource {
  title: string;
  conversations: ViewConversation[];
  /** Records left out, each with where and why. */
  problems: string[];
  /** The file behind an image name a conversation uses; throws for any other name. */
  imageFile: (name: string) => string;
}

/** A dataset of ours (a batch, or an export read back); `runUrl` links a conversation to its workflow. */
export function fromDataset(ds: Dataset, runUrl: (conversationId: string) => string | null): ViewSource {
  const names = new Set<string>();
  const conversations = ds.records.map((r) => {
    for (const t of r.Conversations) for (const i of t.Image) names.add(i);
    return {
      id: r.Conversation_id,
      persona: r.Persona,
      scenario: r.Scenario,
      requirement: r.Requirement,
      target: r.Target_item,
      category: r.Sample?.Category ?? null,
      opening: r.Opening,
      outcome: r.Target_reached_by,
      review: {
        total: r.Review.Total,
        contentQuality: r.Review.Content_quality,
        logicalFluency: r.Review.Logical_fluency,
        userConsistency: r.Review.User_consistency,
        fitsContext: r.Review.Fits_context,
      },
      simulated: r.Simulated,
      utterances: r.Conversations.map((t) => ({
        speaker: 'User' in t ? ('User' as const) : ('Assistant' as const),
        text: 'User' in t ? t.User : t.Assistant,
        original: t.Original ?? null,
        action: t.Action,
        images: t.Image,
      })),
      runUrl: runUrl(r.Conversation_id),
    };
  });
  return {
    title: ds.batchId,
    conversations,
    problems: [],
    imageFile: (name) => {
      if (!names.has(name)) throw new Error(`${name} is not an image of this dataset`);
      return ds.imageFile(name);
    },
  };
}

const text = (v: unknown) => (v === undefined || v === null ? null : String(v));

/**
 * A folder in the Muse record format as anyone wrote it (the authors' files: ids as numbers, images
 * without extensions): read leniently, every field the viewer shows taken when present.
 */
export function fromRecordFolder(dir: string): ViewSource {
  const abs = path.resolve(dir);
  const { found, problems } = readRecordFiles(abs);
  const names = new Set<string>();
  const conversations: ViewConversation[] = [];
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

/** Whether a folder is an export in muse's own format (read with its items and review), not just any Muse records. */
export const isMuseExport = (dir: string) => exportFormatOf(dir) === 'muse';
