import { Command } from 'commander';
import { withInlineWorker } from '../inline-worker';
import { listProblems } from '../../rec-benchmark/files';
import { checkProvider } from '../preflight';
import { MAX_EVAL_SAMPLE, runEval } from '../eval';
import { formatSummary } from '../../eval/summary';
import { PROMPTS } from '../../prompts';
import { apiOption, batchRolesFor, COMMAND_ROLES } from '../api';
import {
  int,
  withThresholds,
  thresholdsOf,
  providerOption,
  maxCostOption,
  withSession,
  ctrlC,
  printRefused,
  report,
} from './shared';

export function register(program: Command): void {
  withThresholds(
    program
      .command('eval')
      .description(
        "an LLM judge rates sampled conversations on the paper's five dimensions; mean and 95% CI per dimension",
      )
      .argument(
        '<batch|folder>',
        'a batch id (its dataset, as `muse export` would write it), or a folder with a dataset in the Muse record format (dataset.jsonl, *.jsonl or *.json)',
      ),
  )
    .option('--sample <n>', `conversations to judge (at most ${MAX_EVAL_SAMPLE})`, int('--sample', 1), 200)
    .option('--seed <s>', 'sampling seed', int('--seed'), 1)
    .option('--concurrency <c>', 'conversations judged at once', int('--concurrency', 1), 20)
    .addOption(providerOption())
    .addOption(apiOption())
    .addOption(maxCostOption())
    .option('--json', 'print the report as JSON')
    .option('--no-worker', 'do not run a worker in this process')
    .action((target: string, o) =>
      withSession(async (s) => {
        await checkProvider(o.provider);
        const r = await runEval(
          s,
          target,
          { ...o, thresholds: thresholdsOf(o), batchRoles: batchRolesFor(o.provider, o.api, COMMAND_ROLES.eval) },
          (fn) => withInlineWorker(s, o.worker, fn),
          ctrlC(),
        );
        if (r.run === 'detached') return report(r.evalId, r.run);
        if (o.json) return console.log(JSON.stringify(r, null, 2));
        if (r.problems.length)
          console.log(`left out ${r.problems.length} unreadable record(s):\n${listProblems(r.problems)}`);
        console.log(
          formatSummary(
            `evaluation ${r.evalId} of ${r.source}: ${r.judged} of ${r.sampled} sampled conversations judged (of ${r.available}), judge ${PROMPTS.datasetJudge.version} on ${o.provider}`,
            r.summary,
          ),
        );
        if (r.run?.paused) {
          console.log(`paused: ${r.run.paused}`);
          process.exitCode = 1;
        } else if (r.judged < r.sampled) {
          console.log(
            `${r.sampled - r.judged} could not be judged; run the same command again to retry them (judged ones are kept)`,
          );
          await printRefused(s, r.evalId);
          process.exitCode = 1;
        }
      }),
    );
}
