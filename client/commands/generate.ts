import { Command } from 'commander';
import { defaultConcurrency, startOrAttachBatch } from '../batches';
import { batchSpend, watchBatch } from '../batch-watch';
import { batchUiUrl } from '../connection';
import { withInlineWorker } from '../inline-worker';
import { checkProvider, checkStage1 } from '../preflight';
import { apiOption, batchRolesFor, COMMAND_ROLES } from '../api';
import { int, providerOption, maxCostOption, describeRetrieval, withSession, ctrlC, report } from './shared';

export function register(program: Command): void {
  program
    .command('generate')
    .description('start a batch of conversations and show its progress; Ctrl-C detaches, the batch keeps running')
    .requiredOption('-n, --count <n>', 'conversations in the batch', int('-n', 1))
    .option('--batch <id>', 'batch id (default: b<date>-<time>); the id of a running batch attaches to it')
    .option(
      '--concurrency <c>',
      'most conversations running at once; under it the window follows the endpoint (default: 20 simulated, 200 openai)',
      int('--concurrency', 1),
    )
    .option('--seed <s>', 'seed for the batch (profiles and conversations)', int('--seed'), 1)
    .addOption(providerOption())
    .addOption(apiOption(true))
    .addOption(maxCostOption())
    .option('--no-worker', 'do not run a worker in this process (use `muse worker` processes)')
    .action((o) =>
      withSession(async (s) => {
        const batchId = o.batch ?? `b${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
        const batchRoles = batchRolesFor(o.provider, o.api, COMMAND_ROLES.generate);
        await checkProvider(o.provider);
        await checkStage1(s.pool);
        const { handle, attached } = await startOrAttachBatch(s, {
          batchId,
          size: o.count,
          seed: o.seed,
          concurrency: o.concurrency ?? defaultConcurrency(o.provider),
          provider: o.provider,
          maxCost: o.maxCost,
          batchRoles,
        });
        const detach = ctrlC();
        console.log(
          `batch ${batchId}${attached ? ' is already running: attached to it' : ''}: ${batchUiUrl(s, batchId)}`,
        );
        console.log(await describeRetrieval(s, o.provider));
        const r = await withInlineWorker(s, o.worker, () =>
          watchBatch(
            handle,
            batchId,
            detach,
            `fix that, then \`muse resume ${batchId}\` (finished conversations are kept)`,
            () => batchSpend(s, batchId),
          ),
        );
        report(batchId, r);
      }),
    );
}
