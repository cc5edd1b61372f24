import type { Client } from '@temporalio/client';
import type { StartCollector } from '../agents/batch';
import type { BatchSettings } from '../agents/config';
import { instanceId, type Pool } from '../db/pool';
import { COLLECTOR_WORKFLOW, collectorWorkflowId } from '../common/ids';
import { batchQueuedSignal } from '../common/signals';
import { shapeAttribute } from '../common/shape';

/**
 * Tells the run's collector (started if it is not running) that requests were queued: from the activity
 * that queued them, and from a provider batch's workflow that put some back in the queue.
 */
export async function nudgeCollector(
  client: Client,
  taskQueue: string,
  pool: Pool,
  runId: string,
  settings: Pick<BatchSettings, 'flushSeconds' | 'maxWaitSeconds'>,
): Promise<void> {
  const database = await instanceId(pool);
  await client.workflow.signalWithStart(COLLECTOR_WORKFLOW, {
    workflowId: collectorWorkflowId(database, runId),
    taskQueue,
    args: [{ runId, database }],
    typedSearchAttributes: [shapeAttribute],
    signal: batchQueuedSignal,
    signalArgs: [{ flushSeconds: settings.flushSeconds, maxWaitSeconds: settings.maxWaitSeconds }],
  });
}

/** What a worker hands its providers, so that a queued call starts its run's collector. */
export const startCollectorFor =
  (pool: Pool): StartCollector =>
  (activity, runId, settings) =>
    nudgeCollector(activity.client, activity.info.taskQueue, pool, runId, settings);
