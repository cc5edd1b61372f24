import { upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { Begun, Subject } from '../activities';
import { Rng } from '../random';
import type { Opening, Outcome } from '../schemas/conversation';
import { runConversation } from '../method/index';
import type { Review } from '../schemas/review';
import { act } from './activities';
import { optimizeAndReview } from './optimize';
import * as SA from '../common/search-attributes';
import type { ViaBatch } from '../schemas/batch';
import { via } from './provider-batches';

export interface ConversationInput extends ViaBatch {
  conversationId: string;
  /** The recorded seed: every random choice below comes from it, so a resumed run retraces the first. */
  seed: number;
}
export interface ConversationResult {
  opening: Opening;
  outcome: Outcome;
  utterances: number;
  /** Stage 4's verdict. */
  review: Review;
}

/**
 * Stages 3 and 4 of the method for one profile: the simulated conversation between a user agent and a
 * recommender, then its optimisation and review, so one conversation is one durable unit.
 */
export async function conversationWorkflow(input: ConversationInput): Promise<ConversationResult> {
  const { conversationId, seed } = input;
  const ref = { conversationId };
  let targetItemId = '';
  const about = (who: Subject) => {
    targetItemId = who.targetItemId;
    upsertMemo({ persona: who.persona, scenario: who.scenario, targetItem: `${who.targetItemId}: ${who.targetTitle}` });
    upsertSearchAttributes([{ key: SA.TargetItem, value: who.targetItemId }]);
  };
  // The first agent call begins the conversation (marks it running, says who it is about): no step of its own.
  let toBegin = true;
  const first = () => (toBegin ? ((toBegin = false), { ...ref, begin: true }) : ref);
  const begun = <T extends Begun>(r: T): T => {
    if (r.subject) about(r.subject);
    return r;
  };

  const shape = await runConversation(
    {
      begin: async () => {},
      planImageOpening: async () => begun(await act.planImageOpening(first())),
      writeImageOpening: (boughtItemId) => act.writeImageOpening({ ...ref, boughtItemId }),
      askOccasion: (idx) => act.askOccasion({ ...ref, idx }),
      answerOccasion: (idx) => act.answerOccasion({ ...ref, idx }),
      writeTextOpening: async () => begun(await act.writeTextOpening(first())),
      opened: () => {},
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
  // Stage 4's activity records how stage 3 ended, and these attributes come with its memo: one workflow
  // task for both.
  const review = await optimizeAndReview(
    { conversationId, seed, ...via(input) },
    {
      searchAttributes: [
        { key: SA.Opening, value: opening },
        { key: SA.Outcome, value: outcome },
      ],
      finish: shape,
    },
  );
  return { opening, outcome, utterances, review };
}
