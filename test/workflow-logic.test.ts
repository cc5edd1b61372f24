import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchAnsweredSignal } from '../common/signals';
import { env } from './helpers';
import { waitHarness, windowHarness } from './workflows/harness';

/**
 * The window, its hand-over and the Batch API's waits, on the suite's Temporal server over mocked
 * activities: the logic in seconds, where the integration tests that prove durability take minutes.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let client: Client;
let connection: Connection;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `logic-${randomUUID()}`;

/** What the mocked activities saw. */
const seen = {
  unitsRun: [] as number[],
  unitsNow: 0,
  unitsPeak: 0,
  suggestions: [] as number[],
  window: 2,
  asked: new Map<number, number>(),
  askingNow: 0,
  askingPeak: 0,
  answered: new Set<number>(),
  returned: 0,
};

beforeAll(async () => {
  native = await NativeConnection.connect({ address: env().temporalAddress });
  worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows', 'harness.ts') }),
    activities: {
      async unit(idx: number) {
        seen.unitsRun.push(idx);
        seen.unitsPeak = Math.max(seen.unitsPeak, ++seen.unitsNow);
        await sleep(15);
        seen.unitsNow--;
      },
      async suggest() {
        seen.suggestions.push(seen.window);
        return seen.window;
      },
      async ask(k: number) {
        seen.asked.set(k, (seen.asked.get(k) ?? 0) + 1);
        seen.askingPeak = Math.max(seen.askingPeak, ++seen.askingNow);
        // Decided as the call arrives, as a provider's queue would: an answer stored later is the next ask's.
        const answer = seen.answered.has(k) ? `answer ${k}` : undefined;
        try {
          await sleep(5);
          // What an activity whose call was queued returns (common/queued.ts): a wait, not a failure.
          return answer ?? { queuedForBatch: `call ${k} queued`, unitsLeft: 1 };
        } finally {
          seen.askingNow--;
          seen.returned++;
        }
      },
    },
  });
  running = worker.run();
  connection = await Connection.connect({ address: env().temporalAddress });
  client = new Client({ connection });
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await native?.close();
});

const start = <T extends typeof windowHarness | typeof waitHarness>(wf: T, input: Parameters<T>[0]) =>
  client.workflow.start(wf, { taskQueue, workflowId: `logic-${randomUUID()}`, args: [input] as never });

describe('the sliding window', () => {
  it('keeps the units running under the window the endpoint allows, each unit once', async () => {
    Object.assign(seen, { unitsRun: [], unitsPeak: 0, suggestions: [], window: 2 });
    const h = await start(windowHarness, { n: 30, ceiling: 6, historyBudget: 10_000 });
    expect(await h.result()).toEqual({ runs: 1 });
    expect(seen.unitsRun.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(seen.unitsPeak).toBeLessThanOrEqual(2);
    // Asked again every 20 launches (or 10 s): twice for 30.
    expect(seen.suggestions.length).toBeGreaterThanOrEqual(2);
  });

  it('grows to the ceiling when the endpoint allows it, and never past it', async () => {
    Object.assign(seen, { unitsRun: [], unitsPeak: 0, suggestions: [], window: 6 });
    const h = await start(windowHarness, { n: 60, ceiling: 6, historyBudget: 10_000 });
    await h.result();
    expect(seen.unitsRun).toHaveLength(60);
    expect(seen.unitsPeak).toBeLessThanOrEqual(6);
    expect(seen.unitsPeak).toBeGreaterThan(2);
  });

  it('hands over to a fresh run past its history budget: every unit once, none lost at the hand-over', async () => {
    Object.assign(seen, { unitsRun: [], unitsPeak: 0, suggestions: [], window: 4 });
    const h = await start(windowHarness, { n: 40, ceiling: 4, historyBudget: 60 });
    const { runs } = await h.result();
    expect(runs).toBeGreaterThan(1);
    expect(seen.unitsRun.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});

describe('waiting for the Batch API', () => {
  it('a queued call waits for the signal, then is asked once more and answered; the wait is not a failure', async () => {
    Object.assign(seen, { asked: new Map(), answered: new Set(), askingPeak: 0, returned: 0 });
    const h = await start(waitHarness, { units: 5 });
    // Every unit asked once and told its call is queued.
    for (let i = 0; i < 200 && seen.returned < 5; i++) await sleep(25);
    expect(seen.returned).toBe(5);
    for (let k = 0; k < 5; k++) seen.answered.add(k);
    await h.signal(batchAnsweredSignal);
    expect(await h.result()).toEqual({ answers: [0, 1, 2, 3, 4].map((k) => `answer ${k}`), handedOver: 0 });
    expect([...seen.asked.values()]).toEqual([2, 2, 2, 2, 2]);
    // The wait shows as a wait: completed activities and a signal, no failed activity.
    const events = (await h.fetchHistory()).events!;
    expect(events.filter((e) => e.activityTaskFailedEventAttributes)).toHaveLength(0);
    expect(events.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(10);
  });

  it('asks at most 50 at once, however many units wait', async () => {
    Object.assign(seen, {
      asked: new Map(),
      answered: new Set(Array.from({ length: 120 }, (_, k) => k)),
      askingPeak: 0,
    });
    const h = await start(waitHarness, { units: 120 });
    expect((await h.result()).answers).toHaveLength(120);
    expect(seen.askingPeak).toBeLessThanOrEqual(50);
  });

  it('past its history budget a waiting unit hands over instead of waiting, and is not asked again', async () => {
    Object.assign(seen, { asked: new Map(), answered: new Set(), askingPeak: 0 });
    const h = await start(waitHarness, { units: 5, handOverAfter: 1 });
    expect(await h.result()).toEqual({ answers: [], handedOver: 5 });
    expect([...seen.asked.values()]).toEqual([1, 1, 1, 1, 1]);
  });
});
