import { Command } from 'commander';
import { batchSpend } from '../batch-watch';
import { withInlineWorker } from '../inline-worker';
import { checkProvider, checkStage1 } from '../preflight';
import { profileCounts, startProfiles, watchProfiles } from '../profiles';
import { apiOption, batchRolesFor, COMMAND_ROLES } from '../api';
import { int, providerOption, withSession, ctrlC, printRefused, report } from './shared';

export function register(program: Command): void {
  program
    .command('profiles')
    .description('stage 2 as a workflow: sample, gate, write and deduplicate until N more profiles are accepted')
    .requiredOption('-n, --count <n>', 'accepted profiles to add', int('-n', 1))
    .option('--seed <s>', "sampling seed (a seed's sequence continues where its last run stopped)", int('--seed'), 1)
    .option(
      '--concurrency <c>',
      'chunks of 10 samples generated at once (through the Batch API: sent together in one batch)',
      int('--concurrency', 1),
      10,
    )
    .addOption(providerOption())
    .addOption(apiOption())
    .option('--no-worker', 'do not run a worker in this process')
    .action((o) =>
      withSession(async (s) => {
        await checkProvider(o.provider);
        await checkStage1(s.pool);
        const batchRoles = batchRolesFor(o.provider, o.api, COMMAND_ROLES.profiles);
        const { handle, attached } = await startProfiles(s, { ...o, batchRoles });
        const detach = ctrlC();
        if (attached)
          console.log(`a profiles workflow for seed ${o.seed} is already running (${handle.workflowId}): watching it`);
        const r = await withInlineWorker(s, o.worker, () =>
          watchProfiles(handle, detach, 'fix that, then run the same command again (stored samples are kept)', () =>
            batchSpend(s, handle.workflowId),
          ),
        );
        if (r === 'detached') return report(handle.workflowId, r);
        console.log(
          `profiles (seed ${o.seed}): ${r.done} accepted of ${r.total} wanted from ${r.attempts} samples: ${r.gatedOut} gated out, ${r.duplicates} dropped as duplicates (BLEU > 0.15)`,
        );
        console.log(
          `all samples of seed ${o.seed}: ${Object.entries(await profileCounts(s, o.seed))
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
        await printRefused(s, handle.workflowId);
        if (r.done < r.total) {
          console.log('stopped before reaching the count: the gate or the dedup rejected too many samples');
          process.exitCode = 1;
        }
      }),
    );
}
