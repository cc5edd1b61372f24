import type { BenchmarkSample, Prediction } from './schema';

export interface Scores {
  samples: number;
  missing: number;
  'recall@1': number;
  'recall@5': number;
  'recall@10': number;
  'ndcg@10': number;
}

/**
 * Recall@k (the target within the first k) and NDCG@10 (one relevant item: 1/log2(rank+1) within the
 * first 10), averaged over every sample; a sample with no prediction scores 0 and is counted missing.
 */
export function score(samples: readonly BenchmarkSample[], predictions: readonly Prediction[]): Scores {
  const byId = new Map(predictions.map((p) => [p.id, p.ranking]));
  const sums = { r1: 0, r5: 0, r10: 0, ndcg: 0 };
  let missing = 0;
  for (const s of samples) {
    const ranking = byId.get(s.id);
    if (!ranking) {
      missing++;
      continue;
    }
    const rank = ranking.indexOf(s.target) + 1; // 0 when absent
    if (rank >= 1) {
      if (rank <= 1) sums.r1++;
      if (rank <= 5) sums.r5++;
      if (rank <= 10) {
        sums.r10++;
        sums.ndcg += 1 / Math.log2(rank + 1);
      }
    }
  }
  const n = samples.length || 1;
  return {
    samples: samples.length,
    missing,
    'recall@1': sums.r1 / n,
    'recall@5': sums.r5 / n,
    'recall@10': sums.r10 / n,
    'ndcg@10': sums.ndcg / n,
  };
}

export const formatScores = (s: Scores) =>
  `Recall@1 ${s['recall@1'].toFixed(3)}, Recall@5 ${s['recall@5'].toFixed(3)}, Recall@10 ${s['recall@10'].toFixed(3)}, NDCG@10 ${s['ndcg@10'].toFixed(3)} over ${s.samples} samples${s.missing ? ` (${s.missing} without a prediction)` : ''}`;
