import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { embedderRegistry, PROVIDERS, providerRegistry } from './agents';
import { openAiConfigProblem } from './agents/config';
import { retrieverRegistry } from './catalog/retrieval';
import { createPool } from './db/pool';
import { tracingFromEnv } from './observability/tracing';
import { config } from './stack/config';
import { keepHeapNear } from './stack/heap';
import type { TemporalTarget } from './stack/temporal-target';

/** The workflow bundle's entry: the TypeScript source, which the worker's bundler compiles. */
export const WORKFLOWS_PATH = path.join(__dirname, 'workflows', 'index.ts');

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
  const pool = createPool(o.databaseUrl, 40);
  const connection = await NativeConnection.connect(o.temporal.connectionOptions);
  const embedder = embedderRegistry(pool);
  const activities = createActivities({
    pool,
    llm: providerRegistry(pool),
    embedder,
    retriever: retrieverRegistry(pool, embedder),
  });
  const { providers, skipped } = servableProviders();
  const tracing = tracingFromEnv();
  const plugins = tracing ? [tracing.plugin] : [];
  // One bundle for all of this process's workers: bundling is seconds of CPU and a burst of memory each.
  const workflowBundle =
    providers.length > 1 ? await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, plugins }) : undefined;
  const workers = await Promise.all(
    providers.map((provider) =>
      Worker.create({
        connection,
        namespace: o.temporal.namespace,
        taskQueue: taskQueueFor(o.taskQueue, provider),
        ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
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
