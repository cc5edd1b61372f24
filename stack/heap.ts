import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the heap is looked at: a worker allocates tens of MB a second at most, so 2 s bounds the overshoot. */
const CHECK_MS = 2_000;
/** After a collection, the next one waits until the heap has grown this much over what survived. */
const GROWTH = 1.5;

/**
 * Keeps the main thread's JS heap near `floorMb` (or GROWTH x what survived the last collection, if more)
 * by asking V8 for a full collection when it grows past that. A worker's live set is about 80 MB, but V8
 * sizes its next major collection by the memory the machine has, so garbage piled up to 300 MB between
 * collections and the worker's RSS swung from 390 to 615 MB over a 3,000-conversation batch. The usual
 * fix, `--max-old-space-size`, only works on node's command line: set from inside the process it reaches
 * only isolates created afterwards (docs/BENCHMARKS.md). `--expose-gc` set at run time does reach this
 * isolate, through a fresh context's global `gc`. Returns a function that stops it.
 */
export function keepHeapNear(floorMb: number): () => void {
  if (!(floorMb > 0)) return () => {};
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let threshold = floorMb * 2 ** 20;
  const timer = setInterval(() => {
    if (v8.getHeapStatistics().used_heap_size < threshold) return;
    gc();
    threshold = Math.max(floorMb * 2 ** 20, GROWTH * v8.getHeapStatistics().used_heap_size);
  }, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
