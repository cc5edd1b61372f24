import { inTransaction, type Pool } from './pool';
import { JudgeScores } from '../schemas/eval';

/** Evaluations (`muse eval`): one row per run, one eval_items row per sampled conversation. */

export interface EvalSpec {
  evalId: string;
  source: string;
  sample: number;
  seed: number;
  judge: string;
  provider: string;
}

export interface EvalItem {
  recordId: string;
  persona: string;
  scenario: string;
  dialogue: unknown;
  images: unknown;
}

export async function evalExists(pool: Pool, evalId: string): Promise<boolean> {
  return ((await pool.query('SELECT 1 FROM evals WHERE id = $1', [evalId])).rowCount ?? 0) > 0;
}

/** The evaluation and its sample, stored together or not at all. */
export async function createEval(pool: Pool, e: EvalSpec, items: EvalItem[]): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query(
      'INSERT INTO evals (id, source, sample, seed, judge_version, provider) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.evalId, e.source, e.sample, e.seed, e.judge, e.provider],
    );
    for (const [k, it] of items.entries())
      await c.query(
        'INSERT INTO eval_items (eval_id, k, record_id, persona, scenario, dialogue, images) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [e.evalId, k, it.recordId, it.persona, it.scenario, JSON.stringify(it.dialogue), JSON.stringify(it.images)],
      );
  });
}

export async function setEvalBudget(pool: Pool, evalId: string, maxCostUsd: number): Promise<void> {
  await pool.query('UPDATE evals SET max_cost_usd = $2 WHERE id = $1', [evalId, maxCostUsd]);
}

export async function unjudgedCount(pool: Pool, evalId: string): Promise<number> {
  const r = await pool.query('SELECT count(*)::int AS n FROM eval_items WHERE eval_id = $1 AND scores IS NULL', [
    evalId,
  ]);
  return r.rows[0].n;
}

export async function judgedScores(pool: Pool, evalId: string): Promise<JudgeScores[]> {
  const r = await pool.query('SELECT scores FROM eval_items WHERE eval_id = $1 AND scores IS NOT NULL ORDER BY k', [
    evalId,
  ]);
  return r.rows.map((row) => JudgeScores.parse(row.scores));
}

/** One sampled conversation of an evaluation, with its provider and its scores once judged. */
export async function evalItem(
  pool: Pool,
  evalId: string,
  k: number,
): Promise<(Record<string, unknown> & { provider: string; scores: unknown }) | undefined> {
  const r = await pool.query(
    `SELECT e.provider, i.record_id AS "recordId", i.persona, i.scenario, i.dialogue, i.images, i.scores
     FROM eval_items i JOIN evals e ON e.id = i.eval_id WHERE i.eval_id = $1 AND i.k = $2`,
    [evalId, k],
  );
  return r.rows[0];
}

export async function storeScores(pool: Pool, evalId: string, k: number, scores: JudgeScores): Promise<void> {
  await pool.query('UPDATE eval_items SET scores = $3, judged_at = now() WHERE eval_id = $1 AND k = $2', [
    evalId,
    k,
    scores,
  ]);
}
