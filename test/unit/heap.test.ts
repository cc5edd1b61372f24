import { constants, PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { keepHeapNear } from '../../stack/heap';

/** Full collections asked for by the process itself (gc()), not by V8's own heuristics. */
async function forcedCollections(during: () => Promise<void>): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const d = (e as PerformanceEntry & { detail: { kind: number; flags: number } }).detail;
      if (d.kind === constants.NODE_PERFORMANCE_GC_MAJOR && d.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) n++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  try {
    await during();
    await new Promise((r) => setTimeout(r, 50)); // entries are delivered asynchronously
  } finally {
    obs.disconnect();
  }
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('the worker heap governor', () => {
  it('collects once the heap passes its floor, then waits for the heap to grow by half again', async () => {
    // A 1 MB floor: any heap is past it, so the first check collects.
    const stop = keepHeapNear(1);
    try {
      expect(await forcedCollections(() => sleep(2_500))).toBe(1);
      // What survived sets the next threshold: with no new garbage, no collection every 2 s.
      expect(await forcedCollections(() => sleep(2_500))).toBe(0);
    } finally {
      stop();
    }
  });

  it('is off at 0 (MUSE_HEAP_MB=0 leaves the heap to V8)', async () => {
    const stop = keepHeapNear(0);
    try {
      expect(await forcedCollections(() => sleep(2_500))).toBe(0);
    } finally {
      stop();
    }
  });
});
