import type { BatchProgress } from './progress';
import { budgetCause, failWith, fatalCause } from './failures';

/**
 * Runs `work` for 0..n-1 with at most `concurrency` at a time, in order of index. Pure (no Temporal
 * API), so workflows bound their activities with it and activities their LLM calls. When a unit fails,
 * no new unit starts, the ones in flight finish (and store what they made), and then the first failure
 * is thrown: a retried activity must never race its own previous attempt and pay twice.
 */
export async function inLanes(n: number, concurrency: number, work: (k: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < n && !failure) {
      try {
        await work(next++);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  if (failure) throw failure.error;
}

/** Thrown inside the lanes to stop them when the budget is spent; never leaves inCountedLanes. */
const PAUSE = { paused: true };

/**
 * inLanes for a workflow's activities, counted in `progress` (running, done, failed; each unit weighs
 * `weight(k)`). A failed unit is counted, not thrown, so one bad unit never stops the others; with
 * `stopOnFatal`, a failure that says the setup is wrong (see failures.ts) stops them all and is thrown.
 * A unit refused for the budget stops them too, and the run ends early with `progress.paused`.
 */
export async function inCountedLanes(
  progress: BatchProgress,
  n: number,
  concurrency: number,
  work: (k: number) => Promise<unknown>,
  weight: (k: number) => number = () => 1,
  stopOnFatal = false,
): Promise<void> {
  await inLanes(n, concurrency, async (k) => {
    progress.running += weight(k);
    try {
      await work(k);
      progress.done += weight(k);
    } catch (e) {
      const budget = budgetCause(e);
      if (budget) {
        progress.paused ??= budget.message;
        throw PAUSE;
      }
      progress.failed += weight(k);
      const fatal = stopOnFatal ? fatalCause(e) : undefined;
      if (fatal) throw failWith(fatal);
    } finally {
      progress.running -= weight(k);
    }
  }).catch((e) => {
    if (e !== PAUSE) throw e;
  });
}
