import { Command } from 'commander';
import { datasetCounts, describeCounts } from '../../export';
import { optimizeBatch } from '../batches';
import { batchSpend, watchBatch } from '../batch-watch';
import { withInlineWorker } from '../inline-worker';
import { apiOption, batchRolesFor, COMMAND_ROLES } from '../api';
import { int, maxCostOption, withSession, ctrlC, report, checkedProviderOf } from './shared';

export function register(program: Command): void {
  program
    .command('optimize')
    .description(
      'stage 4 again (rewrite, check, review, screen) for a finished batch, with the current prompt versions',
    )
    .argument('<batch>')
    .option('--concurrency <c>', "conversations optimised at once (default: the batch's)", int('--concurrency', 1))
    .addOption(apiOption())
    .addOption(maxCostOption())
    .option('--no-worker', 'do not run a worker in this process')
    .action((batchId: string, o) =>
      withSession(async (s) => {
        const provider = await checkedProviderOf(s, batchId);
        const { handle, pass, todo } = await optimizeBatch(s, batchId, {
          concurrency: o.concurrency,
          maxCost: o.maxCost,
          batchRoles: batchRolesFor(provider ?? 'simulated', o.api, COMMAND_ROLES.optimize),
        });
        if (!handle)
          return console.log(
            `batch ${batchId}: every completed conversation already has its review from ${pass}; nothing to do`,
          );
        const detach = ctrlC();
        console.log(
          `batch ${batchId}: optimising ${todo < 0 ? 'the rest (already running)' : `${todo} conversations`} with ${pass}`,
        );
        const r = await withInlineWorker(s, o.worker, () =>
          watchBatch(
            handle,
            `${batchId} (optimize)`,
            detach,
            `fix that, then \`muse optimize ${batchId}\` again (stored rewrites and reviews are kept)`,
            () => batchSpend(s, batchId),
          ),
        );
        report(batchId, r);
        if (r !== 'detached')
          console.log(describeCounts(await datasetCounts(s.pool, batchId)) + ' at the default thresholds');
      }),
    );
}
