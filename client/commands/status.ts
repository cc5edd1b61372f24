import { Command } from 'commander';
import { apiRunStatus, batchStatus, describeApiRun } from '../batch-status';
import { batchUiUrl } from '../connection';
import { findBatch } from '../../db/batches';
import { runOfProviderBatch } from '../../db/provider-batches';
import { withSession, RUN_ARGUMENT } from './shared';

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'conversation counts by state, every failure with its reason, and what keeps the batch from going on; for any run, its provider batches',
    )
    .argument('<batch>', `${RUN_ARGUMENT}, or a provider batch id`)
    .action((id: string) =>
      withSession(async (s) => {
        const runId = (await runOfProviderBatch(s.pool, id)) ?? id;
        if (runId !== id) console.log(`provider batch ${id} was sent for ${runId}`);
        if (!(await findBatch(s.pool, runId))) {
          // A stage-1, stage-2 or eval run: what the Batch API did for it.
          const lines = describeApiRun(await apiRunStatus(s, runId));
          if (lines.length) return console.log([`run ${runId}`, ...lines].join('\n'));
        }
        const st = await batchStatus(s, runId);
        console.log(
          `batch ${st.batchId}: ${st.size} conversations, provider ${st.provider}, seed ${st.seed}; batch workflow ${st.workflow}`,
        );
        for (const [k, v] of Object.entries(st.counts))
          console.log(
            `  ${k.padEnd(11)} ${v}${(k === 'running' || k === 'pending') && st.workflow !== 'RUNNING' ? '  (interrupted: `muse resume` finishes them)' : ''}`,
          );
        for (const f of st.failures) console.log(`  failed ${f.conversationId}: ${f.reason}`);
        for (const l of describeApiRun(st)) console.log(l);
        if (st.problem) console.log(`  ${st.problem}`);
        console.log(`Web UI: ${batchUiUrl(s, runId)}`);
      }),
    );
}
