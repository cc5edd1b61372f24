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
