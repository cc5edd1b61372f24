import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createEval, evalExists, judgedScores, setEvalBudget, unjudgedCount } from '../db/evals';
import { loadBatch, loadFolder } from '../eval/source';
import { summarize, type MeanCi } from '../eval/summary';
import type { Dimension } from '../schemas/eval';
import { PROMPTS } from '../prompts';
import { Rng } from '../random';
import type { Thresholds } from '../schemas/review';
import { evalWorkflow, type EvalInput } from '../workflows/eval';
import { evalWorkflowId } from '../common/ids';
import type { BatchProgress } from '../workflows/batch';
import { startOrAttach } from './batches';
import { batchSpend, watchBatch } from './batch-watch';
import type { Session } from './connection';
import { via } from '../workflows/provider-batches';
import type { ViaBatch } from '../schemas/batch';

/** One evaluation's history stays far below Temporal's limits (about 5 events per judged conversation). */
export const MAX_EVAL_SAMPLE = 1000;

export interface EvalOptions extends ViaBatch {
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

  const exists = await evalExists(s.pool, evalId);
  if (!exists) {
    const order = new Rng('eval-sample', o.seed)
      .shuffle(loaded.records.map((_, i) => i))
      .slice(0, n)
      .sort((a, b) => a - b);
    const items = await Promise.all(order.map((i) => loaded.records[i].resolve()));
    await createEval(
      s.pool,
      { evalId, source: loaded.source, sample: n, seed: o.seed, judge, provider: o.provider },
      items,
    );
  }
  if (o.maxCost !== undefined) await setEvalBudget(s.pool, evalId, o.maxCost);
  const pending = await unjudgedCount(s.pool, evalId);
  let run: EvalReport['run'];
  if (pending > 0) {
    const input: EvalInput = { evalId, size: n, concurrency: o.concurrency, ...via(o) };
    const { handle } = await startOrAttach(s, evalWorkflow, evalWorkflowId(evalId), input, {
      provider: o.provider,
      memo: { source: loaded.source, sample: n, judge },
    });
    run = await watch(() => watchBatch(handle, `eval ${evalId}`, detach, undefined, () => batchSpend(s, evalId)));
  }
  const scores = await judgedScores(s.pool, evalId);
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
