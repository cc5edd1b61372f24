import { queuedAsResult } from '../common/queued';
import type { Mllm, ViaBatch } from '../agents/calls';
import type { Pool } from '../db/pool';
import { evalItem, storeScores } from '../db/evals';
import { EvalItem, JudgeScores } from '../schemas/eval';

/** The judge of `muse eval`: one sampled conversation per activity, loaded from PostgreSQL by its key. */
export function evalActivities({ pool, llm }: { pool: Pool; llm: (provider: string) => Mllm }) {
  return {
    /** Idempotent: a conversation already judged returns its stored scores and calls no model. */
    judgeConversation: queuedAsResult(async (input: { evalId: string; k: number } & ViaBatch): Promise<JudgeScores> => {
      const r = await evalItem(pool, input.evalId, input.k);
      if (!r) throw new Error(`evaluation ${input.evalId} has no conversation ${input.k}`);
      if (r.scores) return JudgeScores.parse(r.scores);
      const item = EvalItem.parse(r);
      const scores = await llm(r.provider).call(
        'datasetJudge',
        { persona: item.persona, scenario: item.scenario, dialogue: item.dialogue, images: item.images },
        { key: `eval:${input.evalId}:${input.k}`, batchId: input.evalId, batchRoles: input.batchRoles },
      );
      await storeScores(pool, input.evalId, input.k, scores);
      return scores;
    }),
  };
}
