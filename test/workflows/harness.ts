/**
 * Workflows that drive the window and the Batch API's waits over mocked activities
 * (test/workflow-logic.test.ts): their logic, without the latencies of real agents.
 */
import { condition, continueAsNew, proxyActivities } from '@temporalio/workflow';
import { HandOver } from '../../common/lanes';
import type { Queued } from '../../common/queued';
import { batchAnswers } from '../../workflows/provider-batches';
import { slidingWindow } from '../../workflows/window';

export interface HarnessActivities {
  /** One unit of work (a conversation, in a batch). */
  unit(idx: number): Promise<void>;
  /** The window the endpoint can use now. */
  suggest(): Promise<number>;
  /** A call through the Batch API: Queued until the test answers it. */
  ask(k: number): Promise<string | Queued>;
}

const act = proxyActivities<HarnessActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

export interface WindowHarnessInput {
  n: number;
  ceiling: number;
  historyBudget: number;
  cursor?: number;
  runs?: number;
}

/** The batch's window over `n` units: how many runs it took (each hand-over is one more). */
export async function windowHarness(o: WindowHarnessInput): Promise<{ runs: number }> {
  let running = 0;
  await slidingWindow({
    queue: Array.from({ length: o.n }, (_, i) => i),
    cursor: o.cursor ?? 0,
    ceiling: o.ceiling,
    suggest: () => act.suggest(),
    launch: (idx) => {
      running++;
      void act.unit(idx).finally(() => running--);
    },
    running: () => running,
    waiting: () => 0,
    stopped: () => false,
    historyBudget: o.historyBudget,
    waitingOutliveRun: false,
    handOver: (cursor) => continueAsNew<typeof windowHarness>({ ...o, cursor, runs: (o.runs ?? 1) + 1 }),
  });
  await condition(() => running === 0);
  return { runs: o.runs ?? 1 };
}

/** `units` calls through the Batch API at once, each asked until answered (or handed over). */
export async function waitHarness(o: {
  units: number;
  handOverAfter?: number;
}): Promise<{ answers: string[]; handedOver: number }> {
  const untilAnswered = batchAnswers({ handOverAfter: o.handOverAfter });
  const answers: string[] = [];
  let handedOver = 0;
  await Promise.all(
    Array.from({ length: o.units }, (_, k) =>
      untilAnswered(() => act.ask(k)).then(
        (a) => void (answers[k] = a),
        (e) => {
          if (!(e instanceof HandOver)) throw e;
          handedOver++;
        },
      ),
    ),
  );
  return { answers, handedOver };
}
