import { z } from 'zod';
import { Action, Opening, Outcome } from './conversation';

/** The agents whose calls make each stage a record's provenance names; every other agent's make the conversation. */
export const STAGE_AGENTS = {
  Profile: ['profileGate', 'backstoryWriter'],
  Rewrite: ['utteranceRewriter', 'rewriteChecker'],
  Review: ['qualityReviewer', 'recommendationScreener'],
};

const StageProvenance = z.strictObject({ Provider: z.string(), Models: z.array(z.string()) });

const turnFields = {
  Action,
  Mentioned_item: z.array(z.string()),
  Image: z.array(z.string()).describe('image paths relative to the export folder'),
  /** The utterance as stage 3 wrote it, when stage 4's accepted rewrite replaced it. */
  Original: z.string().optional(),
};

/** One utterance of the Muse record format: exactly one speaker key holding the text. */
export const RecordTurn = z.union([
  z.strictObject({ User: z.string().min(1), ...turnFields }),
  z.strictObject({ Assistant: z.string().min(1), ...turnFields }),
]);
export type RecordTurn = z.infer<typeof RecordTurn>;

/** One exported conversation: the Muse record format plus what the original failed to keep. */
export const ConversationRecord = z.strictObject({
  Conversation_id: z.string(),
  Batch_id: z.string(),
  Persona: z.string().regex(/^Name: .+, Gender: .+, Age: \d+, Profession: .+$/),
  Scenario: z.string().min(1),
  Requirement: z.string().min(1),
  Target_item: z.string(),
  Mentioned_items: z.array(z.string()),
  Opening: Opening,
  Target_reached_by: Outcome,
  Provider: z.string(),
  Simulated: z.boolean(),
  /** Who made each stage of this record: the provider and the models its calls were answered by (none for the simulated provider). */
  Provenance: z
    .strictObject({
      Profile: StageProvenance,
      Conversation: StageProvenance,
      Rewrite: StageProvenance,
      Review: StageProvenance,
    })
    .optional(),
  /** Stage 4's stored verdict; the export's thresholds were applied to it. */
  Review: z.strictObject({
    Pass: z.string(),
    Content_quality: z.number().int().min(0).max(2),
    Logical_fluency: z.number().int().min(0).max(2),
    User_consistency: z.number().int().min(0).max(2),
    Total: z.number().int().min(0).max(6),
    Fits_context: z.boolean(),
  }),
  /** The stage-2 sample behind the profile: what the splits stratify on. */
  Sample: z.strictObject({ Category: z.string(), Scenario_group: z.string(), Scenario: z.string() }).optional(),
  Conversations: z.array(RecordTurn).min(1),
});
export type ConversationRecord = z.infer<typeof ConversationRecord>;

/** An item a record refers to, as an export lists it so ids resolve offline. */
export const ExportItem = z.strictObject({
  id: z.string(),
  title: z.string(),
  caption: z.string().nullable(),
  description: z.string(),
  features: z.array(z.string()),
  categories: z.array(z.string()),
  price: z.number().nullable(),
  store: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  /** Relative to the export folder; null when the item has no image. */
  image: z.string().nullable(),
});
export type ExportItem = z.infer<typeof ExportItem>;
