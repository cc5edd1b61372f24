import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  defineSignal,
  getExternalWorkflowHandle,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ViaBatch } from '../schemas/batch';
import { batchAnswers, via } from './provider-batches';
import type { Review } from '../schemas/review';
import { act } from './activities';
import { onlineAnswer } from '../common/queued';
import type { ConversationShape } from '../method/index';

/** To the batch workflow: this conversation waits for a provider batch, so its window slot is free for another. */
export const waitingForBatchSignal = defineSignal<[string]>('museWaitingForBatch');

export interface OptimizeInput extends ViaBatch {
  conversationId: string;
  /** The conversation's recorded seed: the colloquial draws come from it. */
  seed: number;
}

/**
 * Stage 4 of the method for one finished conversation: every utterance rewritten and checked, then the
 * reviewer's scores and the screener's verdict stored. Thresholds are not applied here but at export.
 * Both run in one activity; `searchAttributes` are set in the same workflow task as the memo; `finish`
 * records stage 3's end in that activity first.
 */
export async function optimizeAndReview(
  input: OptimizeInput,
  o: { searchAttributes?: SearchAttributeUpdatePair[]; finish?: ConversationShape } = {},
): Promise<Review> {
  const { conversationId, seed } = input;
  const optimize = () =>
    act.optimizeConversation({ conversationId, seed, ...(o.finish ? { finish: o.finish } : {}), ...via(input) });
  const { rewrites, review } = await (input.batchRoles?.length
    ? batchAnswers()(optimize, releaseSlot)
    : optimize().then(onlineAnswer));
  if (o.searchAttributes?.length) upsertSearchAttributes(o.searchAttributes);
  upsertMemo({
    review: `${review.total}/6 (content ${review.contentQuality}, fluency ${review.logicalFluency}, consistency ${review.userConsistency}), screener ${review.fitsContext ? 'yes' : 'no'}`,
    rewrites: `${rewrites.accepted}/${rewrites.utterances} accepted (${review.pass})`,
  });
  return review;
}

/** Tells the parent batch, if any, that this conversation now waits for a provider batch. */
async function releaseSlot(): Promise<void> {
  const parent = workflowInfo().parent;
  if (parent)
    await getExternalWorkflowHandle(parent.workflowId).signal(waitingForBatchSignal, workflowInfo().workflowId);
}

/** `muse optimize`: stage 4 again for a finished conversation, with the worker's current prompt versions. */
export async function optimizeWorkflow(input: OptimizeInput): Promise<Review> {
  return optimizeAndReview(input);
}
