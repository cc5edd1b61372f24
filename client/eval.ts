import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { inTransaction } from '../db/pool';
import { loadBatch, loadFolder } from '../eval/source';
import { JudgeScores } from '../eval/schema';
import { summarize, type MeanCi } from '../eval/summary';
import type { Dimension } from '../eval/schema';
import { PROMPTS } from '../prompts';
import { Rng } from '../random';
import type { Thresholds } from '../schemas/review';
import { evalWorkflow, type EvalInput } from '../workflows/eval';
import { evalWorkflowId } from '../workflows/ids';
import type { BatchProgress } from '../workflows/batch';
import { startOrAttach, watchBatch } from './batches';
import type { Session } from './connection';

/** One evaluation's history stays far below Temporal's limits (about 5 events per judged conversation). */
export const MAX_EVAL_SAMPLE = 1000;

export interface EvalOptions {
  /** For a batch: which conversations form its dataset (as in `muse export`). */
  thresholds?: Partial<Thresholds>;
  sample: number;
  seed: number;
  provider: string;
  concurrency: number;
  /** Budget cap in USD on what the evaluation's judge calls spend in all. */
  maxCost?: number;
}

export interface EvalReport {
  evalId: string;
  source: string;
  sampled: number;
  available: number;
  judged: number;
  problems: string[];
  summary: Record<Dimension, MeanCi>;
  /** Undefined when every conversation was already judged and no workflow ran. */
  run?: BatchProgress | 'detached';
}

/**
 * `muse eval <batch|folder>`: samples conversations (seeded), stores them, has the judge rate each in a
 * Temporal workflow, and summarises the stored scores. The evaluation is named by its source, sample
 * size, seed, judge prompt version and provider, so running it again reuses every stored judgement.
 */
export async function runEval(
  s: Session,
  target: string,
  o: EvalOptions,
  watch: (fn: () => Promise<BatchProgress | 'detached'>) => Promise<BatchProgress | 'detached'>,
  detach?: Promise<void>,
): Promise<EvalReport> {
  if (o.sample > MAX_EVAL_SAMPLE)
    throw new Error(`--sample ${o.sample}: at most ${MAX_EVAL_SAMPLE} conversations per evaluation`);
  const loaded =
    fs.existsSync(target) && fs.statSync(target).isDirectory()
      ? await loadFolder(s.pool, target)
      : await loadBatch(s.pool, target, o.thresholds);
  if (loaded.records.length === 0) throw new Error(`${target}: no conversation to evaluate`);
  const n = Math.min(o.sample, loaded.records.length);
  const judge = PROMPTS.datasetJudge.version;
  const evalId = `e-${createHash('sha256').update([loaded.source, n, o.seed, judge, o.provider].join('|')).digest('hex').slice(0, 12)}`;

  const exists = (await s.pool.query('SELECT 1 FROM evals WHERE id = $1', [evalId])).rowCount;
  if (!exists) {
    const order = new Rng('eval-sample', o.seed)
      .shuffle(loaded.records.map((_, i) => i))
      .slice(0, n)
      .sort((a, b) => a - b);
    const items = await Promise.all(order.map((i) => loaded.records[i].resolve()));
    // The evaluation and its sample are stored together or not at all.
    await inTransaction(s.pool, async (c) => {
      await c.query(
        'INSERT INTO evals (id, source, sample, seed, judge_version, provider) VALUES ($1, $2, $3, $4, $5, $6)',
        [evalId, loaded.source, n, o.seed, judge, o.provider],
      );
      for (const [k, it] of items.entries())
        await c.query(
          'INSERT INTO eval_items (eval_id, k, record_id, persona, scenario, dialogue, images) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [evalId, k, it.recordId, it.persona, it.scenario, JSON.stringify(it.dialogue), JSON.stringify(it.images)],
        );
    });
  }
  if (o.maxCost !== undefined)
    await s.pool.query('UPDATE evals SET max_cost_usd = $2 WHERE id = $1', [evalId, o.maxCost]);
  const pending = (
    await s.pool.query('SELECT count(*)::int AS n FROM eval_items WHERE eval_id = $1 AND scores IS NULL', [evalId])
  ).rows[0].n;
  let run: EvalReport['run'];
  if (pending > 0) {
    const input: EvalInput = { evalId, size: n, concurrency: o.concurrency };
    const { handle } = await startOrAttach(s, evalWorkflow, evalWorkflowId(evalId), input, {
      provider: o.provider,
      memo: { source: loaded.source, sample: n, judge },
    });
    run = await watch(() => watchBatch(handle, `eval ${evalId}`, detach));
  }
  const scores = (
    await s.pool.query('SELECT scores FROM eval_items WHERE eval_id = $1 AND scores IS NOT NULL ORDER BY k', [evalId])
  ).rows.map((r) => JudgeScores.parse(r.scores));
  return {
    evalId,
    source: loaded.source,
    sampled: n,
    available: loaded.records.length,
    judged: scores.length,
    problems: loaded.problems,
    summary: summarize(scores),
    run,
  };
}
