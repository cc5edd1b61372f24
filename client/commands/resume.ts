import { Command } from 'commander';
import { resumeBatch } from '../batches';
import { batchSpend, watchBatch } from '../batch-watch';
import { withInlineWorker } from '../inline-worker';
import { apiOption, batchRolesFor, COMMAND_ROLES } from '../api';
import { maxCostOption, withSession, ctrlC, report, checkedProviderOf } from './shared';

export function register(program: Command): void {
  program
    .command('resume')
    .description(
      'continue a batch that is not complete: failed, interrupted and never-started conversations; stored utterances are reused',
    )
    .argument('<batch>')
    .option(
      '--from-scratch',
      'drop the stored utterances and generate every conversation again (unchanged calls are answered from the ledger)',
    )
    .addOption(apiOption(true))
    .addOption(maxCostOption())
    .option('--no-worker', 'do not run a worker in this process')
    .action((batchId: string, o) =>
      withSession(async (s) => {
        const provider = await checkedProviderOf(s, batchId);
        const resumed = await resumeBatch(s, batchId, {
          fromScratch: o.fromScratch,
          maxCost: o.maxCost,
          // Without --api a resume goes on the way its batch was started.
          ...(o.api ? { batchRoles: batchRolesFor(provider ?? 'simulated', o.api, COMMAND_ROLES.generate) } : {}),
        });
        if (!resumed) return console.log(`batch ${batchId}: nothing to resume, every conversation is completed`);
        const detach = ctrlC();
        if (resumed.restarted) console.log(`batch ${batchId}: ${resumed.restarted}`);
        console.log(
          resumed.attached
            ? `batch ${batchId} is running: attached to it`
            : `batch ${batchId}: resuming ${resumed.conversations} conversations`,
        );
        const r = await withInlineWorker(s, o.worker, () =>
          watchBatch(
            resumed.handle,
            `${batchId} (resume)`,
            detach,
            `fix that, then \`muse resume ${batchId}\` again`,
            () => batchSpend(s, batchId),
          ),
        );
        report(batchId, r);
      }),
    );
}
