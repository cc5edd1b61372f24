import { defineSignal } from '@temporalio/workflow';

/** The Batch API's signals, read by its workflows (workflows/provider-batches.ts) and sent by activities. */
/** To a workflow whose requests were answered (or failed): run the waiting activities again. */
export const batchAnsweredSignal = defineSignal('museBatchAnswered');
/** To a provider batch waiting for its place under the queue limit: a batch of its model ended. */
export const batchRoomSignal = defineSignal('museBatchRoom');
/** To a run's collector: requests were queued (activities/collector.ts sends it). */
export const batchQueuedSignal = defineSignal<[{ flushSeconds: number; maxWaitSeconds: number }]>('museBatchQueued');
