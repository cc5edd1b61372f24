import { FailureType } from '../schemas/failures';
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { adoptedConversations, cancelWorkflows } from './adopted';
import type { Activities } from '../activities';
import { bookkeeping } from './activities';
import { conversationWorkflow } from './conversation';
import { conversationId, conversationSeed, optimizeWorkflowId, profilesWorkflowId } from '../common/ids';
import { profilesWorkflow } from './profiles';
import { progressQuery, type BatchProgress } from '../common/progress';
import { optimizeWorkflow, waitingForBatchSignal } from './optimize';
import { via } from './provider-batches';
import type { ViaBatch } from '../schemas/batch';
import * as SA from '../common/search-attributes';
import { shapeAttribute } from '../common/shape';
import { budgetCause, describeFailure, failWith, fatalCause } from '../common/failures';
import { slidingWindow } from './window';

const act = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 5 },
});

export interface BatchInput extends ViaBatch {
  batchId: string;
  size: number;
  seed: number;
  concurrency: number;
  provider: string;
  /** 'generate' (stages 2-4, the default) or 'optimize' (stage 4 again for finished conversations). */
  job?: 'generate' | 'optimize';
  /** Conversation indices to run, in order; a resume passes the ones to retry. Absent: 0..size-1. */
  indices?: number[];
  /** Make the profiles the batch still lacks first (a resume of a batch that stopped before it had them all). */
  prepare?: boolean;
  /** Events after which a run hands over to a fresh one (continue-as-new); default 8,000. */
  historyBudget?: number;
  /** Carried across continue-as-new. */
  cursor?: number;
  done?: number;
  failed?: number;
  startedAt?: number;
  /**
   * Conversations (indices) the run before handed over while they waited for a provider batch: still
   * running, they are taken over, not started again.
   */
  adopt?: number[];
}
export { progressQuery, type BatchProgress } from '../common/progress';

/** Past this many events a run hands over to a fresh one (Temporal warns at 10,240 and stops at 51,200). */
const DEFAULT_HISTORY_BUDGET = 8_000;

/**
 * A batch: N conversations as child workflows in a sliding window of at most `concurrency`, sized to
 * what the endpoint's pace can use.
 * Before its history grows long it waits for the running children and continues as new, so a batch of
 * any size stays far from Temporal's history limits. A failed conversation is recorded, not fatal.
 */
export async function batchWorkflow(input: BatchInput): Promise<BatchProgress> {
  const queue = input.indices ?? Array.from({ length: input.size }, (_, i) => i);
  const progress: BatchProgress = {
    batchId: input.batchId,
    total: queue.length,
    done: input.done ?? 0,
    failed: input.failed ?? 0,
    running: 0,
    startedAt: input.startedAt ?? Date.now(),
  };
  setHandler(progressQuery, () => progress);

  const optimize = input.job === 'optimize';
  // Through the Batch API a conversation may wait hours for its answers. Such conversations outlive the
  // run that started them: a hand-over waits only for those in stage 3, and the next run takes the others over.
  const outlive = !!input.batchRoles?.length;
  const adopted = adoptedConversations(act.endedWorkflows);
  const workflowIdOf = (id: string) => (optimize ? optimizeWorkflowId(id) : id);
  const indexOf = new Map<string, number>();
  /** Conversations running now, started or taken over: a cancel is passed on to each. */
  const live = new Set<string>();
  // Conversations waiting for a provider batch (stage 4 through the Batch API) hold no slot of the window.
  const waiting = new Set<string>();
  // Only from a conversation of this run's: one left running by a terminated run is not in its window.
  setHandler(waitingForBatchSignal, (id) => void (indexOf.has(id) && waiting.add(id)));
  if (!optimize && input.cursor === undefined && (input.indices === undefined || input.prepare)) {
    progress.paused = await makeProfiles(input);
    if (progress.paused) return progress;
  }

  // A conversation that failed because the setup is wrong (a key, a model): the others would fail alike,
  // so no new one starts and the batch fails with it once the running ones end.
  let stop: ApplicationFailure | undefined;
  const run = async (idx: number, handedOver = false) => {
    const id = conversationId(input.batchId, idx);
    const workflowId = workflowIdOf(id);
    indexOf.set(workflowId, idx);
    live.add(workflowId);
    progress.running++;
    try {
      const child = {
        args: [{ conversationId: id, seed: conversationSeed(input.seed, idx), ...via(input) }] as const,
        typedSearchAttributes: [{ key: SA.BatchId, value: input.batchId }, shapeAttribute],
        parentClosePolicy: outlive ? ParentClosePolicy.ABANDON : ParentClosePolicy.TERMINATE,
        workflowId,
      };
      if (handedOver) await adopted.adopt(workflowId);
      else
        try {
          if (optimize) await executeChild(optimizeWorkflow, child);
          else await executeChild(conversationWorkflow, child);
        } catch (e) {
          // Still running from a run of this batch that was terminated (a resume of a stuck batch): waited for, not started twice.
          if (!(outlive && e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
          await adopted.adopt(workflowId);
        }
      progress.done++;
    } catch (e) {
      // Out of budget: the conversation is paused, not failed, and no new one starts; a resume goes on.
      const budget = budgetCause(e);
      if (budget) progress.paused ??= budget.message;
      else progress.failed++;
      const fatal = fatalCause(e);
      if (fatal) stop ??= failWith(fatal);
      // A failed re-optimisation leaves the finished conversation and its earlier review as they were.
      if (!optimize)
        await act.markConversationFailed({
          conversationId: id,
          reason: describeFailure(e),
          ...(budget ? { paused: true } : {}),
        });
    } finally {
      progress.running--;
      live.delete(workflowId);
      // The signal names the workflow (an optimize run's id is not the conversation's).
      waiting.delete(workflowId);
    }
  };
  const launch = (idx: number, handedOver = false) =>
    run(idx, handedOver).catch((e) => {
      // Recording the failure failed too (the database is gone): stop, rather than leave the rejection unhandled.
      stop ??= ApplicationFailure.nonRetryable(
        `could not record a failed conversation: ${describeFailure(e)}`,
        FailureType.BookkeepingFailed,
      );
    });

  for (const idx of input.adopt ?? []) {
    // They waited for a provider batch when handed over: no slot of the window, as before.
    waiting.add(workflowIdOf(conversationId(input.batchId, idx)));
    void launch(idx, true);
  }
  try {
    await slidingWindow({
      queue,
      cursor: input.cursor ?? 0,
      ceiling: input.concurrency,
      suggest: () => bookkeeping.suggestWindow({ provider: input.provider, ceiling: input.concurrency }),
      launch: (idx) => void launch(idx),
      running: () => progress.running,
      waiting: () => waiting.size,
      stopped: () => !!stop || !!progress.paused,
      historyBudget: input.historyBudget ?? DEFAULT_HISTORY_BUDGET,
      waitingOutliveRun: outlive,
      handOver: (cursor) =>
        continueAsNew<typeof batchWorkflow>({
          ...input,
          cursor,
          done: progress.done,
          failed: progress.failed,
          startedAt: progress.startedAt,
          ...(outlive ? { adopt: [...waiting].map((w) => indexOf.get(w)!) } : {}),
        }),
    });
    await condition(() => progress.running === 0);
    if (stop) throw stop;
    return progress;
  } catch (e) {
    // Its conversations outlive the run: a cancel reaches them only this way.
    if (outlive && isCancellation(e)) await cancelWorkflows([...live]);
    throw e;
  }
}

/**
 * Stage 2 for a batch: makes the profiles it lacks, and asks again (a concurrent batch may have taken
 * the unused ones meanwhile). Returns why it paused, when the budget ran out first.
 */
async function makeProfiles(input: BatchInput): Promise<string | undefined> {
  const spec = {
    batchId: input.batchId,
    size: input.size,
    seed: input.seed,
    concurrency: input.concurrency,
    provider: input.provider,
  };
  for (
    let round = 0, have = await act.prepareBatch(spec);
    have < input.size;
    round++, have = await act.prepareBatch(spec)
  ) {
    let made: Awaited<ReturnType<typeof profilesWorkflow>>;
    try {
      made = await executeChild(profilesWorkflow, {
        workflowId: `${profilesWorkflowId(input.batchId)}-${round}`,
        args: [
          {
            seed: input.seed,
            count: input.size - have,
            provider: input.provider,
            concurrency: input.concurrency,
            batchId: input.batchId,
            ...via(input),
          },
        ],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        typedSearchAttributes: [shapeAttribute],
      });
    } catch (e) {
      // The budget ran out while making profiles: pause before any conversation starts.
      const budget = budgetCause(e);
      if (!budget) throw e;
      return budget.message;
    }
    if (made.done === 0)
      throw ApplicationFailure.nonRetryable(
        `stage 2 accepted no profile in ${made.attempts} samples (gated out ${made.gatedOut}, duplicates ${made.duplicates}): the batch has ${have} of ${input.size}`,
      );
  }
  return undefined;
}
