import { Client, Connection } from '@temporalio/client';
import { createPool, instanceId, migrate, type Pool } from '../db/pool';
import { config } from '../stack/config';
import { stackEndpoints } from '../stack';
import { answersWithin, ensureSearchAttributes } from '../stack/temporal';
import { temporalTarget, type TemporalTarget } from '../stack/temporal-target';
import { ensureDatabase } from '../stack/postgres';
import { taskQueueFor } from '../worker';

export interface Session {
  client: Client;
  /** Where Temporal is and how to connect to it (envconfig), for the workers this process runs. */
  temporal: TemporalTarget;
  pool: Pool;
  temporalAddress: string;
  databaseUrl: string;
  uiUrl: string;
  /** This database's task-queue base: MUSE_TASK_QUEUE and the database's identity. */
  taskQueue: string;
  /** Where a provider's workflows and activities go (see worker.ts). */
  taskQueueFor(provider: string): string;
  close(): Promise<void>;
}

/**
 * Connects to the stack `muse up` started (or to TEMPORAL_ADDRESS and DATABASE_URL), with the database
 * created when missing and its schema brought up to date first, so a newer muse never meets an older one.
 */
let closedConnections = 0;
/** Whether this process has closed a Temporal connection (see installExitGuard). */
export const connectionClosed = () => closedConnections > 0;

export async function openSession(): Promise<Session> {
  const ep = stackEndpoints();
  const temporal = temporalTarget({ address: ep.temporalAddress, uiUrl: ep.uiUrl });
  if (!(await answersWithin(temporal.connectionOptions, config.temporalConnectSeconds)))
    throw new Error(
      `Temporal at ${temporal.address} does not answer (tried for ${config.temporalConnectSeconds} s): run \`muse up\` first, or check TEMPORAL_ADDRESS and its TLS or API key settings (MUSE_TEMPORAL_CONNECT_SECONDS waits longer on a busy machine).`,
    );
  // DATABASE_URL may name a database its server does not have yet (a second dataset beside the stack's).
  await ensureDatabase(ep.databaseUrl);
  await migrate(ep.databaseUrl);
  const connection = await Connection.connect({
    ...temporal.connectionOptions,
    connectTimeout: config.temporalConnectSeconds * 1000,
  });
  const client = new Client({ connection, namespace: temporal.namespace });
  await ensureSearchAttributes(connection, temporal.namespace);
  const pool = createPool(ep.databaseUrl);
  const taskQueue = await databaseTaskQueue(pool);
  return {
    ...ep,
    temporalAddress: temporal.address,
    uiUrl: temporal.uiUrl,
    temporal,
    client,
    pool,
    taskQueue,
    taskQueueFor: (provider) => taskQueueFor(taskQueue, provider),
    close: async () => {
      closedConnections++;
      await connection.close();
      await pool.end();
    },
  };
}

/** The task-queue base of a database: MUSE_TASK_QUEUE (or `base`) and the database's identity. */
export async function databaseTaskQueue(pool: Pool, base = config.taskQueue): Promise<string> {
  const id = await instanceId(pool);
  return `${base}@${id.slice(0, 12)}`;
}

/** The batch's runs in the Web UI. */
export const batchUiUrl = (s: Pick<Session, 'uiUrl' | 'temporal'>, batchId: string) =>
  `${s.uiUrl}/namespaces/${s.temporal.namespace}/workflows?query=${encodeURIComponent(`MuseBatchId="${batchId}"`)}`;

/** A conversation's run in the Web UI (its workflow id is the conversation id). */
export const conversationUiUrl = (s: Pick<Session, 'uiUrl' | 'temporal'>, conversationId: string) =>
  `${s.uiUrl}/namespaces/${s.temporal.namespace}/workflows?query=${encodeURIComponent(`WorkflowId="${conversationId}"`)}`;
