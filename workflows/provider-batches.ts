import {
  condition,
  continueAsNew,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { innermostMessage } from '../common/failures';
import { providerBatchWorkflowId } from '../common/ids';
import { HandOver } from '../common/lanes';
import { isQueued, type Queued } from '../common/queued';
import { batchAnsweredSignal, batchQueuedSignal, batchRoomSignal } from '../common/signals';
import { shapeAttribute } from '../common/shape';
import type { ViaBatch } from '../schemas/batch';

/**
 * The Batch API inside the durable workflows. An activity whose calls go through it queues them in
 * PostgreSQL and completes as Queued (common/queued.ts); its workflow waits (`untilAnswered`) for a signal, holding
 * no worker slot, then runs the activity again, which finds the answers in the ledger. One collector
 * per run plans the queue into provider batches, and one workflow per provider batch sends, polls and
 * ingests it.
 */

/** The Batch API's roles as an activity's or a child's input, left out when there are none (inputs stay small). */
export const via = (input: ViaBatch): ViaBatch => (input.batchRoles?.length ? { batchRoles: input.batchRoles } : {});

/** How long a waiting workflow waits for its signal before it looks again anyway (a lost signal is never a stuck run). */
const RECHECK = '1 hour';

/**
 * Activities at once of one workflow's units that wait for provider batches. Through the Batch API a
 * workflow asks all its units at once; unbounded, a thousand activities ending together overflowed the
 * server's buffer of events for a workflow task, which then failed the task (the worker replays the
 * whole history and tries again, at 7,000 events for longer than the task's timeout).
 */
const ASKING_AT_ONCE = 50;

/**
 * The waiting side, set up once per workflow: `untilAnswered(run)` runs an activity until it no longer
 * waits for a provider batch; `onWait` runs when it first does (a conversation gives back its window slot).
 * A unit holds one of ASKING_AT_ONCE places while its activity runs, none while it waits, and every
 * waiting unit shares one wait (and its one timer) for the next signal.
 *
 * Every signal has every waiting unit ask again (three events each), so a run answered in many provider
 * batches (a queue limit's rounds) grows its history by thousands of events a round. Past `handOverAfter`
 * events, a unit that would wait throws HandOver instead (with what its activity says is left), and so
 * does every unit already waiting (woken at once): what they asked for stays queued in PostgreSQL, and
 * the workflow's next run asks it again.
 */
export function batchAnswers(o: { handOverAfter?: number } = {}) {
  let answered = 0;
  setHandler(batchAnsweredSignal, () => void answered++);
  let handing = false;
  const handingOver = () => {
    if (!handing && o.handOverAfter !== undefined && workflowInfo().historyLength > o.handOverAfter) handing = true;
    return handing;
  };
  let next: { after: number; signal: Promise<void> } | undefined;
  const nextSignal = () => {
    if (next?.after !== answered) {
      const after = answered;
      // Once it ends (a signal, a hand-over, or RECHECK without either) the next waiter waits anew.
      const signal = condition(() => answered > after || handing, RECHECK).then(() => {
        if (next?.signal === signal) next = undefined;
      });
      next = { after, signal };
    }
    return next.signal;
  };
  let asking = 0;
  const queue: Array<() => void> = [];
  const ask = async <T>(run: () => Promise<T>): Promise<T> => {
    // A place freed is handed to the next in the queue, so the count never passes the bound.
    if (asking < ASKING_AT_ONCE) asking++;
    else await new Promise<void>((r) => queue.push(r));
    try {
      return await run();
    } finally {
      const woken = queue.shift();
      if (woken) woken();
      else asking--;
    }
  };
  return async function untilAnswered<T>(
    run: () => Promise<T | Queued>,
    onWait?: () => Promise<void> | void,
  ): Promise<T> {
    let waited = false;
    for (;;) {
      const seen = answered;
      const r = await ask(run);
      if (!isQueued(r)) return r;
      if (!waited) await onWait?.();
      waited = true;
      if (handingOver()) throw new HandOver(r.unitsLeft);
      // A signal that came while the activity ran is the answer already: ask again at once.
      if (answered === seen) await nextSignal();
      if (handing) throw new HandOver(r.unitsLeft);
    }
  };
}

/**
 * Short steps (plan, poll, signal): a worker that dies in one is noticed within two minutes. A sent batch
 * is paid for, so its polls ride out an outage of hours (40 attempts, up to 10 minutes apart: about five
 * hours) before it is abandoned; a 4xx that says the call itself is wrong is not retried at all.
 */
const act = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 40 },
});
/** Writing and uploading a request file of up to 200 MB, or reading its answers: long, and heartbeating (about two hours of retries). */
const files = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 20 },
});

export interface CollectorInput {
  runId: string;
  /** The database's id (muse_instance), which names the workflows of its provider batches. */
  database: string;
}

/** A collector hands over to a fresh run past this many events; each flush costs about ten. */
const COLLECTOR_HISTORY = 2_000;
/** A collector with nothing queued for this long ends; the next queued request starts it again. */
const COLLECTOR_IDLE = '10 minutes';

/**
 * One per run (`muse-batcher-<run>`): gathers the run's queued requests into provider batches. It flushes
 * once no request was queued for `flushSeconds` (or `maxWaitSeconds` after the first), so the requests of
 * many conversations share a batch, and starts one workflow per provider batch it planned.
 */
export async function batchCollectorWorkflow({ runId, database }: CollectorInput): Promise<void> {
  let nudged = false;
  let settings = { flushSeconds: 30, maxWaitSeconds: 600 };
  setHandler(batchQueuedSignal, (s) => {
    nudged = true;
    settings = s;
  });
  for (;;) {
    if (!(await condition(() => nudged, COLLECTOR_IDLE))) return;
    const first = Date.now();
    for (;;) {
      nudged = false;
      const left = Math.min(settings.flushSeconds * 1000, settings.maxWaitSeconds * 1000 - (Date.now() - first));
      if (left <= 0 || !(await condition(() => nudged, left))) break;
    }
    nudged = false;
    for (const id of await act.planProviderBatches({ runId })) {
      try {
        await startChild(providerBatchWorkflow, {
          workflowId: providerBatchWorkflowId(database, id),
          args: [{ id }],
          // A provider batch outlives its collector: it is paid for once sent, and its answers must be stored.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: [shapeAttribute],
        });
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      }
    }
    if (workflowInfo().historyLength > COLLECTOR_HISTORY && !nudged)
      await continueAsNew<typeof batchCollectorWorkflow>({ runId, database });
  }
}

export interface ProviderBatchInput {
  id: number;
}

/**
 * One provider batch (`muse-provider-batch-<id>`): it waits for its place under its model's queue limit,
 * is sent (its ids are stored before anything else can fail), polled with durable timers from
 * `pollSeconds` doubling up to `pollMaxSeconds`, then its answers are stored and every workflow that
 * waits for one is signalled. Refused as a whole for now (the provider's queue is full), it waits for
 * a place again and is sent anew, its requests untouched.
 */
export async function providerBatchWorkflow({ id }: ProviderBatchInput) {
  let room = 0;
  setHandler(batchRoomSignal, () => void room++);
  /** Until a batch of the model ends (its signal), or `seconds` pass. */
  const roomOrAfter = (seconds: number) => {
    const seen = room;
    return condition(() => room > seen, seconds * 1000);
  };
  let result;
  let status;
  try {
    for (;;) {
      // The file is written and uploaded first: a place in the provider's queue is never spent writing.
      await files.prepareProviderBatch({ id });
      let place = await act.admitProviderBatch({ id });
      while (!place.admitted && !place.cancelled) {
        await roomOrAfter(place.recheckSeconds);
        place = await act.admitProviderBatch({ id });
      }
      const sent = await files.submitProviderBatch({ id });
      status = sent.status;
      if (sent.submitted) {
        let delay = sent.pollSeconds;
        for (;;) {
          await sleep(delay * 1000);
          if ((await act.pollProviderBatch({ id })).terminal) break;
          delay = Math.min(delay * 2, sent.pollMaxSeconds);
        }
      }
      result = await files.ingestProviderBatch({ id });
      if (!result.deferred) break;
      await roomOrAfter(result.deferred.waitSeconds);
    }
  } catch (e) {
    // Refused for good, or out of retries: the requests fail with why, and the workflows waiting for
    // them hear it, so no run waits for ever on a batch nobody works on.
    if (isCancellation(e)) throw e;
    await act.abandonProviderBatch({ id, error: innermostMessage(e) });
    await act.notifyRequesters({ id, requeued: 0 });
    throw e;
  }
  await act.notifyRequesters({ id, requeued: result.requeued });
  return { ...result, status };
}
