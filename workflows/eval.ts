import { patched, setHandler } from '@temporalio/workflow';
import { act } from './activities';
import { inCountedLanes } from './lanes';
import { progressQuery, type BatchProgress } from './progress';

export interface EvalInput {
  evalId: string;
  size: number;
  concurrency: number;
}

/**
 * `muse eval`: the judge over every sampled conversation, `concurrency` at a time. A conversation the
 * judge could not score is counted as failed; the others' scores stand (a re-run judges only the rest).
 */
export async function evalWorkflow({ evalId, size, concurrency }: EvalInput): Promise<BatchProgress> {
  const progress: BatchProgress = {
    batchId: evalId,
    total: size,
    done: 0,
    failed: 0,
    running: 0,
    startedAt: Date.now(),
  };
  setHandler(progressQuery, () => progress);
  await inCountedLanes(
    progress,
    size,
    concurrency,
    (k) => act.judgeConversation({ evalId, k }),
    undefined,
    patched('fatal-stops-workflow'),
  );
  return progress;
}
