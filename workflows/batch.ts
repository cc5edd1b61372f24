import { FailureType } from '../schemas/failures';
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { bookkeeping } from './activities';
import { conversationWorkflow } from './conversation';
import { conversationId, conversationSeed, optimizeWorkflowId, profilesWorkflowId } from './ids';
import { profilesWorkflow } from './profiles';
import { progressQuery, type BatchProgress } from './progress';
import { optimizeWorkflow, waitingForBatchSignal } from './optimize';
import { via } from './provider-batches';
import type { ViaBatch } from '../schemas/batch';
import * as SA from './search-attributes';
import { budgetCause, failWith, fatalCause } from './failures';

const act = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** The window is asked for again after this many launches: often enough to follow the endpoint's pace. */
const WINDOW_EVERY = 20;
const WINDOW_SECONDS = 10;

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
}
export { progressQuery, type BatchProgress } from './progress';

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
  let cursor = input.cursor ?? 0;
  const progress: BatchProgress = {
    batchId: input.batchId,
    total: queue.length,
    done: input.done ?? 0,
    failed: input.failed ?? 0,
    running: 0,
    startedAt: input.startedAt ?? Date.now(),
  };
  setHandler(progressQuery, () => progress);
  // Conversations waiting for a provider batch (stage 4 through the Batch API) hold no slot of the window.
  const waiting = new Set<string>();
  setHandler(waitingForBatchSignal, (id) => void waiting.add(id));

  const optimize = input.job === 'optimize';
  if (!optimize && input.cursor === undefined && (input.indices === undefined || input.prepare)) {
    const spec = {
      batchId: input.batchId,
      size: input.size,
      seed: input.seed,
      concurrency: input.concurrency,
      provider: input.provider,
    };
    // Histories from before stage 2 was a workflow assigned once; now stage 2 makes the profiles the batch
    // lacks and the batch asks again, since a concurrent batch may have taken the unused ones meanwhile.
    if (!patched('profiles-workflow')) await act.prepareBatch(spec);
    else {
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
          });
        } catch (e) {
          // The budget ran out while making profiles: pause before any conversation starts.
          const budget = budgetCause(e);
          if (!budget) throw e;
          progress.paused = budget.message;
          return progress;
        }
        if (made.done === 0)
          throw ApplicationFailure.nonRetryable(
            `stage 2 accepted no profile in ${made.attempts} samples (gated out ${made.gatedOut}, duplicates ${made.duplicates}): the batch has ${have} of ${input.size}`,
          );
      }
    }
  }

  // A conversation that failed because the setup is wrong (a key, a model): the others would fail alike,
  // so no new one starts and the batch fails with it once the running ones end. Older runs went on.
  const stopOnFatal = patched('fatal-stops-batch');
  let stop: ApplicationFailure | undefined;
  const run = async (idx: number) => {
    const id = conversationId(input.batchId, idx);
    progress.running++;
    try {
      const child = {
        args: [{ conversationId: id, seed: conversationSeed(input.seed, idx), ...via(input) }] as const,
        typedSearchAttributes: [{ key: SA.BatchId, value: input.batchId }],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      };
      if (optimize) await executeChild(optimizeWorkflow, { ...child, workflowId: optimizeWorkflowId(id) });
      else await executeChild(conversationWorkflow, { ...child, workflowId: id });
      progress.done++;
    } catch (e) {
      // Out of budget: the conversation is paused, not failed, and no new one starts; a resume goes on.
      const budget = budgetCause(e);
      if (budget) progress.paused ??= budget.message;
      else progress.failed++;
      const fatal = stopOnFatal ? fatalCause(e) : undefined;
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
      waiting.delete(id);
    }
  };
  const launch = (idx: number) =>
    run(idx).catch((e) => {
      // Recording the failure failed too (the database is gone): stop, rather than leave the rejection unhandled.
      stop ??= ApplicationFailure.nonRetryable(
        `could not record a failed conversation: ${describeFailure(e)}`,
        FailureType.BookkeepingFailed,
      );
    });

  // `concurrency` is the ceiling; under it the window follows what the endpoint's pace can use.
  // Histories recorded before this ran the whole window at the ceiling and must replay so.
  const adaptive = patched('adaptive-window');
  // A window at the ceiling cannot grow, so waiting for room needs no timer to ask again (each one was
  // two history events and a server timer per launch); histories recorded before set one every wait.
  const timerOnlyBelowCeiling = adaptive && patched('window-timer-below-ceiling');
  let window = input.concurrency;
  let launchedSinceAsked = WINDOW_EVERY;
  let askedAt = 0;
  while (cursor < queue.length && !stop && !progress.paused) {
    // Asked again after WINDOW_EVERY launches, or WINDOW_SECONDS: conversations take minutes on a real
    // endpoint, so launches alone would leave a small first window in place while the pace grows.
    if (adaptive && (launchedSinceAsked >= WINDOW_EVERY || Date.now() - askedAt >= WINDOW_SECONDS * 1000)) {
      window = await bookkeeping.suggestWindow({ provider: input.provider, ceiling: input.concurrency });
      launchedSinceAsked = 0;
      askedAt = Date.now();
    }
    const room = () => progress.running - waiting.size < window || !!stop || !!progress.paused;
    if (!adaptive || (timerOnlyBelowCeiling && window >= input.concurrency)) await condition(room);
    else if (!(await condition(room, `${WINDOW_SECONDS} seconds`))) continue;
    if (stop || progress.paused) break;
    if (
      workflowInfo().historyLength > (input.historyBudget ?? DEFAULT_HISTORY_BUDGET) ||
      workflowInfo().continueAsNewSuggested
    ) {
      await condition(() => progress.running === 0);
      if (stop || progress.paused) break; // met while the window drained: no fresh run to hand over to
      await continueAsNew<typeof batchWorkflow>({
        ...input,
        cursor,
        done: progress.done,
        failed: progress.failed,
        startedAt: progress.startedAt,
      });
    }
    void launch(queue[cursor++]);
    launchedSinceAsked++;
  }
  await condition(() => progress.running === 0);
  if (stop) throw stop;
  return progress;
}

/** The innermost cause's message: what actually went wrong in the conversation. */
function describeFailure(e: unknown): string {
  const parts: string[] = [];
  for (let c = e as { message?: string; cause?: unknown } | undefined; c; c = c.cause as typeof c)
    if (c.message) parts.push(c.message);
  return parts.slice(-2).join(': ') || String(e);
}
