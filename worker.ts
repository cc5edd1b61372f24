import { createHash } from 'node:crypto';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { startCollectorFor } from './activities/collector';
import { embedderRegistry, PROVIDERS, providerRegistry } from './agents';
import { openAiConfigProblem } from './agents/config';
import { retrieverRegistry } from './catalog/retrieval';
import { createPool } from './db/pool';
import { tracingFromEnv } from './observability/tracing';
import { config } from './stack/config';
import { version as SDK_VERSION } from '@temporalio/worker/package.json';
import { keepHeapNear } from './stack/heap';
import { refuseUnreplayableRuns } from './stack/open-runs';
import type { TemporalTarget } from './stack/temporal-target';

/** The workflow bundle's entry: the TypeScript source, which the worker's bundler compiles. */
export const WORKFLOWS_PATH = path.join(__dirname, 'workflows', 'index.ts');

/**
 * The workflow bundle, through webpack's filesystem cache: bundling cold is seconds of CPU at every
 * worker start, and webpack checks every file the bundle read, so a cached one is never stale. One cache
 * per checkout and plugin set, renewed with the SDK (its bundler's configuration is not a file webpack sees).
 */
export function bundleWorkflows(plugins: NonNullable<Parameters<typeof bundleWorkflowCode>[0]['plugins']> = []) {
  const checkout = createHash('sha256').update(__dirname).digest('hex').slice(0, 12);
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    plugins,
    logger: Runtime.instance().logger,
    webpackConfigHook: (c) => ({
      ...c,
      cache: {
        type: 'filesystem',
        cacheDirectory: path.join(config.cacheDir, 'workflow-bundle'),
        name: `${checkout}-${plugins.map((p) => p.name).join('+') || 'plain'}`,
        version: SDK_VERSION,
      },
      // A cache that cannot be read or written is rebuilt or skipped; that is no news for the console.
      infrastructureLogging: { level: 'error' },
    }),
  });
}

/**
 * The task queue of one database's work for one provider. A worker polls only the queues of the database
 * it was started with, and only for the providers it can serve, so it never takes work it cannot do
 * (an openai batch without a key) or work of another database.
 */
export const taskQueueFor = (base: string, provider: string) => `${base}/${provider}`;

/** Which providers this environment can serve, and why not the others. */
export function servableProviders(env: NodeJS.ProcessEnv = process.env): {
  providers: string[];
  skipped: Record<string, string>;
} {
  const skipped: Record<string, string> = {};
  const problem = openAiConfigProblem(env);
  if (problem) skipped.openai = problem;
  return { providers: PROVIDERS.filter((p) => !skipped[p]), skipped };
}

export interface WorkerOptions {
  /** How to reach Temporal (envconfig: address, namespace, TLS, API key). */
  temporal: Pick<TemporalTarget, 'connectionOptions' | 'namespace'>;
  databaseUrl: string;
  /** The database's task-queue base (see Session.taskQueue); one queue per servable provider is polled. */
  taskQueue: string;
  /** Activities in flight at once, per provider's queue; LLM calls are I/O-bound, so many fit on one worker. */
  maxActivities?: number;
}

/** Workers for all of muse's workflows and activities, one per provider this process can serve; the caller runs them. */
export async function createMuseWorker(o: WorkerOptions) {
  // Every activity in flight may hold a connection for a moment (a pacer reservation, a row): size for many.
  const { providers, skipped } = servableProviders();
  await refuseUnreplayableRuns(
    o.temporal,
    providers.map((p) => taskQueueFor(o.taskQueue, p)),
  );
  const pool = createPool(o.databaseUrl, 40);
  const connection = await NativeConnection.connect(o.temporal.connectionOptions);
  const embedder = embedderRegistry(pool);
  const activities = createActivities({
    pool,
    llm: providerRegistry(pool, startCollectorFor(pool)),
    embedder,
    retriever: retrieverRegistry(pool, embedder),
  });
  const tracing = tracingFromEnv();
  const plugins = tracing ? [tracing.plugin] : [];
  // One bundle for all of this process's workers: bundling is CPU and a burst of memory each time.
  const workflowBundle = await bundleWorkflows(plugins);
  const workers = await Promise.all(
    providers.map((provider) =>
      Worker.create({
        connection,
        namespace: o.temporal.namespace,
        taskQueue: taskQueueFor(o.taskQueue, provider),
        workflowBundle,
        activities,
        plugins,
        maxConcurrentActivityTaskExecutions: o.maxActivities ?? config.maxActivities,
      }),
    ),
  );
  const stopHeap = keepHeapNear(config.heapMb);
  const close = async () => {
    stopHeap();
    await tracing?.shutdown();
    await connection.close();
    await pool.end();
  };
  return {
    queues: providers.map((p) => taskQueueFor(o.taskQueue, p)),
    skipped,
    /** Where OpenTelemetry spans go, when tracing is on. */
    tracesTo: tracing?.endpoint,
    run: () => Promise.all(workers.map((w) => w.run())).then(() => undefined),
    /** Activities running in this process's workers now (bench/batch-api.ts: is everything waiting?). */
    activitiesInFlight: () => workers.reduce((n, w) => n + w.getStatus().numInFlightActivities, 0),
    /** Runs the workers until `fn` settles, then shuts them down (Worker.runUntil, for several). */
    async runUntil<T>(fn: Promise<T>): Promise<T> {
      const running = Promise.all(workers.map((w) => w.run()));
      try {
        return await Promise.race([
          fn,
          running.then(() => {
            throw new Error('the worker stopped');
          }),
        ]);
      } finally {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await running.catch(() => {});
      }
    },
    close,
  };
}
