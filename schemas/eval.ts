import { z } from 'zod';
import { AGENT_CALLS } from './agent-calls';
import { ImageRef } from './catalog';

/** The judge's five dimensions, as the paper names them. */
export const DIMENSIONS = [
  'naturalness',
  'logical_coherence',
  'information_richness',
  'product_context_relevance',
  'image_text_consistency',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const JudgeScores = AGENT_CALLS.datasetJudge.output;
export type JudgeScores = z.infer<typeof JudgeScores>;

/** One sampled conversation as the judge sees it (table eval_items); images by reference into the store. */
export const EvalItem = z.object({
  recordId: z.string(),
  persona: z.string(),
  scenario: z.string(),
  dialogue: AGENT_CALLS.datasetJudge.input.shape.dialogue,
  images: z.array(ImageRef),
});
export type EvalItem = z.infer<typeof EvalItem>;

/**
 * A conversation of any dataset in the Muse record format, read leniently: only what the judge needs is
 * checked (the published Muse files and our exports both fit). Image paths are relative to the folder.
 */
const ForeignTurn = z
  .looseObject({
    User: z.string().min(1).optional(),
    Assistant: z.string().min(1).optional(),
    Image: z.union([z.array(z.string()), z.string(), z.null()]).optional(),
  })
  .refine((t) => (t.User === undefined) !== (t.Assistant === undefined), {
    message: 'a turn needs exactly one of User or Assistant',
  });

export const ForeignRecord = z.looseObject({
  Conversation_id: z.union([z.string(), z.number()]).optional(),
  Persona: z.string().optional(),
  Scenario: z.string().optional(),
  Conversations: z.array(ForeignTurn).min(1),
});
export type ForeignRecord = z.infer<typeof ForeignRecord>;
