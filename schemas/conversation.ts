import { z } from 'zod';
import { ImageRef } from './catalog';

export const Speaker = z.enum(['User', 'Assistant']);
export type Speaker = z.infer<typeof Speaker>;

export const Action = z.enum(['chit-chat', 'recommend', 'reject', 'accept']);
export type Action = z.infer<typeof Action>;

export const Opening = z.enum(['text', 'image']);
export type Opening = z.infer<typeof Opening>;

/** How the accepted item came to be recommended: found by retrieval, or forced at max_round. */
export const Outcome = z.enum(['retrieval', 'forced']);
export type Outcome = z.infer<typeof Outcome>;

/** A row of table utterances, keyed by (conversationId, idx). */
export const Utterance = z.object({
  conversationId: z.string(),
  idx: z.number().int().nonnegative(),
  speaker: Speaker,
  text: z.string().min(1),
  action: Action,
  mentionedItemIds: z.array(z.string()),
  images: z.array(ImageRef),
  meta: z.record(z.string(), z.unknown()),
});
export type Utterance = z.infer<typeof Utterance>;

/** What an utterance-writing activity hands back to the workflow: small, no text. */
export const UtteranceSummary = z.object({
  idx: z.number().int(),
  action: Action,
  mentionedItemIds: z.array(z.string()),
  reused: z.boolean().describe('true when the row was already stored and no agent was called'),
});
export type UtteranceSummary = z.infer<typeof UtteranceSummary>;

/** Outcome of the image-opening attempt, stored so a resumed conversation takes the same branch. */
/** Which retriever found the pairing item (absent in plans stored before the dense index existed). */
const Retrieved = { retriever: z.string().optional() };
export const ImageOpeningPlan = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), boughtItemId: z.string(), pairingDescription: z.string(), ...Retrieved }),
  z.object({ ok: z.literal(false), reason: z.string(), ...Retrieved }),
]);
export type ImageOpeningPlan = z.infer<typeof ImageOpeningPlan>;
