import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { Rng } from '../random';
import type { Opening, Outcome } from '../schemas/conversation';
import { runConversation } from './method';
import type { Review } from '../schemas/review';
import { act, bookkeeping } from './activities';
import { optimizeAndReview } from './optimize';
import * as SA from './search-attributes';

/** The patch that marks a run of today's conversation workflow (local bookkeeping, stage 4 in one activity). */
const CURRENT_SHAPE = 'lean-conversation';

export interface ConversationInput {
  conversationId: string;
  /** The recorded seed: every random choice below comes from it, so a resumed run retraces the first. */
  seed: number;
}
export interface ConversationResult {
  opening: Opening;
  outcome: Outcome;
  utterances: number;
  /** Stage 4's verdict; absent only when replaying a history recorded before stage 4 existed. */
  review?: Review;
}

/**
 * Stages 3 and 4 of the method for one profile: the simulated conversation between a user agent and a
 * recommender, then its optimisation and review, so one conversation is one durable unit.
 */
export async function conversationWorkflow({ conversationId, seed }: ConversationInput): Promise<ConversationResult> {
  const ref = { conversationId };
  // The current shape, under one patch: every patch costs two history events and a visibility update, so
  // a new run checks this one alone; histories recorded before answer the older patches below.
  const current = patched(CURRENT_SHAPE);
  // Bookkeeping as local activities, and the opening's search attribute set with the outcome's: ten
  // history events fewer per conversation. Histories recorded before keep their activities.
  const lean = current || patched('local-bookkeeping');
  const book = lean ? bookkeeping : act;
  const { opening, outcome, utterances } = await runConversation(
    {
      begin: async () => {
        const who = await book.beginConversation(ref);
        upsertMemo({
          persona: who.persona,
          scenario: who.scenario,
          targetItem: `${who.targetItemId}: ${who.targetTitle}`,
        });
        upsertSearchAttributes([{ key: SA.TargetItem, value: who.targetItemId }]);
        return who;
      },
      planImageOpening: () => act.planImageOpening(ref),
      writeImageOpening: (boughtItemId) => act.writeImageOpening({ ...ref, boughtItemId }),
      askOccasion: (idx) => act.askOccasion({ ...ref, idx }),
      answerOccasion: (idx) => act.answerOccasion({ ...ref, idx }),
      writeTextOpening: () => act.writeTextOpening(ref),
      opened: (opening) => {
        if (!lean) upsertSearchAttributes([{ key: SA.Opening, value: opening }]);
      },
      systemRecommends: async (idx, pick) => (await act.systemRecommends({ ...ref, idx, pick })).mentionedItemIds[0],
      systemRecommendsTarget: (idx) => act.systemRecommendsTarget({ ...ref, idx }),
      userAccepts: (idx, itemId) => act.userAccepts({ ...ref, idx, itemId }),
      userRejects: (idx, itemId) => act.userRejects({ ...ref, idx, itemId }),
      userChitChat: (idx, itemId) => act.userChitChat({ ...ref, idx, itemId }),
      systemChitChat: (idx, itemId) => act.systemChitChat({ ...ref, idx, itemId }),
    },
    new Rng('conversation', seed),
  );

  await book.finishConversation({ ...ref, opening, outcome, utterances });
  const found = [...(lean ? [{ key: SA.Opening, value: opening }] : []), { key: SA.Outcome, value: outcome }];
  // Now stage 4 is one activity and these attributes come with its memo: a workflow task, three history
  // events and a visibility update fewer per conversation.
  if (!current) upsertSearchAttributes(found);

  // Histories recorded before stage 4 was part of the workflow end here and must still replay.
  if (!current && !patched('stage-4')) return { opening, outcome, utterances };
  const review = await optimizeAndReview(
    { conversationId, seed },
    current ? { oneActivity: true, searchAttributes: found } : { oneActivity: false },
  );
  return { opening, outcome, utterances, review };
}
