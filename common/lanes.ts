import { ApplicationFailure } from '@temporalio/common';
import type { BatchProgress } from './progress';
import { FailureType } from '../schemas/failures';
import { budgetCause, cancelledCause, failWith, fatalCause, unitsLeftOf } from './failures';

const ofType = (e: unknown, type: string) => e instanceof ApplicationFailure && e.type === type;
/**
 * A call queued for a provider batch is no failure, and one request the Batch API refused fails its unit
 * only: neither stops the other units, which go on and queue or store theirs.
 */
const perRequest = (e: unknown) => ofType(e, FailureType.AwaitingBatch) || ofType(e, FailureType.BatchRequestFailed);
const nonRetryable = (e: unknown) => e instanceof ApplicationFailure && e.nonRetryable === true && !perRequest(e);
/**
 * Which failure a run of lanes throws: any other before a unit's wait for a provider batch, and that wait
 * before a refused request, so a unit still waiting for some answers fails only once they are stored.
 */
const rank = (e: unknown) =>
  ofType(e, FailureType.BatchRequestFailed) ? 0 : ofType(e, FailureType.AwaitingBatch) ? 1 : 2;

/**
 * Runs `work` for 0..n-1 with at most `concurrency` at a time, in order of index. Pure (no Temporal
 * API), so workflows bound their activities with it and activities their LLM calls. A unit that fails
 * does not stop the others (each stores what it made, so the retry redoes only the failed ones), unless
 * `stopOn` says its failure dooms them all (by default: a non-retryable one); then no new unit starts.
 * Either way the first failure is thrown only once no unit is in flight: a retried activity must never
 * race its own previous attempt and pay twice.
 */
export async function inLanes(
  n: number,
  concurrency: number,
  work: (k: number) => Promise<void>,
  stopOn: (e: unknown) => boolean = nonRetryable,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  let stopped = false;
  const lane = async () => {
    while (next < n && !stopped) {
      try {
        await work(next++);
      } catch (error) {
        if (!failure || rank(error) > rank(failure.error)) failure = { error };
        if (stopOn(error)) stopped = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  if (failure) throw failure.error;
}

/**
 * Thrown by a unit that stops waiting for a provider batch so that its workflow hands over to a fresh run
 * (see batchAnswers): what it left undone (all of it, unless its activity said) goes to the next run, and
 * what it stored counts done.
 */
export class HandOver {
  constructor(readonly unitsLeft?: number) {}
}

/** Thrown inside the lanes to stop them when the budget is spent; never leaves inCountedLanes. */
const PAUSE = { paused: true };

/**
 * inLanes for a workflow's activities, counted in `progress` (running, done, failed; each unit weighs
 * `weight(k)`). A failed unit is counted, not thrown, so one bad unit never stops the others; a failure
 * that says the setup is wrong (see failures.ts) stops them all and is thrown.
 * A unit refused for the budget stops them too, and the run ends early with `progress.paused`.
 */
export async function inCountedLanes(
  progress: BatchProgress,
  n: number,
  concurrency: number,
  work: (k: number) => Promise<unknown>,
  weight: (k: number) => number = () => 1,
): Promise<{ handedOver: boolean }> {
  let handedOver = false;
  await inLanes(
    n,
    concurrency,
    async (k) => {
      progress.running += weight(k);
      try {
        await work(k);
        progress.done += weight(k);
      } catch (e) {
        if (e instanceof HandOver) {
          handedOver = true;
          progress.done += weight(k) - Math.min(weight(k), e.unitsLeft ?? weight(k));
          return;
        }
        // The run was cancelled (`muse cancel`): it ends cancelled, not with every unit counted as failed.
        if (cancelledCause(e)) throw e;
        const budget = budgetCause(e);
        if (budget) {
          progress.paused ??= budget.message;
          throw PAUSE;
        }
        // A unit of many items that stored most of them counts those done (its activity says how many are left).
        const failed = Math.min(weight(k), unitsLeftOf(e) ?? weight(k));
        progress.failed += failed;
        progress.done += weight(k) - failed;
        const fatal = fatalCause(e);
        if (fatal) throw failWith(fatal);
      } finally {
        progress.running -= weight(k);
      }
    },
    () => true,
  ).catch((e) => {
    if (e !== PAUSE) throw e;
  });
  return { handedOver };
}
