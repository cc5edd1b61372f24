import {
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities';

/** How often a run looks at the conversations it took over: soon at first, then every two minutes. */
const FIRST_LOOK_SECONDS = 5;
const LOOK_MAX_SECONDS = 120;

/**
 * Conversations a batch's run took over rather than started: those the run before handed over while
 * they waited for a provider batch (hours, through the Batch API), or one still running from a run that
 * was terminated. They are not this run's children, so Temporal tells it nothing of them. `adopt(id)`
 * settles as the workflow ends, which one activity looks up for all of them: soon after each ending
 * found, then less often, up to every two minutes (a few history events a look, whatever their number).
 */
export function adoptedConversations(endedWorkflows: Activities['endedWorkflows']) {
  const waiters = new Map<string, (failure?: ApplicationFailure) => void>();
  let looking = false;
  const look = async () => {
    looking = true;
    let delay = FIRST_LOOK_SECONDS;
    try {
      while (waiters.size) {
        await sleep(delay * 1000);
        let ended: Awaited<ReturnType<Activities['endedWorkflows']>>;
        try {
          ended = await endedWorkflows({ workflowIds: [...waiters.keys()] });
        } catch (e) {
          if (isCancellation(e)) return;
          // The lookup failed past its retries (the server unreachable a while): look again later.
          delay = LOOK_MAX_SECONDS;
          continue;
        }
        for (const e of ended) {
          const settle = waiters.get(e.workflowId);
          waiters.delete(e.workflowId);
          // Its failure as the batch reads a child's: the type says budget, fatal, or neither.
          settle?.(e.ok ? undefined : ApplicationFailure.nonRetryable(e.message, e.type));
        }
        delay = ended.length ? FIRST_LOOK_SECONDS : Math.min(delay * 2, LOOK_MAX_SECONDS);
      }
    } catch (e) {
      if (!isCancellation(e)) throw e;
    } finally {
      looking = false;
    }
  };
  return {
    /** Resolves when the workflow completes; rejects with its failure when it ends any other way. */
    adopt(workflowId: string): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiters.set(workflowId, (failure) => (failure ? reject(failure) : resolve()));
        if (!looking) void look();
      });
    },
  };
}

/**
 * Asks these workflows to cancel, and waits until the server has the requests. A batch whose children
 * outlive its run (ParentClosePolicy.ABANDON) sends them itself before it ends cancelled: left to the SDK,
 * a cancelled batch's children went on running (a test saw it), and the taken-over ones are not its
 * children at all.
 */
export async function cancelWorkflows(ids: string[]): Promise<void> {
  await CancellationScope.nonCancellable(() =>
    Promise.all(
      ids.map((id) =>
        getExternalWorkflowHandle(id)
          .cancel()
          .catch(() => undefined),
      ),
    ),
  );
}
