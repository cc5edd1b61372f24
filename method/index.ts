import type { Rng } from '../random';
import type { Opening, Outcome } from '../schemas/conversation';

/** Stage 3 probabilities and limits, as the method gives them (../shared/MUSE_METHOD.md). */
export const IMAGE_OPENING_PROBABILITY = 0.2;
export const MAX_ROUND = { text: 4, image: 3 } as const;
/** Chance of a chit-chat round when the rules leave it open, by round; rounds not listed never chit-chat. */
export const CHIT_CHAT_PROBABILITY: Readonly<Record<number, number>> = { 2: 0.3, 3: 0.2, 4: 0 };

export type RoundAction = 'chit-chat' | 'recommend';

/**
 * The action of a round after the first (the caller has already handled an accepted target):
 * recommend at max_round, recommend after a chit-chat round, otherwise chit-chat with the round's
 * probability. `draw` is called only when the rules leave the choice open.
 */
export function nextAction(round: number, maxRound: number, previous: RoundAction, draw: () => number): RoundAction {
  if (round >= maxRound || previous === 'chit-chat') return 'recommend';
  return draw() < (CHIT_CHAT_PROBABILITY[round] ?? 0) ? 'chit-chat' : 'recommend';
}

/** Stage 4: the chance that a rewrite may use colloquial language. */
export const COLLOQUIAL_PROBABILITY = 0.2;

/** Utterances an opening writes in one call: two rounds of small talk (system, user, system, user). */
export const OPENING_UTTERANCES = 4;

/**
 * Stage 3's steps, each one agent call that writes utterance `idx` (or the opening's first four).
 * The workflow runs them as activities; the estimator runs them as counters.
 */
export interface ConversationSteps {
  /** The conversation begins (a workflow may fold this into its first agent call). */
  begin(): Promise<void>;
  /** Picks the item the user bought and asks the judge whether it pairs with the target. */
  planImageOpening(): Promise<{ ok: true; boughtItemId: string } | { ok: false }>;
  writeImageOpening(boughtItemId: string): Promise<unknown>;
  askOccasion(idx: number): Promise<unknown>;
  answerOccasion(idx: number): Promise<unknown>;
  writeTextOpening(): Promise<unknown>;
  /** The opening is settled (a workflow records it before the rounds begin). */
  opened(opening: Opening): void;
  /** Retrieves and recommends; `pick` chooses among the top results. Returns the item and whether it is the target. */
  systemRecommends(idx: number, pick: number): Promise<{ itemId: string; isTarget: boolean }>;
  /** Recommends the target itself; returns its id. */
  systemRecommendsTarget(idx: number): Promise<string>;
  userAccepts(idx: number, itemId: string): Promise<unknown>;
  userRejects(idx: number, itemId: string): Promise<unknown>;
  userChitChat(idx: number, itemId: string): Promise<unknown>;
  systemChitChat(idx: number, itemId: string): Promise<unknown>;
}

export interface ConversationShape {
  opening: Opening;
  outcome: Outcome;
  utterances: number;
}

/**
 * Stage 3 for one profile, as the method gives it: the opening (image with probability 0.2, else text),
 * then rounds of recommend / reject / chit-chat until the user accepts the target or max_round forces it.
 * Every random choice is drawn from `rng` in a fixed order, so a replay takes the same branches.
 */
export async function runConversation(steps: ConversationSteps, rng: Rng): Promise<ConversationShape> {
  await steps.begin();

  let opening: Opening = 'text';
  let idx = 0;
  if (rng.chance(IMAGE_OPENING_PROBABILITY)) {
    const plan = await steps.planImageOpening();
    if (plan.ok) {
      opening = 'image';
      await steps.writeImageOpening(plan.boughtItemId);
      await steps.askOccasion(OPENING_UTTERANCES);
      await steps.answerOccasion(OPENING_UTTERANCES + 1);
      idx = OPENING_UTTERANCES + 2;
    }
  }
  if (opening === 'text') {
    await steps.writeTextOpening();
    idx = OPENING_UTTERANCES;
  }
  steps.opened(opening);
  const maxRound = MAX_ROUND[opening];

  // Round 1: the system recommends.
  let last = await steps.systemRecommends(idx++, rng.next());
  let previous: RoundAction = 'recommend';
  for (let round = 2; ; round++) {
    if (last.isTarget) {
      await steps.userAccepts(idx++, last.itemId);
      return { opening, outcome: 'retrieval', utterances: idx };
    }
    const action = nextAction(round, maxRound, previous, () => rng.next());
    if (action === 'chit-chat') {
      await steps.userChitChat(idx++, last.itemId);
      await steps.systemChitChat(idx++, last.itemId);
    } else {
      await steps.userRejects(idx++, last.itemId);
      if (round >= maxRound) {
        const target = await steps.systemRecommendsTarget(idx++);
        await steps.userAccepts(idx++, target);
        return { opening, outcome: 'forced', utterances: idx };
      }
      last = await steps.systemRecommends(idx++, rng.next());
    }
    previous = action;
  }
}
