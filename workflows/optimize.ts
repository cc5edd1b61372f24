import { upsertMemo } from '@temporalio/workflow';
import type { Review } from '../schemas/review';
import { act } from './activities';

export interface OptimizeInput {
  conversationId: string;
  /** The conversation's recorded seed: the colloquial draws come from it. */
  seed: number;
}

/**
 * Stage 4 of the method for one finished conversation: every utterance rewritten and checked, then the
 * reviewer's scores and the screener's verdict stored. Thresholds are not applied here but at export.
 */
export async function optimizeAndReview({ conversationId, seed }: OptimizeInput): Promise<Review> {
  const rewrites = await act.rewriteUtterances({ conversationId, seed });
  const review = await act.reviewConversation({ conversationId });
  upsertMemo({
    review: `${review.total}/6 (content ${review.contentQuality}, fluency ${review.logicalFluency}, consistency ${review.userConsistency}), screener ${review.fitsContext ? 'yes' : 'no'}`,
    rewrites: `${rewrites.accepted}/${rewrites.utterances} accepted (${review.pass})`,
  });
  return review;
}

/** `muse optimize`: stage 4 again for a finished conversation, with the worker's current prompt versions. */
export async function optimizeWorkflow(input: OptimizeInput): Promise<Review> {
  return optimizeAndReview(input);
}
