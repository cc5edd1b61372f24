import { ApplicationFailure } from '@temporalio/common';
import { awaitingCause, unitsLeftOf } from './failures';

/**
 * What an activity returns when its calls are queued for a provider batch: a wait, not a failure. Its
 * workflow waits for the signal that the batch was answered (workflows/provider-batches.ts), then runs
 * the activity again, which finds the answers stored.
 */
export interface Queued {
  queuedForBatch: string;
  /** Of a unit of many items, how many are still waiting (the rest are stored). */
  unitsLeft?: number;
}

export const isQueued = (r: unknown): r is Queued =>
  typeof r === 'object' && r !== null && typeof (r as Queued).queuedForBatch === 'string';

/**
 * An activity whose agent calls may go through the Batch API: a call queued inside it (the agent throws
 * AwaitingBatch, so that its other calls stop) ends the activity as Queued, so the history shows a
 * completed activity and a wait, and no failure.
 */
export function queuedAsResult<A extends unknown[], R>(
  activity: (...args: A) => Promise<R>,
): (...args: A) => Promise<R | Queued> {
  return async (...args) => {
    try {
      return await activity(...args);
    } catch (e) {
      const wait = awaitingCause(e);
      if (!wait) throw e;
      const unitsLeft = unitsLeftOf(e);
      return { queuedForBatch: wait.message, ...(unitsLeft === undefined ? {} : { unitsLeft }) };
    }
  };
}

/** Online no call is queued: the answer, typed so, and a loud failure if one ever were. */
export function onlineAnswer<R>(r: R | Queued): R {
  if (isQueued(r))
    throw ApplicationFailure.nonRetryable(
      `a call was queued in a run that does not use the Batch API: ${r.queuedForBatch}`,
    );
  return r;
}
