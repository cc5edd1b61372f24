import { Command } from 'commander';
import { cancelBatch } from '../batches';
import { findBatch } from '../../db/batches';
import { OpenAiMllm } from '../../agents/openai';
import { withSession, RUN_ARGUMENT } from './shared';

export function register(program: Command): void {
  program
    .command('cancel')
    .description(
      'stop a running batch, and its provider batches at the provider: conversations in flight are cancelled, everything finished and stored is kept',
    )
    .argument('<batch>', RUN_ARGUMENT)
    .action((batchId: string) =>
      withSession(async (s) => {
        const cancelled = await cancelBatch(s, batchId, async (row) => {
          try {
            await OpenAiMllm.fromEnv(process.env, s.pool).batches.cancel(row);
          } catch (e) {
            // Its workflow asks the provider again at its next poll.
            console.log(
              `provider batch ${row.provider_batch_id}: the provider did not take the cancel yet (${(e as Error).message}); its workflow asks again at the next poll`,
            );
          }
        });
        if (cancelled.length === 0)
          return console.log(`batch ${batchId} is not running; nothing to cancel (\`muse status ${batchId}\`)`);
        const batch = await findBatch(s.pool, batchId);
        console.log(
          `cancelled ${cancelled.join(' and ')}; ` +
            (batch
              ? `finished conversations are kept, \`muse resume ${batchId}\` continues it`
              : 'answers already stored are kept: the same command again asks only for the rest'),
        );
      }),
    );
}
