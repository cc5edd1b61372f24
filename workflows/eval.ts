import { onlineAnswer } from '../common/queued';
import { setHandler } from '@temporalio/workflow';
import { act } from './activities';
import { inCountedLanes } from '../common/lanes';
import { progressQuery, type BatchProgress } from '../common/progress';
import { batchAnswers, via } from './provider-batches';
import type { ViaBatch } from '../schemas/batch';

export interface EvalInput extends ViaBatch {
  evalId: string;
  size: number;
  concurrency: number;
}

/**
 * `muse eval`: the judge over every sampled conversation, `concurrency` at a time. A conversation the
 * judge could not score is counted as failed; the others' scores stand (a re-run judges only the rest).
 */
export async function evalWorkflow(input: EvalInput): Promise<BatchProgress> {
  const { evalId, size, concurrency } = input;
  const progress: BatchProgress = {
    batchId: evalId,
    total: size,
    done: 0,
    failed: 0,
    running: 0,
    startedAt: Date.now(),
  };
  setHandler(progressQuery, () => progress);
  const untilAnswered = batchAnswers();
  // Through the Batch API a waiting judgement holds nothing: all are asked at once, to share batches.
  const viaBatch = !!input.batchRoles?.length;
  await inCountedLanes(
    progress,
    size,
    viaBatch ? size : concurrency,
    viaBatch
      ? (k) => untilAnswered(() => act.judgeConversation({ evalId, k, ...via(input) }))
      : (k) => act.judgeConversation({ evalId, k }).then(onlineAnswer),
  );
  return progress;
}
