import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { embedderRegistry, PROVIDERS } from '../agents';
import { indexStatus } from '../catalog/dense';
import { noEmbedder } from '../agents/embedder';
import { importAmazonCatalog } from '../catalog/amazon';
import { importDemoCatalog } from '../catalog/demo';
import {
  datasetCounts,
  describeCounts,
  exportBatch,
  exportDataset,
  loadExportFolder,
  EXPORT_FORMATS,
  type ExportReport,
} from '../export';
import { DEFAULT_SPLIT, DEFAULT_SPLIT_SEED } from '../export/splits';
import { describeStack, down, up } from '../stack';
import { runStackDaemon } from '../stack/daemon';
import { ensureTemporalCli } from '../stack/temporal-cli';
import { ensureChromium } from '../stack/chromium';
import { createMuseWorker } from '../worker';
import {
  apiRunStatus,
  batchSpend,
  batchStatus,
  cancelBatch,
  describeApiRun,
  defaultConcurrency,
  listBatches,
  optimizeBatch,
  resumeBatch,
  startOrAttach,
  startOrAttachBatch,
  watchBatch,
} from './batches';
import type { BatchProgress } from '../workflows/progress';
import { batchUiUrl, connectionClosed, openSession, type Session } from './connection';
import { withInlineWorker } from './inline-worker';
import { batchCost, formatCost, profilesChargedElsewhere } from './cost';
import { describeConfig } from './config';
import { estimateBatch, formatEstimate } from './estimate';
import { batchStats, folderStats, formatStats } from './stats';
import { buildBenchmark, fullTextBaseline } from '../rec-benchmark/build';
import { listProblems, readJsonl, writeJsonl } from '../rec-benchmark/files';
import { BenchmarkSample, Prediction } from '../rec-benchmark/schema';
import { formatScores, score } from '../rec-benchmark/score';
import { runDemo } from './demo';
import { runViewer } from './view';
import { installExitGuard, installWorkerLogging, reportFailure } from './log';
import { redact, type Pool } from '../db/pool';
import { serveMetrics } from '../observability/metrics';
import { freePort } from '../stack/ports';
import { findBatch } from '../db/batches';
import { requestCounts, runOfProviderBatch } from '../db/provider-batches';
import { captionCounts, categoryVerdicts, dropEmbeddings } from '../db/items';
import { checkProvider, checkStage1 } from './preflight';
import { profileCounts, startProfiles, watchProfiles } from './profiles';
import { MAX_EVAL_SAMPLE, runEval } from './eval';
import { formatSummary } from '../eval/summary';
import { PROMPTS } from '../prompts';
import { captionWorkflow, categoryFilterWorkflow, indexWorkflow } from '../workflows/catalog';
import { catalogWorkflowId } from '../workflows/ids';
import { apiOption, batchRolesFor, COMMAND_ROLES } from './api';
import { OpenAiMllm } from '../agents/openai';
import { via as viaBatch } from '../workflows/provider-batches';

const int =
  (name: string, min = 0) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}`);
    return n;
  };
const score06 = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 6)
    throw new InvalidArgumentError('--min-score must be a number from 0 to 6');
  return n;
};
/** Which conversations form a batch's dataset: the stage-4 thresholds, the same for export, eval and benchmark. */
const withThresholds = (c: Command) =>
  c
    .option(
      '--min-score <x>',
      'lowest review total (0-6: content quality + logical fluency + user consistency) a kept conversation has',
      score06,
      4,
    )
    .option('--no-screener', 'keep conversations whose recommendations the screener judged unfit for the context');
const thresholdsOf = (o: { minScore: number; screener: boolean }) => ({
  minScore: o.minScore,
  requireScreener: o.screener,
});
const providerOption = () => new Option('--provider <name>', 'agent provider').choices(PROVIDERS).default('simulated');
const usd = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('--max-cost must be an amount in USD, 0 or more');
  return n;
};
const maxCostOption = () =>
  new Option(
    '--max-cost <usd>',
    'budget cap on what the batch spends in all (as `muse cost` counts it): at the cap no new agent call starts and the batch pauses',
  ).argParser(usd);

/** The embedding model a provider's index is stored under, or a clear error when it has none. */
function embedderModel(provider: string): string {
  const e = embedderRegistry()(provider);
  if (!e) throw new Error(noEmbedder(provider));
  return e.model;
}

/** Which retriever a provider's conversations will use, as the worker decides it (see retrieverRegistry). */
async function describeRetrieval(s: Session, provider: string): Promise<string> {
  const e = embedderRegistry()(provider);
  if (!e) return 'retrieval: full-text search (no embedding model configured for this provider)';
  const ix = await indexStatus(s.pool, e.model);
  return ix.indexed
    ? `retrieval: hybrid, full-text + ${e.model} (${ix.current} of ${ix.items} items indexed from their current text)`
    : `retrieval: full-text search (\`muse catalog index --provider ${provider}\` builds the dense index for the hybrid)`;
}

async function withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
  const s = await openSession();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/**
 * Ctrl-C stops watching; the batch goes on in Temporal. Taken as soon as the workflow exists, before
 * anything is printed about it: a Ctrl-C in between would otherwise kill the process with no word.
 */
function ctrlC(): Promise<void> {
  return new Promise((resolve) => process.once('SIGINT', () => resolve()));
}

const program = new Command('muse')
  .description(
    'Durable synthesis of multimodal conversational-recommendation datasets (the Muse method) on Temporal and PostgreSQL',
  )
  .showHelpAfterError();

program
  .command('setup')
  .description(
    'install what the stack needs on this machine: the Temporal CLI, built with Go into a cache when missing',
  )
  .option('--browser', "also Debian's Chromium, which the viewer's browser test drives (apt-get, when missing)")
  .action(async (o) => {
    console.log(`Temporal CLI: ${await ensureTemporalCli(console.log)}`);
    if (o.browser) console.log(`Chromium: ${ensureChromium(console.log)}`);
  });

program
  .command('up')
  .description('start (or attach to) the Temporal dev server and PostgreSQL, apply migrations, print where they are')
  .action(async () => console.log(describeStack(await up())));

program
  .command('down')
  .description('stop what `muse up` started (servers it only attached to keep running)')
  .action(() => down());

program.command('stack-daemon', { hidden: true }).action(() => runStackDaemon());

program
  .command('worker')
  .description('run a worker for every muse workflow and activity until Ctrl-C')
  .option(
    '--max-activities <n>',
    'activities in flight at once (default MUSE_MAX_ACTIVITIES or 400)',
    int('--max-activities', 1),
  )
  .option(
    '--metrics-port <port>',
    "serve Prometheus metrics on 127.0.0.1:<port>/metrics: muse's agent calls and the Temporal worker's (default MUSE_METRICS_PORT; off)",
    int('--metrics-port', 1),
    process.env.MUSE_METRICS_PORT ? Number(process.env.MUSE_METRICS_PORT) : undefined,
  )
  .action(async (o) =>
    withSession(async (s) => {
      const runtimePort = o.metricsPort ? await freePort() : undefined;
      const logs = installWorkerLogging(runtimePort ? { prometheus: `127.0.0.1:${runtimePort}` } : {});
      const worker = await createMuseWorker({
        temporal: s.temporal,
        databaseUrl: s.databaseUrl,
        taskQueue: s.taskQueue,
        maxActivities: o.maxActivities,
      });
      const served = o.metricsPort
        ? await serveMetrics({ port: o.metricsPort, runtimeUrl: `http://127.0.0.1:${runtimePort}/metrics` })
        : undefined;
      for (const [provider, why] of Object.entries(worker.skipped))
        console.log(`not serving the ${provider} provider: ${why}`);
      console.log(
        `worker for ${redact(s.databaseUrl)} polling ${worker.queues.join(', ')} on ${s.temporalAddress}; logs in ${logs}` +
          `${served ? `; metrics on ${served.url}` : ''}${worker.tracesTo ? `; traces to ${worker.tracesTo}` : ''}; Ctrl-C to stop`,
      );
      try {
        await worker.run();
      } finally {
        await served?.close();
        await worker.close();
      }
    }),
  );

const catalog = program.command('catalog').description('the item database');
catalog
  .command('demo')
  .description('render and store the built-in demo catalog (20,800 items of 26 types, with PNG images); safe to repeat')
  .action(() =>
    withSession(async (s) => {
      const n = await importDemoCatalog(s.pool, (d, t) => {
        if (d % 50 === 0 || d === t) process.stderr.write(`\rdemo catalog: ${d}/${t}`);
      });
      process.stderr.write('\n');
      console.log(`demo catalog: ${n} items stored`);
    }),
  );
catalog
  .command('import')
  .description('import Amazon Reviews 2023 item metadata (JSON lines); bad lines are reported, good ones kept')
  .argument('<path>', 'a .jsonl file of item metadata')
  .option('--images <dir>', 'folder with the main images, named <parent_asin>.<ext> or like the image URL')
  .action((file: string, o) =>
    withSession(async (s) => {
      const r = await importAmazonCatalog(s.pool, file, o.images, (n) => {
        if (n % 500 === 0) process.stderr.write(`\rimported ${n}`);
      });
      for (const e of r.errors) console.error(`${file}:${e.line}: ${e.problem}`);
      console.log(
        `imported ${r.imported} items (${r.withoutImage} without an image), rejected ${r.errors.length} lines`,
      );
      if (r.warning) {
        console.error(r.warning);
        process.exitCode = 1;
      } else if (r.withoutCategories)
        console.log(
          `${r.withoutCategories} items have no categories and cannot be targets (stage 2 samples by category)`,
        );
      if (r.errors.length) process.exitCode = 1;
    }),
  );

/** After a run: how many of its requests the Batch API refused, and where their reasons are listed. */
async function printRefused(s: Session, runId: string): Promise<void> {
  const refused = (await requestCounts(s.pool, runId)).failed;
  if (refused)
    console.log(
      `${refused} request${refused === 1 ? ' was' : 's were'} refused by the Batch API: \`muse status ${runId}\` lists them with the reason`,
    );
}

interface Stage1Step {
  /** Checks and preparation before the workflow starts (a clear error beats a failed workflow). */
  before?: (s: Session, o: Record<string, unknown> & { provider: string }) => Promise<void>;
  options?: (c: Command) => Command;
  done: (r: BatchProgress, s: Session, o: { provider: string }) => string | Promise<string>;
}
/** Stage 1 steps share their shape: one workflow per step, started or attached to, watched, summarised. */
const stage1 = (
  name: 'caption' | 'filter' | 'index',
  workflow: typeof captionWorkflow,
  description: string,
  step: Stage1Step,
) =>
  // The index embeds through /v1/embeddings, which the Batch API path here does not serve: no --api.
  ((c: Command) => (name === 'index' ? c : c.addOption(apiOption())))(
    (step.options ?? ((c) => c))(catalog.command(name).description(description)).addOption(providerOption()),
  )
    .option('--concurrency <c>', 'activities at once', int('--concurrency', 1), 10)
    .option('--no-worker', 'do not run a worker in this process')
    .action((o) =>
      withSession(async (s) => {
        await checkProvider(o.provider);
        await step.before?.(s, o);
        const { handle, attached } = await startOrAttach(
          s,
          workflow,
          catalogWorkflowId(name, o.provider),
          {
            provider: o.provider,
            concurrency: o.concurrency,
            ...viaBatch({
              batchRoles: batchRolesFor(o.provider, o.api, name === 'index' ? [] : COMMAND_ROLES.catalog),
            }),
          },
          { provider: o.provider, memo: { provider: o.provider } },
        );
        const detach = ctrlC();
        if (attached) console.log(`${handle.workflowId} is already running: watching it`);
        const r = await withInlineWorker(s, o.worker, () =>
          watchBatch(
            handle,
            name,
            detach,
            `fix that, then run \`muse catalog ${name}\` again (stored work is kept)`,
            // Through the Batch API, the line shows its provider batches' counts.
            () => batchSpend(s, handle.workflowId),
          ),
        );
        if (r === 'detached') return report(handle.workflowId, r);
        console.log(await step.done(r, s, o));
        await printRefused(s, handle.workflowId);
        if (r.failed) process.exitCode = 1;
      }),
    );
const took = (r: BatchProgress) => `${((Date.now() - r.startedAt) / 1000).toFixed(1)} s`;
stage1(
  'caption',
  captionWorkflow,
  'stage 1: re-caption every item without a caption from its text and image (items without one never become targets)',
  {
    // Counted in the catalog: a chunk that failed may have stored most of its captions (200 through the Batch API).
    done: async (r, s) => {
      const { items, withoutCaption } = await captionCounts(s.pool);
      return (
        `captioned in ${took(r)}: ${items - withoutCaption} of ${items} items have a caption` +
        (withoutCaption ? `; ${withoutCaption} have none: run it again to caption them (stored captions are kept)` : '')
      );
    },
  },
);
stage1(
  'filter',
  categoryFilterWorkflow,
  'stage 1: ask the filter agent which tags (used by 5+ items) are clothing, footwear or accessory types; only those drive sampling',
  {
    done: (r) =>
      `judged ${r.done} categories (${r.failed} failed) in ${took(r)}; \`muse catalog categories\` lists the verdicts`,
  },
);
stage1(
  'index',
  indexWorkflow,
  "stage 1: embed every item missing from the provider's dense index (or changed since); once built, retrieval fuses full-text and dense search",
  {
    options: (c) =>
      c.option(
        '--rebuild',
        "drop the provider's index first and embed every item again (after the embedding model changed)",
      ),
    before: async (s, o) => {
      const model = embedderModel(o.provider);
      if (o.rebuild) console.log(`dropped ${await dropEmbeddings(s.pool, model)} vectors of ${model}`);
    },
    done: async (r, s, o) => {
      const ix = await indexStatus(s.pool, embedderModel(o.provider));
      return (
        `embedded ${r.done} items (${r.failed} failed) in ${took(r)}; index ${ix.model}: ${ix.current} of ${ix.items} items up to date` +
        (ix.dims
          ? `, ${ix.dims} dimensions; retrieval for ${o.provider} conversations is now hybrid (full-text + dense, fused by reciprocal rank)`
          : '')
      );
    },
  },
);
catalog
  .command('categories')
  .description("the category filter's verdicts: which tags drive sampling, with their item counts")
  .action(() =>
    withSession(async (s) => {
      const rows = await categoryVerdicts(s.pool, 5);
      for (const r of rows)
        console.log(
          `${r.isProductType ? 'yes' : 'no '}  ${String(r.itemCount).padStart(6)}  ${r.name}  (${r.verdictSource ?? 'not judged'})`,
        );
    }),
  );

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

program
  .command('batches')
  .description('the newest batches: state, conversations completed and failed, age, provider')
  .option('--limit <n>', 'how many', int('--limit', 1), 50)
  .action((o) =>
    withSession(async (s) => {
      const rows = await listBatches(s, o.limit);
      if (rows.length === 0) return console.log('no batch yet: `muse generate -n N` starts one');
      const age = (d: Date) => {
        const m = Math.round((Date.now() - d.getTime()) / 60_000);
        return m < 60 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`;
      };
      const table = [
        ['batch', 'state', 'completed', 'failed', 'age', 'provider', 'api batches'],
        ...rows.map((r) => [
          r.batchId,
          r.state,
          `${r.completed}/${r.size}`,
          String(r.failed),
          age(r.createdAt),
          r.provider,
          r.apiBatches.replace(/^API batches: /, '') || '-',
        ]),
      ];
      const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
      for (const row of table)
        console.log(
          row
            .map((c, i) => c.padEnd(widths[i]))
            .join('  ')
            .trimEnd(),
        );
    }),
  );

program
  .command('status')
  .description(
    'conversation counts by state, every failure with its reason, and what keeps the batch from going on; for any run, its provider batches',
  )
  .argument(
    '<batch>',
    'a batch; or a run that sent provider batches (muse-caption, muse-filter, muse-profiles-s<seed>, an evaluation e-…), or a provider batch id',
  )
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
      const provider = (await findBatch(s.pool, batchId))?.provider;
      if (provider) await checkProvider(provider);
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

program
  .command('cancel')
  .description(
    'stop a running batch, and its provider batches at the provider: conversations in flight are cancelled, everything finished and stored is kept',
  )
  .argument(
    '<batch>',
    'a batch; or a run that sent provider batches (muse-caption, muse-filter, muse-profiles-s<seed>, an evaluation e-…)',
  )
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

program
  .command('optimize')
  .description('stage 4 again (rewrite, check, review, screen) for a finished batch, with the current prompt versions')
  .argument('<batch>')
  .option('--concurrency <c>', "conversations optimised at once (default: the batch's)", int('--concurrency', 1))
  .addOption(apiOption())
  .addOption(maxCostOption())
  .option('--no-worker', 'do not run a worker in this process')
  .action((batchId: string, o) =>
    withSession(async (s) => {
      const provider = (await findBatch(s.pool, batchId))?.provider;
      if (provider) await checkProvider(provider);
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

program
  .command('config')
  .description('print the effective LLM configuration (file and environment), without secrets')
  .action(() => console.log(describeConfig()));

program
  .command('cost')
  .description("tokens and cost a batch has spent so far, by agent and model (the openai provider's ledger)")
  .argument('<batch>')
  .action((batchId: string) =>
    withSession(async (s) => {
      const rows = await batchCost(s.pool, batchId);
      if (rows.length === 0)
        return console.log(`batch ${batchId}: no LLM calls in the ledger (the simulated provider makes none)`);
      console.log(formatCost(rows));
      for (const l of await profilesChargedElsewhere(s.pool, batchId)) console.log(l);
      if (rows.some((r) => r.costUsd === null))
        console.log('unpriced: a model missing from the price table (add it with MUSE_PRICES).');
    }),
  );

program
  .command('estimate')
  .description('projected calls, tokens and cost of a batch of N on the openai provider, before it runs')
  .requiredOption('-n, --count <n>', 'conversations', int('-n', 1))
  .action((o) =>
    withSession(async (s) => {
      const { rows, rates } = await estimateBatch(s.pool, o.count);
      console.log(formatEstimate(rows, rates, o.count));
    }),
  );

program
  .command('stats')
  .description(
    'the table a paper would print for a batch, or a folder in the Muse record format, beside the published Muse figures, with diversity metrics',
  )
  .argument('<batch|folder>')
  .option('--sample <n>', 'conversations used for self-BLEU', int('--sample', 2), 200)
  .option('--json', 'print the figures as JSON')
  .action(async (target: string, o) => {
    if (fs.statSync(target, { throwIfNoEntry: false })?.isDirectory()) {
      const st = folderStats(target, o.sample);
      if (st.problems.length) console.error(`left out (kept the rest):\n${listProblems(st.problems)}`);
      return console.log(o.json ? JSON.stringify(st, null, 2) : formatStats(path.resolve(target), st));
    }
    await withSession(async (s) => {
      const st = await batchStats(s.pool, target, o.sample);
      console.log(o.json ? JSON.stringify(st, null, 2) : formatStats(target, st));
    });
  });

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

withThresholds(
  program
    .command('export')
    .description(
      'write a dataset: the Muse record format (default: one JSON per conversation, a JSONL, items, images, summary.json), the Hugging Face layout (Parquet splits, items.parquet, a dataset card), or fine-tuning files (OpenAI chat JSONL, LLaVA JSON)',
    )
    .argument('[batch]', 'the batch to export (or --from a previous export)')
    .addOption(new Option('--format <name>', 'what to write').choices(EXPORT_FORMATS).default('muse'))
    .option('--from <folder>', "a previous export in muse's format to convert, instead of a batch (no database needed)")
    .option(
      '--out <dir>',
      'output folder (default out/<batch>, or out/<batch>-<format>); a folder holding other files is refused',
    )
    .option('--split <ratios>', 'train/validation/test percentages (hf, openai-ft, llava)', DEFAULT_SPLIT)
    .option('--split-seed <n>', 'seed of the stratified split draw', int('--split-seed'), DEFAULT_SPLIT_SEED)
    .option('--license <id>', "the dataset card's license, as a Hub license id (e.g. cc-by-4.0)", 'other')
    .option('--force', 'write into a folder that holds other files, beside them (they are never touched)'),
).action(async (batchArg: string | undefined, o) => {
  if (!batchArg === !o.from) throw new Error('name a batch, or a previous export with --from <folder> (not both)');
  const opts = { format: o.format, force: o.force, split: o.split, splitSeed: o.splitSeed, license: o.license };
  const outOf = (batchId: string) =>
    o.out ?? path.join('out', o.format === 'muse' ? batchId : `${batchId}-${o.format}`);
  let r: ExportReport;
  if (o.from) {
    // An old export without items.jsonl needs the catalog; a current one is converted offline.
    const needsCatalog = !fs.existsSync(path.join(o.from, 'items.jsonl'));
    const convert = async (pool?: Pool) => {
      const { dataset, problems } = await loadExportFolder(o.from, pool);
      if (problems.length) console.error(`left out of ${o.from} (kept the rest):\n${listProblems(problems)}`);
      return exportDataset(dataset, outOf(dataset.batchId), opts);
    };
    r = needsCatalog ? await withSession((s) => convert(s.pool)) : await convert();
  } else r = await withSession((s) => exportBatch(s.pool, batchArg!, outOf(batchArg!), thresholdsOf(o), opts));
  const splits = r.splits
    ? `; ${Object.entries(r.splits)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} ${r.format === 'hf' ? 'conversations' : 'examples'}`
    : '';
  console.log(
    `exported ${r.conversations} conversations, ${r.utterances} utterances, ${r.images} images as ${r.format} to ${r.dir}${splits}\n${describeCounts(r.counts)} (no LLM call; counts in summary.json)`,
  );
});

program
  .command('view')
  .description(
    'read a dataset in the browser: a list with filters and search, one conversation at a time with its images, profile, review and original beside the rewrite',
  )
  .argument('<batch|folder>', 'a batch id, an export folder of ours, or a folder of records in the Muse record format')
  .option('--port <n>', 'port on the host', int('--port', 0), 8234)
  .option('--host <address>', 'address to listen on (127.0.0.1 keeps it on this machine)', '127.0.0.1')
  .action((target: string, o) => runViewer(target, { port: o.port, host: o.host }));

program
  .command('demo')
  .description('the whole path on the simulated provider: stack, demo catalog, ~20 conversations, export')
  .option('-n, --count <n>', 'conversations', int('-n', 1), 20)
  .action((o) => runDemo(o.count));

function report(batchId: string, r: Awaited<ReturnType<typeof watchBatch>>) {
  if (r === 'detached') {
    console.log(
      `\ndetached from ${batchId}; it keeps running in Temporal (a worker must be running: \`muse worker\`). Watch it with \`muse status ${batchId}\`.`,
    );
    process.exit(0);
  }
  console.log(
    `batch ${batchId}: ${r.done} completed, ${r.failed} failed in ${((Date.now() - r.startedAt) / 1000).toFixed(1)} s`,
  );
  if (r.paused) {
    console.log(`paused: ${r.paused}`);
    process.exitCode = 1;
  } else if (r.failed) {
    console.log(`see \`muse status ${batchId}\`, then \`muse resume ${batchId}\``);
    process.exitCode = 1;
  }
}

installExitGuard(connectionClosed);
program.parseAsync().catch((e) => {
  console.error(reportFailure(e));
  process.exit(1);
});
