import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { Begun, Subject } from '../activities';
import { Rng } from '../random';
import type { Opening, Outcome } from '../schemas/conversation';
import { runConversation } from '../method/index';
import type { Review } from '../schemas/review';
import { act, bookkeeping } from './activities';
import { optimizeAndReview } from './optimize';
import * as SA from '../common/search-attributes';
import type { ViaBatch } from '../schemas/batch';
import { via } from './provider-batches';

/** The patch that marks a run of today's conversation workflow: no bookkeeping steps of its own. */
const CURRENT_SHAPE = 'begin-and-finish-in-agent-calls';

export interface ConversationInput extends ViaBatch {
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
export async function conversationWorkflow(input: ConversationInput): Promise<ConversationResult> {
  const { conversationId, seed } = input;
  const ref = { conversationId };
  // The current shape, under one patch: every patch costs two history events and a visibility update, so
  // a new run checks this one alone; histories recorded before answer the older patches below.
  const current = patched(CURRENT_SHAPE);
  // Today the first agent call begins the conversation and stage 4's activity records how stage 3 ended:
  // two workflow activations and two history events fewer than the bookkeeping steps that did it before.
  // Before that, stage 4 was already one activity and set its search attributes with its memo.
  const oneStage4 = current || patched('lean-conversation');
  // Before that, bookkeeping ran as local activities and the opening's search attribute came with the outcome's.
  const lean = oneStage4 || patched('local-bookkeeping');
  const book = lean ? bookkeeping : act;

  let targetItemId = '';
  const about = (who: Subject) => {
    targetItemId = who.targetItemId;
    upsertMemo({ persona: who.persona, scenario: who.scenario, targetItem: `${who.targetItemId}: ${who.targetTitle}` });
    upsertSearchAttributes([{ key: SA.TargetItem, value: who.targetItemId }]);
  };
  let toBegin = current;
  /** Marks the conversation's first agent call (older shapes pass the bare ref, as they recorded it). */
  const first = () => (toBegin ? ((toBegin = false), { ...ref, begin: true }) : ref);
  const begun = <T extends Begun>(r: T): T => {
    if (r.subject) about(r.subject);
    return r;
  };

  const shape = await runConversation(
    {
      begin: async () => {
        if (!current) about(await book.beginConversation(ref));
      },
      planImageOpening: async () => begun(await act.planImageOpening(first())),
      writeImageOpening: (boughtItemId) => act.writeImageOpening({ ...ref, boughtItemId }),
      askOccasion: (idx) => act.askOccasion({ ...ref, idx }),
      answerOccasion: (idx) => act.answerOccasion({ ...ref, idx }),
      writeTextOpening: async () => begun(await act.writeTextOpening(first())),
      opened: (opening) => {
        if (!lean) upsertSearchAttributes([{ key: SA.Opening, value: opening }]);
      },
      systemRecommends: async (idx, pick) => {
        const [itemId] = (await act.systemRecommends({ ...ref, idx, pick })).mentionedItemIds;
        return { itemId, isTarget: itemId === targetItemId };
      },
      systemRecommendsTarget: async (idx) => {
        await act.systemRecommendsTarget({ ...ref, idx });
        return targetItemId;
      },
      userAccepts: (idx, itemId) => act.userAccepts({ ...ref, idx, itemId }),
      userRejects: (idx, itemId) => act.userRejects({ ...ref, idx, itemId }),
      userChitChat: (idx, itemId) => act.userChitChat({ ...ref, idx, itemId }),
      systemChitChat: (idx, itemId) => act.systemChitChat({ ...ref, idx, itemId }),
    },
    new Rng('conversation', seed),
  );
  const { opening, outcome, utterances } = shape;

  if (!current) await book.finishConversation({ ...ref, ...shape });
  const found = [...(lean ? [{ key: SA.Opening, value: opening }] : []), { key: SA.Outcome, value: outcome }];
  // Since stage 4 is one activity these attributes come with its memo: a workflow task, three history
  // events and a visibility update fewer per conversation.
  if (!oneStage4) upsertSearchAttributes(found);

  // Histories recorded before stage 4 was part of the workflow end here and must still replay.
  if (!oneStage4 && !patched('stage-4')) return { opening, outcome, utterances };
  const review = await optimizeAndReview(
    { conversationId, seed, ...via(input) },
    oneStage4
      ? { oneActivity: true, searchAttributes: found, ...(current ? { finish: shape } : {}) }
      : { oneActivity: false },
  );
  return { opening, outcome, utterances, review };
}
