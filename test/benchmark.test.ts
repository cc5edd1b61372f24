import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBenchmark, fullTextBaseline, NEGATIVES } from '../rec-benchmark/build';
import { score } from '../rec-benchmark/score';
import type { BenchmarkSample } from '../rec-benchmark/schema';
import { Rng } from '../random';
import { rig, runBatch, type TestRig } from './helpers';

describe('the scorer', () => {
  const sample = (id: string, target: string): BenchmarkSample => ({
    id,
    conversation_id: 'c',
    context: [],
    candidates: [target, 'x', 'y'],
    target,
  });
  it('computes Recall@k and NDCG@10 with one relevant item', () => {
    const samples = [sample('a', 't'), sample('b', 't'), sample('c', 't'), sample('d', 't')];
    const at = (rank: number) => [...Array.from({ length: rank - 1 }, (_, i) => `n${i}`), 't'];
    const s = score(samples, [
      { id: 'a', ranking: at(1) },
      { id: 'b', ranking: at(3) },
      { id: 'c', ranking: at(11) },
    ]);
    expect(s).toEqual({
      samples: 4,
      missing: 1,
      'recall@1': 0.25,
      'recall@5': 0.5,
      'recall@10': 0.5,
      'ndcg@10': (1 + 1 / Math.log2(4)) / 4,
    });
  });
});

describe('the recommendation benchmark', () => {
  let t: TestRig;
  let batchId: string;
  beforeAll(async () => {
    t = await rig();
    ({ batchId } = await runBatch(t, 'bench', { size: 15, seed: 12, concurrency: 8 }));
  });
  afterAll(() => t?.close());

  it('cuts each conversation before each recommendation, with the target among 99 seeded negatives', async () => {
    const samples = await buildBenchmark(t.pool, batchId);
    // Built from the dataset as exported: the conversations the stage-4 thresholds keep.
    const recs = (
      await t.pool.query(
        `SELECT count(*)::int AS n FROM utterances u JOIN conversations c ON c.id = u.conversation_id
      JOIN reviews r ON r.conversation_id = c.id AND r.pass = c.review_pass WHERE c.batch_id = $1 AND u.action = 'recommend' AND r.total >= 4 AND r.fits_context`,
        [batchId],
      )
    ).rows[0].n;
    expect(samples).toHaveLength(recs);
    for (const s of samples) {
      expect(s.candidates).toHaveLength(NEGATIVES + 1);
      expect(new Set(s.candidates).size).toBe(NEGATIVES + 1);
      expect(s.candidates).toContain(s.target);
      expect(s.context).toHaveLength(Number(s.id.split(':').pop()));
    }
    expect(await buildBenchmark(t.pool, batchId)).toEqual(samples);
  });

  it('scores the full-text baseline far above a random ranking', async () => {
    const samples = await buildBenchmark(t.pool, batchId);
    const baseline = score(samples, await fullTextBaseline(t.pool, samples));
    const random = score(
      samples,
      samples.map((s) => ({ id: s.id, ranking: new Rng('random', s.id).shuffle(s.candidates) })),
    );
    expect(baseline.missing).toBe(0);
    expect(baseline['recall@10']).toBeGreaterThan(3 * random['recall@10']);
    expect(baseline['ndcg@10']).toBeGreaterThan(random['ndcg@10']);
  });
});
