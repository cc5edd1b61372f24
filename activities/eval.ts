import type { Mllm } from '../agents/calls';
import type { Pool } from '../db/pool';
import { EvalItem, JudgeScores } from '../eval/schema';

/** The judge of `muse eval`: one sampled conversation per activity, loaded from PostgreSQL by its key. */
export function evalActivities({ pool, llm }: { pool: Pool; llm: (provider: string) => Mllm }) {
  return {
    /** Idempotent: a conversation already judged returns its stored scores and calls no model. */
    async judgeConversation(input: { evalId: string; k: number }): Promise<JudgeScores> {
      const r = (
        await pool.query(
          `SELECT e.provider, i.record_id AS "recordId", i.persona, i.scenario, i.dialogue, i.images, i.scores
         FROM eval_items i JOIN evals e ON e.id = i.eval_id WHERE i.eval_id = $1 AND i.k = $2`,
          [input.evalId, input.k],
        )
      ).rows[0];
      if (!r) throw new Error(`evaluation ${input.evalId} has no conversation ${input.k}`);
      if (r.scores) return JudgeScores.parse(r.scores);
      const item = EvalItem.parse(r);
      const scores = await llm(r.provider).call(
        'datasetJudge',
        { persona: item.persona, scenario: item.scenario, dialogue: item.dialogue, images: item.images },
        { key: `eval:${input.evalId}:${input.k}`, batchId: input.evalId },
      );
      await pool.query('UPDATE eval_items SET scores = $3, judged_at = now() WHERE eval_id = $1 AND k = $2', [
        input.evalId,
        input.k,
        scores,
      ]);
      return scores;
    },
  };
}
