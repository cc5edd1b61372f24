import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { Review } from '../schemas/review';
import { act } from './activities';
import type { ConversationShape } from './method';

/** The patch under which `muse optimize` runs stage 4 as one activity. */
const ONE_STAGE4_ACTIVITY = 'one-stage4-activity';

export interface OptimizeInput {
  conversationId: string;
  /** The conversation's recorded seed: the colloquial draws come from it. */
  seed: number;
}

/**
 * Stage 4 of the method for one finished conversation: every utterance rewritten and checked, then the
 * reviewer's scores and the screener's verdict stored. Thresholds are not applied here but at export.
 * `oneActivity` runs both in one activity (histories recorded before ran them as two); `searchAttributes`
 * are set in the same workflow task as the memo; `finish` records stage 3's end in that activity first.
 */
export async function optimizeAndReview(
  { conversationId, seed }: OptimizeInput,
  o: { oneActivity: boolean; searchAttributes?: SearchAttributeUpdatePair[]; finish?: ConversationShape },
): Promise<Review> {
  const { rewrites, review } = o.oneActivity
    ? await act.optimizeConversation({ conversationId, seed, ...(o.finish ? { finish: o.finish } : {}) })
    : {
        rewrites: await act.rewriteUtterances({ conversationId, seed }),
        review: await act.reviewConversation({ conversationId }),
      };
  if (o.searchAttributes?.length) upsertSearchAttributes(o.searchAttributes);
  upsertMemo({
    review: `${review.total}/6 (content ${review.contentQuality}, fluency ${review.logicalFluency}, consistency ${review.userConsistency}), screener ${review.fitsContext ? 'yes' : 'no'}`,
    rewrites: `${rewrites.accepted}/${rewrites.utterances} accepted (${review.pass})`,
  });
  return review;
}

/** `muse optimize`: stage 4 again for a finished conversation, with the worker's current prompt versions. */
export async function optimizeWorkflow(input: OptimizeInput): Promise<Review> {
  return optimizeAndReview(input, { oneActivity: patched(ONE_STAGE4_ACTIVITY) });
}
