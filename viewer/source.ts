import type { Dataset } from '../export';
import { exportFormatOf } from '../export/folder';
import type { RecordSource } from '../readers/muse-record';

/** A dataset of ours (a batch, or an export read back); `runUrl` links a conversation to its workflow. */
export function fromDataset(ds: Dataset, runUrl: (conversationId: string) => string | null): RecordSource {
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

/** Whether a folder is an export in muse's own format (read with its items and review), not just any Muse records. */
export const isMuseExport = (dir: string) => exportFormatOf(dir) === 'muse';
