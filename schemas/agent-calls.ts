import { z } from 'zod';
import { ImageRef, Item } from './catalog';
import { Action, Speaker } from './conversation';
import { Backstory, ProfileSample } from './profile';

/** What the user agent knows about itself; the recommender never sees it. */
export const UserSide = z.object({
  persona: z.string(),
  scenario: z.string(),
  backstory: z.string(),
  requirement: z.string(),
});
export type UserSide = z.infer<typeof UserSide>;

export const Turn = z.object({ speaker: Speaker, text: z.string(), action: Action });
export type Turn = z.infer<typeof Turn>;
const Dialogue = z.array(Turn);
const Text = z.object({ text: z.string().min(1) });
const JudgeScore = z.number().int().min(1).max(5);

/**
 * Every agent call of stages 2 and 3: its input and its structured output. Providers implement these
 * calls; activities build the inputs from PostgreSQL (items carry image references, never bytes).
 */
export const AGENT_CALLS = {
  backstoryWriter: { input: z.object({ sample: ProfileSample, persona: z.string(), target: Item }), output: Backstory },
  textOpening: {
    input: z.object({ user: UserSide }),
    output: z.object({ utterances: z.array(z.string().min(1)).length(4).describe('system, user, system, user') }),
  },
  stylist: { input: z.object({ user: UserSide, target: Item }), output: z.object({ description: z.string().min(1) }) },
  outfitJudge: {
    input: z.object({ user: UserSide, target: Item, candidate: Item }),
    output: z.object({ outfit_compatibility: z.boolean(), scenario_appropriateness: z.boolean() }),
  },
  imageOpening: {
    input: z.object({ user: UserSide, bought: Item, target: Item }),
    output: z.object({
      utterances: z.array(z.string().min(1)).length(4).describe('system, user (shows the bought item), system, user'),
    }),
  },
  occasionQuestion: { input: z.object({ dialogue: Dialogue }), output: Text },
  occasionAnswer: { input: z.object({ user: UserSide, dialogue: Dialogue }), output: Text },
  userChitChat: { input: z.object({ user: UserSide, item: Item, dialogue: Dialogue }), output: Text },
  systemChitChat: { input: z.object({ item: Item, dialogue: Dialogue }), output: Text },
  rejectReason: {
    input: z.object({ user: UserSide, target: Item, recommended: Item }),
    output: z.object({ attribute: z.string(), difference: z.string().min(1) }),
  },
  rejection: { input: z.object({ user: UserSide, difference: z.string(), dialogue: Dialogue }), output: Text },
  needsAnalyser: { input: z.object({ dialogue: Dialogue }), output: z.object({ needs: z.string().min(1) }) },
  queryClarifier: { input: z.object({ needs: z.string() }), output: z.object({ query: z.string().min(1) }) },
  queryMerger: {
    input: z.object({ previous: z.string(), current: z.string() }),
    output: z.object({ query: z.string().min(1) }),
  },
  recommendation: { input: z.object({ item: Item, dialogue: Dialogue }), output: Text },
  acceptance: { input: z.object({ user: UserSide, item: Item, dialogue: Dialogue }), output: Text },

  // Stage 1: the item database.
  itemCaptioner: { input: z.object({ item: Item }), output: z.object({ description: z.string().min(1) }) },
  categoryFilter: {
    input: z.object({ category: z.string(), examples: z.array(z.string()).describe('titles of items with this tag') }),
    output: z.object({ is_product_type: z.boolean() }),
  },
  // Stage 2, step 1.
  profileGate: {
    input: z.object({ sample: ProfileSample, persona: z.string(), target: Item }),
    output: z.object({ fits_person: z.boolean(), fits_scenario: z.boolean(), reason: z.string() }),
  },
  // Stage 4: optimisation and filtering.
  utteranceRewriter: {
    input: z.object({ speaker: Speaker, text: z.string(), colloquial: z.boolean(), dialogue: Dialogue }),
    output: Text,
  },
  rewriteChecker: {
    input: z.object({ original: z.string(), rewrite: z.string() }),
    output: z.object({ content_kept: z.boolean(), no_preamble: z.boolean() }),
  },
  qualityReviewer: {
    input: z.object({ user: UserSide, dialogue: Dialogue }),
    output: z.object({
      content_quality: z.number().int().min(0).max(2),
      logical_fluency: z.number().int().min(0).max(2),
      user_consistency: z.number().int().min(0).max(2),
    }),
  },
  recommendationScreener: {
    input: z.object({ user: UserSide, dialogue: Dialogue, recommendedItems: z.array(Item) }),
    output: z.object({ fits_context: z.boolean() }),
  },

  // Evaluation: the LLM judge of `muse eval`, on the paper's five dimensions (1..5 each).
  datasetJudge: {
    input: z.object({
      persona: z.string(),
      scenario: z.string(),
      dialogue: z.array(
        z.object({
          speaker: Speaker,
          text: z.string(),
          images: z.array(z.number().int().positive()).describe('numbers (from 1) of the images shown with this turn'),
        }),
      ),
      images: z.array(ImageRef),
    }),
    output: z.object({
      naturalness: JudgeScore,
      logical_coherence: JudgeScore,
      information_richness: JudgeScore,
      product_context_relevance: JudgeScore,
      image_text_consistency: JudgeScore.nullable().describe('null when the conversation shows no image'),
      rationale: z.string(),
    }),
  },
} as const;

export type AgentName = keyof typeof AGENT_CALLS;
export type AgentInput<A extends AgentName> = z.infer<(typeof AGENT_CALLS)[A]['input']>;
export type AgentOutput<A extends AgentName> = z.infer<(typeof AGENT_CALLS)[A]['output']>;
