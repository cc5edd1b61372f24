import { DIMENSIONS, type Dimension, type JudgeScores } from '../schemas/eval';

/** Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t(0.975, df): the table up to 30, then the Cornish-Fisher expansion around the normal 1.96 (error < 1e-3). */
export function tQuantile975(df: number): number {
  if (df < 1) return NaN;
  if (df <= 30) return T975[df - 1];
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

export interface MeanCi {
  n: number;
  mean: number;
  /** Half-width of the 95 % confidence interval of the mean (t distribution); NaN below two values. */
  ci95: number;
}

export function meanCi(xs: readonly number[]): MeanCi {
  const n = xs.length;
  const mean = n ? xs.reduce((a, b) => a + b, 0) / n : NaN;
  if (n < 2) return { n, mean, ci95: NaN };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { n, mean, ci95: (tQuantile975(n - 1) * sd) / Math.sqrt(n) };
}

/** Mean and 95 % CI per dimension; a null score (no image shown) counts for none. */
export function summarize(scores: readonly JudgeScores[]): Record<Dimension, MeanCi> {
  return Object.fromEntries(
    DIMENSIONS.map((d) => [d, meanCi(scores.map((s) => s[d]).filter((v): v is number => v !== null))]),
  ) as Record<Dimension, MeanCi>;
}

export function formatSummary(title: string, s: Record<Dimension, MeanCi>): string {
  const w = Math.max(...DIMENSIONS.map((d) => d.length));
  return [
    `${title}`,
    `${'dimension'.padEnd(w)}   mean   ±95% CI    n`,
    ...DIMENSIONS.map(
      (d) =>
        `${d.padEnd(w)}   ${Number.isNaN(s[d].mean) ? '  -  ' : s[d].mean.toFixed(2)}   ${Number.isNaN(s[d].ci95) ? '   -   ' : `±${s[d].ci95.toFixed(2)}`.padEnd(7)}   ${s[d].n}`,
    ),
  ].join('\n');
}
