import type { BatchProgress } from './progress';

/**
 * Runs `work` for 0..n-1 with at most `concurrency` at a time, in order of index. Pure (no Temporal
 * API), so workflows bound their activities with it and activities their LLM calls.
 */
export async function inLanes(n: number, concurrency: number, work: (k: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}

/**
 * inLanes for a workflow's activities, counted in `progress` (running, done, failed; each unit weighs
 * `weight(k)`). A failed unit is counted, not thrown, so one bad unit never stops the others.
 */
export async function inCountedLanes(progress: BatchProgress, n: number, concurrency: number, work: (k: number) => Promise<unknown>, weight: (k: number) => number = () => 1): Promise<void> {
  await inLanes(n, concurrency, async (k) => {
    progress.running += weight(k);
    try {
      await work(k);
      progress.done += weight(k);
    } catch {
      progress.failed += weight(k);
    } finally {
      progress.running -= weight(k);
    }
  });
}
