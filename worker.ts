import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { embedderRegistry, providerRegistry } from './agents';
import { retrieverRegistry } from './catalog/retrieval';
import { createPool } from './db/pool';
import { config } from './stack/config';

/** The workflow bundle's entry: the TypeScript source, which the worker's bundler compiles. */
export const WORKFLOWS_PATH = path.join(__dirname, 'workflows', 'index.ts');

export interface WorkerOptions {
  temporalAddress: string;
  databaseUrl: string;
  taskQueue?: string;
  /** Activities in flight at once; LLM calls are I/O-bound, so many fit on one worker. */
  maxActivities?: number;
}

/** A worker for all of muse's workflows and activities; the caller runs it and closes the pool after. */
export async function createMuseWorker(o: WorkerOptions) {
  const pool = createPool(o.databaseUrl, 20);
  const connection = await NativeConnection.connect({ address: o.temporalAddress });
  const embedder = embedderRegistry(pool);
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: o.taskQueue ?? config.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ pool, llm: providerRegistry(pool), embedder, retriever: retrieverRegistry(pool, embedder) }),
    maxConcurrentActivityTaskExecutions: o.maxActivities ?? 100,
  });
  return { worker, close: async () => { await connection.close(); await pool.end(); } };
}
