import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { Rng } from '../random';
import type { Opening, Outcome } from '../schemas/conversation';
import { IMAGE_OPENING_PROBABILITY, MAX_ROUND, nextAction, type RoundAction } from './method';
import type { Review } from '../schemas/review';
import { act } from './activities';
import { optimizeAndReview } from './optimize';
import * as SA from './search-attributes';

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
  const rng = new Rng('conversation', seed);
  const ref = { conversationId };
  const who = await act.beginConversation(ref);
  upsertMemo({ persona: who.persona, scenario: who.scenario, targetItem: `${who.targetItemId}: ${who.targetTitle}` });
  upsertSearchAttributes([{ key: SA.TargetItem, value: who.targetItemId }]);

  // Opening: try the image opening with probability 0.2; fall back to the text opening.
  let opening: Opening = 'text';
  let idx = 0;
  if (rng.chance(IMAGE_OPENING_PROBABILITY)) {
    const plan = await act.planImageOpening(ref);
    if (plan.ok) {
      opening = 'image';
      await act.writeImageOpening({ ...ref, boughtItemId: plan.boughtItemId });
      await act.askOccasion({ ...ref, idx: 4 });
      await act.answerOccasion({ ...ref, idx: 5 });
      idx = 6;
    }
  }
  if (opening === 'text') {
    await act.writeTextOpening(ref);
    idx = 4;
  }
  upsertSearchAttributes([{ key: SA.Opening, value: opening }]);
  const maxRound = MAX_ROUND[opening];

  // Round 1: the system recommends.
  let last = await act.systemRecommends({ ...ref, idx: idx++, pick: rng.next() });
  let lastItem = last.mentionedItemIds[0];
  let previous: RoundAction = 'recommend';
  let outcome: Outcome = 'retrieval';

  for (let round = 2; ; round++) {
    if (lastItem === who.targetItemId) {
      await act.userAccepts({ ...ref, idx: idx++, itemId: lastItem });
      break;
    }
    const action = nextAction(round, maxRound, previous, () => rng.next());
    if (action === 'chit-chat') {
      await act.userChitChat({ ...ref, idx: idx++, itemId: lastItem });
      await act.systemChitChat({ ...ref, idx: idx++, itemId: lastItem });
    } else {
      await act.userRejects({ ...ref, idx: idx++, itemId: lastItem });
      if (round >= maxRound) {
        await act.systemRecommendsTarget({ ...ref, idx: idx++ });
        await act.userAccepts({ ...ref, idx: idx++, itemId: who.targetItemId });
        outcome = 'forced';
        break;
      }
      last = await act.systemRecommends({ ...ref, idx: idx++, pick: rng.next() });
      lastItem = last.mentionedItemIds[0];
    }
    previous = action;
  }

  await act.finishConversation({ ...ref, opening, outcome, utterances: idx });
  upsertSearchAttributes([{ key: SA.Outcome, value: outcome }]);

  // Histories recorded before stage 4 was part of the workflow end here and must still replay.
  if (!patched('stage-4')) return { opening, outcome, utterances: idx };
  const review = await optimizeAndReview({ conversationId, seed });
  return { opening, outcome, utterances: idx, review };
}
