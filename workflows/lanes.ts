/**
 * Runs `work` for 0..n-1 with at most `concurrency` at a time, in order of index. A failure is counted
 * by the caller's `work`, not thrown, so one bad item never stops the others.
 */
export async function inLanes(n: number, concurrency: number, work: (k: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}
