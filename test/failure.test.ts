import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { stage4Activities } from '../activities/stage4';
import type { Mllm } from '../agents/calls';
import { SimulatedMllm } from '../agents/simulated';
import { rig, runBatch, type TestRig } from './helpers';
import { batchWorkflow } from '../workflows/batch';
import { categoryFilterWorkflow } from '../workflows/catalog';
import { conversationWorkflow } from '../workflows/conversation';
import { batchWorkflowId } from '../common/ids';
import { optimizeWorkflow } from '../workflows/optimize';
import { profilesWorkflow } from '../workflows/profiles';

const rigs: TestRig[] = [];
afterAll(async () => {
  for (const r of rigs) await r.close();
});

const fatal = () => ApplicationFailure.nonRetryable('injected: the openai provider needs a key', 'ConfigurationError');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => randomUUID().slice(0, 8);

/** The innermost message of a failed workflow: what the user must read. */
function rootMessage(e: unknown): string {
  let c = e as { message?: string; cause?: unknown };
  while (c.cause) c = c.cause as typeof c;
  return c.message ?? String(e);
}

/** Waits for the workflow to end; it must fail (not hang, not loop on its workflow task) with the injected message. */
async function expectFailedWithoutTaskFailures(t: TestRig, handle: WorkflowHandle, within = 60_000) {
  const outcome = await t.run(() =>
    Promise.race([
      handle.result().then(
        () => 'completed',
        (e) => e,
      ),
      sleep(within).then(() => 'still running'),
    ]),
  );
  expect(outcome).toBeInstanceOf(WorkflowFailedError);
  expect(rootMessage(outcome)).toContain('injected: the openai provider needs a key');
  const history = await handle.fetchHistory();
  const taskFailures = history.events!.filter(
    (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  );
  expect(taskFailures.length, `${handle.workflowId} failed its workflow task`).toBe(0);
}

describe("a non-retryable activity failure ends its workflow, failed, with the activity's message", () => {
  it('profiles: parallel chunks that fail while another is awaited (the hang on a database without stage 1)', async () => {
    const t = await rig({
      wrap: () => ({
        // The awaited first chunk fails last, so the others reject while nothing awaits them.
        generateProfiles: async (input) => {
          if (input.from === 0) await sleep(1500);
          throw fatal();
        },
        firstProfileSeq: async () => 0,
      }),
    });
    rigs.push(t);
    const h = await t.client.workflow.start(profilesWorkflow, {
      workflowId: `profiles-fail-${uid()}`,
      taskQueue: t.taskQueue,
      args: [{ seed: 990001, count: 50, provider: 'simulated', concurrency: 4 }],
    });
    await expectFailedWithoutTaskFailures(t, h);
  });

  it('batch: stage 2 fails inside the batch, and a conversation fails fatally', async () => {
    const t = await rig({
      wrap: () => ({
        prepareBatch: async () => {
          throw fatal();
        },
      }),
    });
    rigs.push(t);
    const h = await t.client.workflow.start(batchWorkflow, {
      workflowId: `muse-batch-fail-${uid()}`,
      taskQueue: t.taskQueue,
      args: [{ batchId: `fail-${uid()}`, size: 3, seed: 1, concurrency: 2, provider: 'simulated' }],
    });
    await expectFailedWithoutTaskFailures(t, h);

    // Every conversation fails the same way (a missing key): the batch stops starting new ones and fails.
    const started: string[] = [];
    // A conversation's first activity is one of its openings (which, its seed decides).
    const begin = async (ref: { conversationId: string }): Promise<never> => {
      started.push(ref.conversationId);
      throw fatal();
    };
    const t2 = await rig({
      wrap: (real) => ({
        planImageOpening: begin,
        writeTextOpening: begin,
        markConversationFailed: real.markConversationFailed,
      }),
    });
    rigs.push(t2);
    const batchId = `fail2-${uid()}`;
    const h2 = await t2.client.workflow.start(batchWorkflow, {
      workflowId: batchWorkflowId(batchId),
      taskQueue: t2.taskQueue,
      args: [
        { batchId, size: 10, seed: 2, concurrency: 2, provider: 'simulated', indices: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
      ],
    });
    await expectFailedWithoutTaskFailures(t2, h2);
    expect(started.length).toBeLessThanOrEqual(2);
  });

  it('conversation and optimize', async () => {
    const t = await rig({
      wrap: () => ({
        planImageOpening: async () => {
          throw fatal();
        },
        writeTextOpening: async () => {
          throw fatal();
        },
        optimizeConversation: async () => {
          throw fatal();
        },
      }),
    });
    rigs.push(t);
    for (const workflow of [conversationWorkflow, optimizeWorkflow]) {
      const h = await t.client.workflow.start(workflow, {
        workflowId: `${workflow.name}-fail-${uid()}`,
        taskQueue: t.taskQueue,
        args: [{ conversationId: 'muse-none-0', seed: 1 }],
      });
      await expectFailedWithoutTaskFailures(t, h);
    }
  });

  it('caption, filter, index and eval: a fatal unit stops the others', async () => {
    const units: string[] = [];
    const unit = (name: string) => async () => {
      units.push(name);
      throw fatal();
    };
    const t = await rig({
      wrap: () => ({
        planCaptions: async () => Array.from({ length: 10 }, (_, k) => ({ fromId: `a${k}`, toId: `a${k}`, items: 1 })),
        captionItems: unit('caption'),
        planCategoryFilter: async () => Array.from({ length: 10 }, (_, k) => `tag${k}`),
        filterCategory: unit('filter'),
        planEmbeddings: async () =>
          Array.from({ length: 10 }, (_, k) => ({ fromId: `a${k}`, toId: `a${k}`, items: 1 })),
        embedItems: unit('index'),
        judgeConversation: unit('eval'),
      }),
    });
    rigs.push(t);
    for (const [type, args] of [
      ['captionWorkflow', { provider: 'simulated', concurrency: 2 }],
      ['categoryFilterWorkflow', { provider: 'simulated', concurrency: 2 }],
      ['indexWorkflow', { provider: 'simulated', concurrency: 2 }],
      ['evalWorkflow', { evalId: `e-${uid()}`, size: 10, concurrency: 2 }],
    ] as const) {
      const h = await t.client.workflow.start(type, {
        workflowId: `${type}-fail-${uid()}`,
        taskQueue: t.taskQueue,
        args: [args],
      });
      await expectFailedWithoutTaskFailures(t, h);
    }
    // Each stopped after the units already in flight (2 lanes), not after all ten.
    for (const name of ['caption', 'filter', 'index', 'eval'])
      expect(units.filter((u) => u === name).length, name).toBeLessThanOrEqual(2);
  });

  it('a non-fatal failure of one unit is still counted, not fatal', async () => {
    const t = await rig({
      wrap: () => ({
        planCategoryFilter: async () => ['x1', 'x2', 'x3'],
        filterCategory: async ({ name }) => {
          if (name === 'x2') throw ApplicationFailure.nonRetryable('this tag is odd', 'Http400');
          return true;
        },
      }),
    });
    rigs.push(t);
    const r = await t.run(() =>
      t.client.workflow.execute(categoryFilterWorkflow, {
        workflowId: `filter-ok-${uid()}`,
        taskQueue: t.taskQueue,
        args: [{ provider: 'simulated', concurrency: 2 }],
      }),
    );
    expect(r).toMatchObject({ done: 2, failed: 1 });
  });
});

describe('a failed attempt never races its own retry', () => {
  it('stage 4 (optimizeConversation): when one rewrite fails, the attempt fails only once nothing is in flight, and every other rewrite is stored', async () => {
    const t = await rig();
    rigs.push(t);
    const { batchId } = await runBatch(t, 'paid', { size: 1, seed: 77 });
    const conversationId = `muse-${batchId}-0`;
    await t.pool.query('DELETE FROM rewrites WHERE conversation_id = $1', [conversationId]);
    const inner = new SimulatedMllm();
    let inFlight = 0;
    let started = 0;
    const llm: Mllm = {
      provider: 'simulated',
      async call(agent, input, ctx) {
        started++;
        inFlight++;
        try {
          const failing = agent === 'utteranceRewriter' && ctx.key.endsWith(':1:utteranceRewriter');
          await sleep(failing ? 30 : 300);
          if (failing) throw new Error('HTTP 500 from the endpoint');
          return await inner.call(agent, input, ctx);
        } finally {
          inFlight--;
        }
      },
    };
    const a = stage4Activities({ pool: t.pool, llm: () => llm });
    const error = await a.optimizeConversation({ conversationId, seed: 1 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain('HTTP 500');
    // Nothing was still running when the attempt failed (so a retry cannot send it again)...
    expect(inFlight).toBe(0);
    const startedAtFailure = started;
    await sleep(800);
    // ...and nothing started after it.
    expect(started).toBe(startedAtFailure);
    // Every other utterance was rewritten and stored: the retry redoes the failed one alone, so an attempt
    // always makes progress, however often the endpoint fails.
    const stored = (
      await t.pool.query('SELECT count(*)::int AS n FROM rewrites WHERE conversation_id = $1', [conversationId])
    ).rows[0].n;
    const utterances = (
      await t.pool.query('SELECT count(*)::int AS n FROM utterances WHERE conversation_id = $1', [conversationId])
    ).rows[0].n;
    expect(stored).toBe(utterances - 1);
    // A non-retryable failure (a refused key, the budget) dooms the rest: then no new one starts.
    await t.pool.query('DELETE FROM rewrites WHERE conversation_id = $1', [conversationId]);
    started = 0;
    const refusing: Mllm = {
      provider: 'simulated',
      async call(agent, input, ctx) {
        // Utterances begun: each makes a rewrite call, then a check call once the rewrite is back.
        if (agent === 'utteranceRewriter') started++;
        await sleep(50);
        if (ctx.key.endsWith(':0:utteranceRewriter')) throw ApplicationFailure.nonRetryable('HTTP 401', 'Http401');
        return inner.call(agent, input, ctx);
      },
    };
    const refused = await stage4Activities({ pool: t.pool, llm: () => refusing })
      .optimizeConversation({ conversationId, seed: 1 })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(refused?.message).toBe('HTTP 401');
    expect(started).toBeLessThan(utterances);
  });
});
