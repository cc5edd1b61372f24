import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { buildBenchmark, fullTextBaseline } from '../../rec-benchmark/build';
import { readJsonl, writeJsonl } from '../../rec-benchmark/files';
import { BenchmarkSample, Prediction } from '../../rec-benchmark/schema';
import { formatScores, score } from '../../rec-benchmark/score';
import { withThresholds, thresholdsOf, withSession } from './shared';

export function register(program: Command): void {
  const benchmark = program
    .command('benchmark')
    .description('the recommendation benchmark built from a batch, for fine-tuning studies');
  withThresholds(
    benchmark
      .command('export')
      .description(
        "write benchmark.jsonl (each recommendation of the dataset: context, 100 candidates, target) and the full-text baseline's predictions and scores",
      )
      .argument('<batch>')
      .option('--out <dir>', 'output folder (default out/<batch>-benchmark)'),
  ).action((batchId: string, o) =>
    withSession(async (s) => {
      const dir = o.out ?? path.join('out', `${batchId}-benchmark`);
      const samples = await buildBenchmark(s.pool, batchId, thresholdsOf(o));
      if (samples.length === 0)
        throw new Error(
          `batch ${batchId} has no recommendation in its dataset (see \`muse export ${batchId}\` for what the thresholds keep)`,
        );
      const baseline = await fullTextBaseline(s.pool, samples);
      fs.mkdirSync(dir, { recursive: true });
      writeJsonl(path.join(dir, 'benchmark.jsonl'), samples);
      writeJsonl(path.join(dir, 'baseline-predictions.jsonl'), baseline);
      console.log(
        `${samples.length} samples in ${path.join(dir, 'benchmark.jsonl')}; full-text baseline: ${formatScores(score(samples, baseline))}`,
      );
    }),
  );
  benchmark
    .command('score')
    .description('Recall@1/5/10 and NDCG@10 of a model\'s predictions ({"id", "ranking"} per line)')
    .argument('<benchmark.jsonl>')
    .argument('<predictions.jsonl>')
    .action((benchFile: string, predFile: string) => {
      console.log(formatScores(score(readJsonl(benchFile, BenchmarkSample), readJsonl(predFile, Prediction))));
    });
}
