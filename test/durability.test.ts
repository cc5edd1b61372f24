import { ApplicationFailure } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import type { Activities } from '../activities';
import { resumeBatch, startBatch } from '../client/batches';
import { batchStatus } from '../client/batch-status';
import { checkAgainstMethod, loadBatch } from './method-check';
import { rig, runBatch, type TestRig, uniqueBatch } from './helpers';
import { batchWorkflow } from '../workflows/batch';
import { batchWorkflowId } from '../common/ids';

const rigs: TestRig[] = [];
afterAll(async () => {
  for (const r of rigs) await r.close();
});

type Step = (input: { conversationId: string; idx?: number }) => Promise<unknown>;
const UTTERANCE_ACTIVITIES = [
  'askOccasion',
  'answerOccasion',
  'userChitChat',
  'systemChitChat',
  'userRejects',
  'systemRecommends',
  'systemRecommendsTarget',
  'userAccepts',
] as const;

/** Wraps every utterance-writing activity with `around`. */
function wrapAll(
  real: Activities,
  around: (
    name: string,
    input: { conversationId: string; idx?: number },
    call: () => Promise<unknown>,
  ) => Promise<unknown>,
): Partial<Activities> {
  return Object.fromEntries(
    UTTERANCE_ACTIVITIES.map((name) => [
      name,
      ((input) => around(name, input, () => (real[name] as Step)(input))) as Step,
    ]),
  ) as Partial<Activities>;
}

describe('durability', () => {
  it('a retried activity whose first completion was lost neither duplicates a row nor calls an agent again', async () => {
    const seen = new Map<string, number>();
    const replies: Array<{ reused: boolean }> = [];
    const t = await rig({
      wrap: (real) => ({
        // The first attempt does all its work, then "loses" its completion; Temporal retries it.
        systemRecommends: async (input) => {
          const k = `${input.conversationId}:${input.idx}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
          const r = await real.systemRecommends(input);
          if (seen.get(k) === 1) throw new Error('simulated lost completion');
          replies.push(r);
          return r;
        },
      }),
    });
    rigs.push(t);
    const { batchId, progress } = await runBatch(t, 'retry', { size: 4, seed: 11 });
    expect(progress).toMatchObject({ done: 4, failed: 0 });

    const convs = await loadBatch(t.pool, batchId);
    for (const c of convs) checkAgainstMethod(c);
    const recommendRows = convs
      .flatMap((c) => c.utterances)
      .filter((u) => u.action === 'recommend' && !u.meta.forced).length;
    expect([...seen.values()].every((n) => n === 2)).toBe(true);
    expect(seen.size).toBe(recommendRows);
    expect(replies.every((r) => r.reused)).toBe(true);
    const recommendationCalls = t.llm.calls.filter(
      (c) => c.agent === 'recommendation' && !c.key.includes('Target'),
    ).length;
    const forced = convs.filter((c) => c.outcome === 'forced').length;
    expect(recommendationCalls).toBe(recommendRows + forced);
    const dup = await t.pool.query(
      `SELECT conversation_id, idx, count(*) FROM utterances WHERE conversation_id LIKE $1 GROUP BY 1, 2 HAVING count(*) > 1`,
      [`muse-${batchId}-%`],
    );
    expect(dup.rowCount).toBe(0);
  });

  it('a batch longer than its history budget continues as new without losing or repeating a conversation', async () => {
    const t = await rig();
    rigs.push(t);
    const batchId = uniqueBatch('can');
    const size = 24;
    const h = await t.client.workflow.start(batchWorkflow, {
      workflowId: batchWorkflowId(batchId),
      taskQueue: t.taskQueue,
      args: [{ batchId, size, seed: 8, concurrency: 4, provider: 'simulated', historyBudget: 60 }],
    });
    expect(await t.run(() => h.result())).toMatchObject({ total: size, done: size, failed: 0, running: 0 });
    // Visibility is eventually consistent: the list can trail the runs by a moment on a busy server.
    let runs: string[] = [];
    for (let i = 0; i < 20 && runs.length <= 2; i++) {
      if (i) await new Promise((r) => setTimeout(r, 500));
      runs = [];
      for await (const w of t.client.workflow.list({ query: `WorkflowId="${batchWorkflowId(batchId)}"` }))
        runs.push(w.runId);
    }
    expect(runs.length).toBeGreaterThan(2);
    const rows = (
      await t.pool.query('SELECT status, count(*)::int AS n FROM conversations WHERE batch_id = $1 GROUP BY status', [
        batchId,
      ])
    ).rows;
    expect(rows).toEqual([{ status: 'completed', n: size }]);
    for (const c of await loadBatch(t.pool, batchId)) {
      checkAgainstMethod(c);
      // One run per conversation: a handover never started a conversation twice.
      const conversationRuns: string[] = [];
      for await (const w of t.client.workflow.list({ query: `WorkflowId="${c.id}"` })) conversationRuns.push(w.runId);
      expect(conversationRuns, c.id).toHaveLength(1);
    }
  });

  it('resume restarts a failed conversation under its workflow id and reuses the utterances already stored', async () => {
    const batchId = uniqueBatch('resume');
    const victim = `muse-${batchId}-1`;
    let failing = true;
    const t = await rig({
      wrap: (real) =>
        wrapAll(real, async (_name, input, call) => {
          if (failing && input.conversationId === victim && input.idx === 5)
            throw ApplicationFailure.nonRetryable('injected fault at utterance 5', 'InjectedFault');
          return call();
        }),
    });
    rigs.push(t);
    const h = await startBatch(t, { batchId, size: 3, seed: 5, concurrency: 3, provider: 'simulated' });
    expect(await t.run(() => h.result())).toMatchObject({ done: 2, failed: 1 });

    const status = await batchStatus(t, batchId);
    expect(status.counts).toEqual({ completed: 2, failed: 1 });
    expect(status.failures).toEqual([
      { conversationId: victim, reason: expect.stringContaining('injected fault at utterance 5') },
    ]);
    const before = (
      await t.pool.query('SELECT idx, text, updated_at FROM utterances WHERE conversation_id = $1 ORDER BY idx', [
        victim,
      ])
    ).rows;
    expect(before.map((r) => r.idx)).toEqual([0, 1, 2, 3, 4]);
    const firstRun = (await t.client.workflow.getHandle(victim).describe()).runId;

    failing = false;
    t.llm.calls.length = 0;
    const resumed = await resumeBatch(t, batchId);
    expect(await t.run(() => resumed!.handle.result())).toMatchObject({ total: 1, done: 1, failed: 0 });

    const d = await t.client.workflow.getHandle(victim).describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.runId).not.toBe(firstRun);
    const [c] = (await loadBatch(t.pool, batchId)).filter((x) => x.id === victim);
    checkAgainstMethod(c);
    const after = (
      await t.pool.query(
        'SELECT idx, text, updated_at FROM utterances WHERE conversation_id = $1 AND idx < 5 ORDER BY idx',
        [victim],
      )
    ).rows;
    expect(after).toEqual(before);
    // Only the missing utterances were generated: no agent call for anything stored before the fault.
    // (Stage 4 rewrites and reviews every utterance afterwards, once: those calls are not counted here.)
    const calledIdx = t.llm.calls
      .filter(
        (x) => !['utteranceRewriter', 'rewriteChecker', 'qualityReviewer', 'recommendationScreener'].includes(x.agent),
      )
      .map((x) => x.key.split(':'))
      .filter((k) => k[0] === victim)
      .map((k) => Number(k[1]));
    expect(calledIdx.length).toBeGreaterThan(0);
    expect(Math.min(...calledIdx)).toBe(5);
    expect(t.llm.calls.every((x) => x.key.startsWith(victim))).toBe(true);
    expect((await batchStatus(t, batchId)).counts).toEqual({ completed: 3 });
    expect(await resumeBatch(t, batchId)).toBeUndefined();
  });
});
