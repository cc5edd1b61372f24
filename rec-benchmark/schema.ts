import { z } from 'zod';
import { Speaker } from '../schemas/conversation';

/** One test case: a conversation cut just before a recommendation, with the items to rank. */
export const BenchmarkSample = z.strictObject({
  id: z.string().describe('<conversation id>:<utterance index of the recommendation>'),
  conversation_id: z.string(),
  context: z.array(z.strictObject({ speaker: Speaker, text: z.string() })),
  candidates: z.array(z.string()).min(2).describe('item ids to rank: the target and seeded negatives, shuffled'),
  target: z.string(),
});
export type BenchmarkSample = z.infer<typeof BenchmarkSample>;

/** A model's answer for one sample: the candidates, best first. */
export const Prediction = z.strictObject({ id: z.string(), ranking: z.array(z.string()).min(1) });
export type Prediction = z.infer<typeof Prediction>;
