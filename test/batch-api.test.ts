import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { databaseTaskQueue } from '../client/connection';
import { taskQueueFor } from '../worker';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchSettings } from '../agents/config';
import { startCollectorFor } from '../activities/collector';
import { shapeAttribute } from '../common/shape';
import { Ledger } from '../agents/ledger';
import { OpenAiMllm } from '../agents/openai';
import { priceTable } from '../agents/prices';
import type { Pool } from '../db/pool';
import {
  enqueueBatchRequest,
  planProviderBatches,
  providerBatchesOf,
  runOfProviderBatch,
  type ProviderBatchRow,
} from '../db/provider-batches';
import type { Role } from '../prompts/prompt';
import { captionWorkflow } from '../workflows/catalog';
import { cancelBatch, optimizeBatch, resumeBatch, startBatch } from '../client/batches';
import {
  apiRunStatus,
  batchStatus,
  describeApiRun,
  describeProviderBatch,
  summarizeProviderBatches,
} from '../client/batch-status';
import { batchCost, formatCost, profilesChargedElsewhere } from '../client/cost';
import { startProfiles } from '../client/profiles';
import { runEval } from '../client/eval';
import { batchWorkflowId, evalWorkflowId } from '../common/ids';
import { batchWorkflow } from '../workflows/batch';
import { dropFreshDatabases, freshDatabase, rig, uniqueBatch } from './helpers';
import { startOpenAiTestServer } from './openai-server';
import { freePort } from './global-setup';
import { startDevServer, waitForTemporal } from '../stack/temporal';
import { ensureTemporalCli } from '../stack/temporal-cli';
import type { FakeBatchOptions } from './batch-api-server';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await dropFreshDatabases();
});

const MODELS: Record<Role, string> = {
  catalog: 'm-catalog',
  profile: 'm-profile',
  manager: 'm-manager',
  user: 'm-user',
  recommender: 'm-recommender',
  rewriter: 'm-rewriter',
  reviewer: 'm-reviewer',
};
/** Every model at $100 / $100 per million tokens online, so the batch price (half) shows in the ledger. */
const PRICES = priceTable(Object.fromEntries(Object.values(MODELS).map((m) => [m, [100, 100]])));

/**
 * Short windows and polls: the fake answers in a fraction of a second. No queue limit unless a test sets
 * one (the fake has none either), and a refused batch waits a second, not a minute, before it goes again.
 */
const FAST = {
  flushSeconds: 0.5,
  maxWaitSeconds: 3,
  pollSeconds: 0.5,
  pollMaxSeconds: 1,
  deferSeconds: 1,
  deferMaxSeconds: 2,
  maxEnqueuedTokens: { '*': 1_000_000_000 },
};

async function setup(o: {
  batch?: FakeBatchOptions;
  settings?: Partial<BatchSettings>;
  tag: string;
  databaseUrl?: string;
  taskQueue?: string;
  server?: Awaited<ReturnType<typeof startOpenAiTestServer>>;
  prices?: typeof PRICES;
  temporalAddress?: string;
}) {
  const server = o.server ?? (await startOpenAiTestServer(undefined, 0, { vary: true, batch: o.batch }));
  const databaseUrl = o.databaseUrl ?? (await freshDatabase(o.tag));
  const settings = BatchSettings.parse({ ...FAST, ...o.settings });
  let llm: OpenAiMllm | undefined;
  const t = await rig({
    databaseUrl,
    taskQueue: o.taskQueue,
    temporalAddress: o.temporalAddress,
    openai: (pool: Pool) =>
      (llm = new OpenAiMllm(
        Object.fromEntries(
          Object.entries(MODELS).map(([role, model]) => [
            role,
            { baseURL: server.baseURL, apiKey: 'test-key', keySource: 'OPENAI_API_KEY', model },
          ]),
        ) as never,
        {
          ledger: new Ledger(pool),
          pool,
          batch: settings,
          prices: o.prices ?? PRICES,
          timeoutMs: 10_000,
          startCollector: startCollectorFor(pool),
        },
      )),
  });
  closers.push(server.close, t.close);
  return { t, server, databaseUrl, llm: llm! };
}

/** Drops the captions of the first `n` items, so stage 1 has them to do again. */
async function uncaption(pool: Pool, n: number): Promise<string[]> {
  const r = await pool.query(
    `UPDATE items SET caption = NULL, caption_source = NULL WHERE id IN (SELECT id FROM items ORDER BY id LIMIT $1) RETURNING id`,
    [n],
  );
  return r.rows.map((x) => x.id).sort();
}

/**
 * 30 uncaptioned items, about 600 estimated tokens each, with muse and the fake both held to a queue limit
 * of 9,000 tokens for the catalog's model: about half of them at once.
 */
async function underQueueLimit(tag: string) {
  const limit = 9_000;
  const rig = await setup({
    tag,
    settings: { maxEnqueuedTokens: { '*': 1_000_000_000, 'm-catalog': limit } },
    batch: { enqueuedTokenLimit: limit, latencyMs: 1_000 },
  });
  return { ...rig, limit, ids: await uncaption(rig.t.pool, 30) };
}

/** Which of these items have a caption now. */
const captionedOf = async (pool: Pool, ids: string[]): Promise<string[]> =>
  (await pool.query(`SELECT id FROM items WHERE id = ANY ($1) AND caption IS NOT NULL ORDER BY id`, [ids])).rows.map(
    (r) => r.id,
  );

const captionRun = (t: Awaited<ReturnType<typeof setup>>['t'], workflowId = `caption-${randomUUID().slice(0, 8)}`) =>
  t.client.workflow.start(captionWorkflow, {
    workflowId,
    taskQueue: t.taskQueue,
    args: [{ provider: 'openai', concurrency: 2, batchRoles: ['catalog'] }],
  });

const ledgerOf = async (pool: Pool, where: string, args: unknown[]) =>
  (
    await pool.query(
      `SELECT agent, status, api, cost_usd::float8 AS cost, input_tokens, output_tokens, provider_batch_id FROM llm_calls WHERE ${where}`,
      args,
    )
  ).rows;

/** Waits until the run's newest provider batch is in this state at the provider (or, for 'ingested', here). */
async function untilNewestBatch(pool: Pool, runId: string, status: 'in_progress' | 'ingested'): Promise<void> {
  for (;;) {
    const [b] = await providerBatchesOf(pool, runId);
    if (b?.status === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * After a kill while a caption run's provider batch was in progress: the run finished, the same batch was
 * polled again and ingested, its file uploaded and the batch created once, and each caption paid once.
 */
async function expectSameBatchFinished(
  pool: Pool,
  fake: Awaited<ReturnType<typeof startOpenAiTestServer>>,
  run: { workflowId: string; ids: string[]; atKill: ProviderBatchRow; pollsAtKill: number },
): Promise<void> {
  const [after] = await providerBatchesOf(pool, run.workflowId);
  expect(after).toMatchObject({ provider_batch_id: run.atKill.provider_batch_id, status: 'ingested' });
  expect(fake.batches.uploads).toHaveLength(1);
  expect(fake.batches.calls.get('POST /batches')).toBe(1);
  expect(fake.batches.calls.get('GET /batches/id')!).toBeGreaterThan(run.pollsAtKill);
  expect(await captionedOf(pool, run.ids)).toHaveLength(run.ids.length);
  const paid = await pool.query(
    `SELECT count(*)::int AS n FROM llm_calls WHERE agent = 'itemCaptioner' AND status = 'ok'`,
  );
  expect(paid.rows[0].n).toBe(run.ids.length);
}

describe('the Batch API inside the durable workflows (against a local fake of it)', () => {
  it('captions, profiles and stage 4 of a simulated-catalog run go through provider batches, at the batch price', async () => {
    const { t, server } = await setup({ tag: 'bapi' });
    const ids = await uncaption(t.pool, 30);

    // Stage 1: every caption in one provider batch, none asked online.
    const caption = await captionRun(t);
    expect(await t.run(() => caption.result())).toMatchObject({ done: 30, failed: 0 });
    expect(await captionedOf(t.pool, ids)).toHaveLength(30);
    expect(server.seen.filter((r) => r.agent === 'itemCaptioner')).toHaveLength(0);
    const captions = await ledgerOf(t.pool, `agent = 'itemCaptioner' AND status = 'ok'`, []);
    expect(captions).toHaveLength(30);
    for (const r of captions) {
      expect(r.api).toBe('batch');
      // Half of $100 per million tokens, in and out.
      expect(r.cost).toBeCloseTo(((r.input_tokens + r.output_tokens) * 50) / 1e6, 8);
    }
    expect(server.batches.uploads).toHaveLength(1);
    expect(server.batches.uploads[0].lines).toBe(30);
    const [pb] = await providerBatchesOf(t.pool, caption.workflowId);
    expect(pb).toMatchObject({ status: 'ingested', requests: 30, provider_batch_id: server.batches.batches[0].id });

    // Stages 2 and 4 of a batch: the profile calls and every stage-4 call through batches; stage 3 online.
    const batchId = uniqueBatch('bapi');
    const h = await startBatch(t, {
      batchId,
      size: 3,
      seed: 7,
      concurrency: 3,
      provider: 'openai',
      batchRoles: ['profile', 'rewriter', 'reviewer'],
    });
    expect(await t.run(() => h.result())).toMatchObject({ done: 3, failed: 0 });
    const rows = await ledgerOf(t.pool, `status = 'ok' AND (conversation_id LIKE $1 OR batch_id = $2)`, [
      `muse-${batchId}-%`,
      batchId,
    ]);
    const byApi = (agents: string[]) => [...new Set(rows.filter((r) => agents.includes(r.agent)).map((r) => r.api))];
    expect(
      byApi([
        'profileGate',
        'backstoryWriter',
        'utteranceRewriter',
        'rewriteChecker',
        'qualityReviewer',
        'recommendationScreener',
      ]),
    ).toEqual(['batch']);
    expect(byApi(['textOpening', 'needsAnalyser', 'recommendation', 'acceptance'])).toEqual(['online']);
    const onlineAgents = new Set(server.seen.map((r) => r.agent));
    for (const a of [
      'profileGate',
      'backstoryWriter',
      'utteranceRewriter',
      'rewriteChecker',
      'qualityReviewer',
      'recommendationScreener',
    ])
      expect(onlineAgents.has(a), a).toBe(false);
    const reviews = await t.pool.query(`SELECT count(*)::int AS n FROM reviews WHERE conversation_id LIKE $1`, [
      `muse-${batchId}-%`,
    ]);
    expect(reviews.rows[0].n).toBe(3);
    // Stage 4 is three rounds (rewrites, their checks, then review and screener): the conversations share them.
    const batches = await providerBatchesOf(t.pool, batchId);
    expect(batches.every((b) => b.status === 'ingested')).toBe(true);
    const st = await batchStatus(t, batchId);
    expect(st.counts.completed).toBe(3);
  });

  it("a batch's hand-over leaves the conversations waiting on a provider batch running, taken over by the next run: stage 3 goes on meanwhile", async () => {
    // Answers come 15 s after a batch is made: stage 3 of all six conversations fits well inside that.
    const { t, server } = await setup({ tag: 'bhand', batch: { latencyMs: 15_000 } });
    const batchId = uniqueBatch('bhand');
    const size = 6;
    const h = await t.client.workflow.start(batchWorkflow, {
      workflowId: batchWorkflowId(batchId),
      taskQueue: t.taskQueue,
      // A budget of 40 events: the run hands over after two or three conversations.
      args: [
        {
          batchId,
          size,
          seed: 5,
          concurrency: 2,
          provider: 'openai',
          historyBudget: 40,
          batchRoles: ['rewriter', 'reviewer'],
        },
      ],
    });
    expect(await t.run(() => h.result())).toMatchObject({ total: size, done: size, failed: 0, running: 0 });

    // Every conversation's stage 3 began before the first provider batch had answered (the old hand-over
    // waited for the waiting conversations' three rounds of batches before it started the next one).
    const started = await t.pool.query(`SELECT max(started_at) AS last FROM conversations WHERE batch_id = $1`, [
      batchId,
    ]);
    const batches = await providerBatchesOf(t.pool, batchId);
    const firstAnswered = Math.min(...batches.map((b) => b.ended_at!.getTime()));
    expect(started.rows[0].last.getTime()).toBeLessThan(firstAnswered);
    // Handed over, not started again: the batch ran more than once, each conversation once.
    const runs = async (query: string) => {
      const found: Array<{ workflowId: string; status: string }> = [];
      for await (const w of t.client.workflow.list({ query }))
        found.push({ workflowId: w.workflowId, status: w.status.name });
      return found;
    };
    expect((await runs(`WorkflowId = "${batchWorkflowId(batchId)}"`)).length).toBeGreaterThan(1);
    const conversations = await runs(`WorkflowId STARTS_WITH "muse-${batchId}-"`);
    expect(conversations.map((c) => c.status)).toEqual(Array(size).fill('COMPLETED'));
    // Nothing asked twice: each stage-4 request went to the provider once.
    const requests = await t.pool.query(`SELECT count(*)::int AS n FROM batch_requests WHERE run_id = $1`, [batchId]);
    expect(server.batches.linesUploaded).toBe(requests.rows[0].n);
    const reviews = await t.pool.query(`SELECT count(*)::int AS n FROM reviews WHERE conversation_id LIKE $1`, [
      `muse-${batchId}-%`,
    ]);
    expect(reviews.rows[0].n).toBe(size);
  });

  it("conversations taken over by the next run: a failure is counted and recorded as a child's is, and a cancel reaches them", async () => {
    const runsOf = async (t: Awaited<ReturnType<typeof setup>>['t'], query: string) => {
      const found: string[] = [];
      for await (const w of t.client.workflow.list({ query })) found.push(w.status.name);
      return found;
    };
    const start = (t: Awaited<ReturnType<typeof setup>>['t'], batchId: string) =>
      t.client.workflow.start(batchWorkflow, {
        workflowId: batchWorkflowId(batchId),
        taskQueue: t.taskQueue,
        args: [
          {
            batchId,
            size: 6,
            seed: 5,
            concurrency: 2,
            provider: 'openai',
            historyBudget: 40,
            batchRoles: ['rewriter', 'reviewer'],
          },
        ],
      });

    // Every review refused: each conversation fails in stage 4's last round, most of them after a hand-over.
    const refused = await setup({
      tag: 'badoptf',
      batch: {
        latencyMs: 4_000,
        line: (_l, _n, agent) => (agent === 'qualityReviewer' ? { status: 400, message: 'review refused' } : undefined),
      },
    });
    const failing = uniqueBatch('badoptf');
    expect(await refused.t.run(async () => (await start(refused.t, failing)).result())).toMatchObject({
      done: 0,
      failed: 6,
    });
    expect((await runsOf(refused.t, `WorkflowId = "${batchWorkflowId(failing)}"`)).length).toBeGreaterThan(1);
    const failed = await refused.t.pool.query(`SELECT status, failure FROM conversations WHERE batch_id = $1`, [
      failing,
    ]);
    expect(failed.rows).toHaveLength(6);
    for (const c of failed.rows)
      expect(c).toMatchObject({ status: 'failed', failure: expect.stringMatching(/HTTP 400: review refused/) });

    // A cancel while conversations taken over wait for their batch: they are cancelled too, none left running.
    const { t, llm } = await setup({ tag: 'badoptc', batch: { latencyMs: 60_000 } });
    const cancelled = uniqueBatch('badoptc');
    const h = await start(t, cancelled);
    await t.run(async () => {
      while (
        (await runsOf(t, `WorkflowId = "${batchWorkflowId(cancelled)}"`)).length < 2 ||
        (await providerBatchesOf(t.pool, cancelled)).length === 0
      )
        await new Promise((r) => setTimeout(r, 200));
      await cancelBatch(t, cancelled, (row) => llm.batches.cancel(row));
      await expect(h.result()).rejects.toThrow();
      for (
        let i = 0;
        i < 100 &&
        (await runsOf(t, `WorkflowId STARTS_WITH "muse-${cancelled}-" AND ExecutionStatus = "Running"`)).length;
        i++
      )
        await new Promise((r) => setTimeout(r, 300));
    });
    expect(await runsOf(t, `WorkflowId STARTS_WITH "muse-${cancelled}-" AND ExecutionStatus = "Running"`)).toEqual([]);
    expect(await runsOf(t, `WorkflowId STARTS_WITH "muse-${cancelled}-"`)).toContain('CANCELLED');
  });

  it('a batch terminated while its conversations wait for a provider batch: they go on to their reviews, and muse resume starts none twice', async () => {
    const { t } = await setup({ tag: 'bterm', batch: { latencyMs: 10_000 } });
    const batchId = uniqueBatch('bterm');
    const size = 4;
    const h = await startBatch(t, {
      batchId,
      size,
      seed: 3,
      concurrency: 2,
      provider: 'openai',
      batchRoles: ['rewriter', 'reviewer'],
    });
    const running = async () => {
      let n = 0;
      const query = `WorkflowId STARTS_WITH "muse-${batchId}-" AND ExecutionStatus = "Running"`;
      for await (const w of t.client.workflow.list({ query })) if (w) n++;
      return n;
    };
    const reviewed = async () =>
      (
        await t.pool.query(`SELECT count(*)::int AS n FROM reviews WHERE conversation_id LIKE $1`, [
          `muse-${batchId}-%`,
        ])
      ).rows[0].n;
    await t.run(async () => {
      await untilNewestBatch(t.pool, batchId, 'in_progress');
      await h.terminate('test: a stuck batch');
      // Whatever had not finished stage 3 is resumed (a conversation still running is taken over, not started again).
      const resumed = await resumeBatch(t, batchId);
      if (resumed) expect(await resumed.handle.result()).toMatchObject({ failed: 0 });
      // Until every conversation's workflow has ended (visibility trails a review stored by a moment).
      for (let i = 0; i < 300 && (await running()) > 0; i++) await new Promise((r) => setTimeout(r, 200));
    });
    expect(await reviewed()).toBe(size);
    for (let idx = 0; idx < size; idx++) {
      const statuses: string[] = [];
      for await (const w of t.client.workflow.list({ query: `WorkflowId = "muse-${batchId}-${idx}"` }))
        statuses.push(w.status.name);
      expect(statuses, `conversation ${idx}`).toEqual(['COMPLETED']);
    }
  });

  it('an expired batch sends its unanswered half again; a retryable error line is sent again, a fatal one fails its unit, and a second run retries it', async () => {
    const { t, server } = await setup({
      tag: 'bexp',
      batch: {
        // The first batch expires with half its lines answered; of those, the first gets a 500, the second a 400.
        expire: (n) => (n === 1 ? 0.5 : undefined),
        line: (_l, n) =>
          n === 1 ? { status: 500 } : n === 2 ? { status: 400, message: 'the image could not be read' } : undefined,
      },
    });
    const ids = await uncaption(t.pool, 30);
    const first = await captionRun(t);
    const r = await t.run(() => first.result());
    // One chunk (up to 200 items through the Batch API): the refused caption fails, everything else is stored
    // and counted done (progress counts items, not chunks).
    expect(r).toMatchObject({ done: 29, failed: 1 });
    const stored = async () => (await captionedOf(t.pool, ids)).length;
    expect(await stored()).toBe(29);
    // 15 answered lines of 30 (13 ok, a 500, a 400), then a second batch of the 15 unanswered and the 500.
    expect(server.batches.uploads.map((u) => u.lines)).toEqual([30, 16]);
    const batches = (await providerBatchesOf(t.pool, first.workflowId)).reverse();
    expect(batches.map((b) => [b.status, b.counts?.completed, b.counts?.failed])).toEqual([
      ['ingested', 13, 2],
      ['ingested', 16, 0],
    ]);
    const failedReason = await t.pool.query(
      `SELECT error FROM batch_requests WHERE run_id = $1 AND error IS NOT NULL`,
      [first.workflowId],
    );
    expect(failedReason.rows.map((x) => x.error)).toEqual(['HTTP 400: the image could not be read']);

    // \`muse status\` names the expired batch as expired, and says where its requests went: the 15 it never ran
    // and the one that got a 500, answered in the second batch.
    const lines = describeApiRun(await apiRunStatus(t, first.workflowId));
    const [one, two] = batches;
    expect(lines).toContain(
      `  provider batch ${one.id} (${one.provider_batch_id}): expired (ingested), 30 requests, ${(one.bytes / 1e6).toFixed(1)} MB, m-catalog, 13/30 completed, 2 failed, 16 of its requests sent again: 16 answered in provider batch ${two.id}`,
    );
    expect(lines.find((l) => l.includes(`provider batch ${two.id} (`))).toMatch(/: ingested, 16 requests/);

    // Run again: only the item left uncaptioned is asked, in a batch of its own, and answered.
    const again = await captionRun(t, first.workflowId);
    expect(await t.run(() => again.result())).toMatchObject({ done: 1, failed: 0 });
    expect(await stored()).toBe(30);
    expect(server.batches.uploads.map((u) => u.lines)).toEqual([30, 16, 1]);
  });

  it('a batch that fails validation fails the request on the line it names, named by its agent and key in one line; the others go into a new batch', async () => {
    const { t, server } = await setup({ tag: 'binvalid', batch: { invalidLine: (n) => (n === 1 ? 3 : undefined) } });
    const ids = await uncaption(t.pool, 10);
    const run = await captionRun(t);
    expect(await t.run(() => run.result())).toMatchObject({ done: 9, failed: 1 });
    const stored = await captionedOf(t.pool, ids);
    expect(stored).toHaveLength(9);
    expect(server.batches.uploads.map((u) => u.lines)).toEqual([10, 9]);
    expect(server.batches.batches.map((b) => b.status)).toEqual(['failed', 'completed']);

    // Line 3 of the file is the third request by content hash: its item is the one left without a caption.
    const requests = (
      await t.pool.query(
        `SELECT content_hash, call_key, status, error FROM batch_requests WHERE run_id = $1 ORDER BY content_hash`,
        [run.workflowId],
      )
    ).rows;
    const bad = requests[2];
    expect(requests.filter((r) => r.status === 'failed')).toEqual([bad]);
    const badItem = bad.call_key.replace('caption:', '');
    expect(ids.filter((id) => !stored.includes(id))).toEqual([badItem]);
    const message = `provider batch ${server.batches.batches[0].id} failed validation at line 3 of its request file (itemCaptioner ${bad.call_key}, custom_id ${bad.content_hash.slice(0, 12)}…, body): the body is not a valid chat completions request`;
    expect(bad.error).toBe(message);

    // \`muse status <run>\` shows the run's provider batches and the refused request with its reason.
    const lines = describeApiRun(await apiRunStatus(t, run.workflowId));
    expect(lines[0]).toBe('Batch API requests: answered 9, failed 1');
    expect(lines.filter((l) => l.startsWith('  provider batch '))).toHaveLength(2);
    expect(lines.at(-1)).toBe(`  refused itemCaptioner ${bad.call_key}: ${message}`);
  });

  it("two databases' runs on one Temporal server at once: each database's provider batches and collector are its own", async () => {
    // Fresh databases number their provider batches from 1 alike.
    const a = await setup({ tag: 'btwoa', batch: { latencyMs: 3_000 } });
    const b = await setup({ tag: 'btwob', batch: { latencyMs: 3_000 } });
    await uncaption(a.t.pool, 4);
    await uncaption(b.t.pool, 6);
    const runA = await captionRun(a.t);
    const runB = await captionRun(b.t);
    const within = (ms: number) =>
      new Promise((_, reject) => setTimeout(() => reject(new Error(`not done in ${ms} ms`)), ms));
    const [ra, rb] = await Promise.all([
      Promise.race([a.t.run(() => runA.result()), within(60_000)]),
      Promise.race([b.t.run(() => runB.result()), within(60_000)]),
    ]);
    expect(ra).toMatchObject({ done: 4, failed: 0 });
    expect(rb).toMatchObject({ done: 6, failed: 0 });
    expect(a.server.batches.linesUploaded).toBe(4);
    expect(b.server.batches.linesUploaded).toBe(6);
  });

  it('two databases sending their provider batch 1 from one worker process at once: each request file holds its own requests', async () => {
    const a = await setup({ tag: 'bfilea' });
    const b = await setup({ tag: 'bfileb' });
    // Requests of different sizes in each database, queued and planned into each one's provider batch 1.
    const plan = async (s: typeof a, n: number, words: number) => {
      const hashes: string[] = [];
      for (let i = 0; i < n; i++) {
        const body = {
          model: MODELS.catalog,
          messages: [{ role: 'user', content: `item ${i}: ${'linen '.repeat(words)}` }],
        };
        const contentHash = `${s.databaseUrl.slice(-12)}-${i}`;
        hashes.push(contentHash);
        await enqueueBatchRequest(s.t.pool, {
          contentHash,
          runId: 'run-files',
          requester: 'run-files',
          callKey: `caption:${i}`,
          agent: 'itemCaptioner',
          role: 'catalog',
          baseUrl: s.server.baseURL,
          model: MODELS.catalog,
          promptVersion: 'v1',
          body,
          bytes: JSON.stringify(body).length + 100,
          estimateTokens: words,
          requesterRun: 'run-files',
        });
      }
      return { ids: await planProviderBatches(s.t.pool, 'run-files', { maxRequests: 1_000, maxBytes: 1e9 }), hashes };
    };
    const pa = await plan(a, 300, 40);
    const pb = await plan(b, 200, 90);
    expect([pa.ids, pb.ids]).toEqual([[1], [1]]);
    await Promise.all([a.llm.batches!.submit(1, () => {}), b.llm.batches!.submit(1, () => {})]);
    for (const [s, p] of [
      [a, pa],
      [b, pb],
    ] as const) {
      const [upload] = s.server.batches.uploads;
      const lines = s.server.batches.files.get(upload.id)!.text.split('\n').filter(Boolean);
      expect(lines.map((l) => JSON.parse(l).custom_id).sort()).toEqual([...p.hashes].sort());
    }
  });

  it('a provider that refuses the request file (401): the run ends at once with the reason, nothing waits for ever, and a later run sends the requests anew', async () => {
    const refusing = { status: 401, message: 'Incorrect API key provided' };
    const { t, server } = await setup({
      tag: 'brefuse',
      batch: { refuse: (route) => (route === 'POST /files' ? refusing : undefined) },
    });
    const ids = await uncaption(t.pool, 5);
    const run = await captionRun(t);
    // Within a minute (the old way: ten attempts over twenty minutes, then the units waited for ever).
    const within = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the run still waits after 60 s')), 60_000),
    );
    expect(await Promise.race([t.run(() => run.result()), within])).toMatchObject({ done: 0, failed: 5 });
    expect(server.batches.calls.get('POST /files')).toBe(1);
    const [b] = await providerBatchesOf(t.pool, run.workflowId);
    expect(b.status).toBe('abandoned');
    expect(b.error).toMatch(/HTTP 401: Incorrect API key provided \(check OPENAI_API_KEY, the key this call used\)$/);
    const lines = describeApiRun(await apiRunStatus(t, run.workflowId));
    expect(lines[0]).toBe('Batch API requests: failed 5');
    expect(lines.at(-1)).toMatch(
      new RegExp(`^  refused itemCaptioner caption:\\S+: provider batch ${b.id} was abandoned: .*HTTP 401`),
    );

    // The key fixed: the same command again sends them in a new batch.
    server.batches.o.refuse = undefined;
    const again = await captionRun(t, run.workflowId);
    expect(await t.run(() => again.result())).toMatchObject({ done: 5, failed: 0 });
    expect(await captionedOf(t.pool, ids)).toHaveLength(5);
  });

  it('a sent batch abandoned when its polls are refused (a revoked key) is read again by the next run, not sent again', async () => {
    const { t, server } = await setup({ tag: 'breopen', batch: { latencyMs: 8_000 } });
    const ids = await uncaption(t.pool, 6);
    const run = await captionRun(t);
    await untilNewestBatch(t.pool, run.workflowId, 'in_progress');
    const [sent] = await providerBatchesOf(t.pool, run.workflowId);
    const revoked = { status: 401, message: 'Incorrect API key provided' };
    server.batches.o.refuse = (route) => (route === 'GET /batches/id' ? revoked : undefined);
    expect(await t.run(() => run.result())).toMatchObject({ done: 0, failed: 6 });
    const [abandoned] = await providerBatchesOf(t.pool, run.workflowId);
    expect(abandoned).toMatchObject({ id: sent.id, status: 'abandoned' });
    expect(describeApiRun(await apiRunStatus(t, run.workflowId)).at(-1)).toMatch(
      /was abandoned: .*HTTP 401.*; the next run reads it again before sending anything anew$/,
    );
    const pollsAtAbandon = server.batches.calls.get('GET /batches/id') ?? 0;

    // The key fixed: the same command again reads the paid batch, uploads and creates nothing.
    server.batches.o.refuse = undefined;
    const again = await captionRun(t, run.workflowId);
    expect(await t.run(() => again.result())).toMatchObject({ done: 6, failed: 0 });
    await expectSameBatchFinished(t.pool, server, {
      workflowId: run.workflowId,
      ids,
      atKill: sent,
      pollsAtKill: pollsAtAbandon,
    });
  });

  it('a request file over the size limit is split into files within it, and the provider accepts each', async () => {
    const first = await setup({ tag: 'bsplit' });
    const ids = await uncaption(first.t.pool, 12);
    const whole = await captionRun(first.t);
    expect(await first.t.run(() => whole.result())).toMatchObject({ done: 12 });
    expect(first.server.batches.uploads).toHaveLength(1);
    const bytes = first.server.batches.uploads[0].bytes;
    // The same requests again (their answers and requests dropped), under a limit of 60 % of that file.
    await first.t.pool.query(`DELETE FROM llm_calls WHERE agent = 'itemCaptioner'`);
    await first.t.pool.query(`DELETE FROM batch_requests WHERE agent = 'itemCaptioner'`);
    await first.t.pool.query(`UPDATE items SET caption = NULL, caption_source = NULL WHERE id = ANY ($1)`, [ids]);
    const limit = Math.ceil(bytes * 0.6);
    const { t, server } = await setup({
      tag: 'bsplit',
      databaseUrl: first.databaseUrl,
      settings: { maxBytesPerFile: limit },
      batch: { maxBytes: limit },
    });
    const split = await captionRun(t);
    expect(await t.run(() => split.result())).toMatchObject({ done: 12, failed: 0 });
    expect(server.batches.uploads).toHaveLength(2);
    expect(server.batches.uploads.reduce((n, u) => n + u.lines, 0)).toBe(12);
    expect(server.batches.uploads.reduce((n, u) => n + u.bytes, 0)).toBe(bytes);
    for (const u of server.batches.uploads) expect(u.bytes).toBeLessThanOrEqual(limit);
    expect(server.batches.batches.map((b) => b.status)).toEqual(['completed', 'completed']);
  });

  it('a batch created at the provider whose answer was lost is found by its mark when the submit is retried, not created twice', async () => {
    const { t, server } = await setup({ tag: 'bmark', batch: { loseCreate: (n) => n === 1 } });
    await uncaption(t.pool, 5);
    const run = await captionRun(t);
    expect(await t.run(() => run.result())).toMatchObject({ done: 5, failed: 0 });
    // The first create was done and its answer dropped; the retried submit listed the batches and found it.
    expect(server.batches.calls.get('POST /batches')).toBe(1);
    expect(server.batches.calls.get('GET /batches')).toBeGreaterThanOrEqual(1);
    expect(server.batches.uploads).toHaveLength(1);
    const [b] = await providerBatchesOf(t.pool, run.workflowId);
    expect(b).toMatchObject({ provider_batch_id: server.batches.batches[0].id, status: 'ingested' });
    expect(server.batches.batches[0].metadata?.muse).toMatch(new RegExp(`:${b.id}$`));
  });

  it('a worker SIGKILLed while its provider batch is in progress: the next worker polls the same batch, and nothing is uploaded or created twice', async () => {
    const server = await startOpenAiTestServer(undefined, 0, { vary: true, batch: { latencyMs: 6_000 } });
    closers.push(server.close);
    const databaseUrl = await freshDatabase('bkill');
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-bkill-'));
    const config = path.join(home, 'muse.config.json');
    // The same models as the next worker's (a request's content hash names its model).
    const roles = Object.fromEntries(Object.entries(MODELS).map(([role, model]) => [role, { model }]));
    fs.writeFileSync(config, JSON.stringify({ batch: FAST, roles }));
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      MUSE_TASK_QUEUE: `bkill-${randomUUID().slice(0, 8)}`,
      MUSE_CONFIG: config,
      OPENAI_BASE_URL: server.baseURL,
      OPENAI_API_KEY: 'test-key',
    };
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'muse.js'), 'worker'], {
      env,
      stdio: 'ignore',
    });
    const died = new Promise((resolve) => child.once('exit', resolve));
    const t = await rig({ databaseUrl });
    closers.push(t.close);
    try {
      const queue = taskQueueFor(await databaseTaskQueue(t.pool, env.MUSE_TASK_QUEUE), 'openai');
      const ids = await uncaption(t.pool, 10);
      const workflowId = `caption-${randomUUID().slice(0, 8)}`;
      // Stamped as `muse catalog caption` stamps it: the `muse worker` above may start after it.
      const h = await t.client.workflow.start(captionWorkflow, {
        workflowId,
        taskQueue: queue,
        args: [{ provider: 'openai', concurrency: 2, batchRoles: ['catalog'] }],
        typedSearchAttributes: [shapeAttribute],
      });
      // Wait until the provider has the batch and is working on it, then kill the worker without warning.
      await untilNewestBatch(t.pool, workflowId, 'in_progress');
      child.kill('SIGKILL');
      await died;
      const [atKill] = await providerBatchesOf(t.pool, workflowId);
      const pollsAtKill = server.batches.calls.get('GET /batches/id') ?? 0;

      // A new worker on the same queue, with the same endpoint and settings.
      const next = await setup({ tag: 'bkill', databaseUrl, taskQueue: queue, server });
      expect(await next.t.run(() => h.result())).toMatchObject({ done: 10, failed: 0 });
      await expectSameBatchFinished(t.pool, server, { workflowId, ids, atKill, pollsAtKill });
    } finally {
      child.kill('SIGKILL');
    }
  }, 240_000);

  it('the Temporal server SIGKILLed while a provider batch is in progress: once it is back, the same batch is polled, nothing is uploaded or created twice', async () => {
    // A dev server of this test's own, on a SQLite file, as `muse up` runs it.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-bserver-'));
    const server = { cli: await ensureTemporalCli(), port: await freePort(), uiPort: await freePort() };
    const dbFile = path.join(home, 'temporal.db');
    const start = async () => {
      const child = startDevServer({ ...server, dbFile, logFile: path.join(home, 'temporal.log') });
      await waitForTemporal(`127.0.0.1:${server.port}`, 60_000, child);
      return child;
    };
    let dev = await start();
    try {
      const { t, server: fake } = await setup({
        tag: 'bserver',
        batch: { latencyMs: 8_000 },
        temporalAddress: `127.0.0.1:${server.port}`,
      });
      const ids = await uncaption(t.pool, 10);
      const run = await captionRun(t);
      await untilNewestBatch(t.pool, run.workflowId, 'in_progress');
      const gone = new Promise((r) => dev.once('exit', r));
      dev.kill('SIGKILL');
      await gone;
      const [atKill] = await providerBatchesOf(t.pool, run.workflowId);
      const pollsAtKill = fake.batches.calls.get('GET /batches/id') ?? 0;
      dev = await start();

      expect(await t.run(() => run.result())).toMatchObject({ done: 10, failed: 0 });
      await expectSameBatchFinished(t.pool, fake, { workflowId: run.workflowId, ids, atKill, pollsAtKill });
      // The test's worker and client go before their server does.
      await closers.pop()!();
    } finally {
      dev.kill('SIGKILL');
    }
  }, 240_000);

  it('muse cancel cancels the provider batches at the provider, status and cost show them, and optimize sends the cancelled requests again', async () => {
    // Batches that would take a minute: the cancel comes first.
    const { t, server, llm } = await setup({ tag: 'bcancel', batch: { latencyMs: 60_000 } });
    const batchId = uniqueBatch('bcancel');
    const h = await startBatch(t, {
      batchId,
      size: 2,
      seed: 3,
      concurrency: 2,
      provider: 'openai',
      batchRoles: ['rewriter', 'reviewer'],
    });
    const running = t.run(() => h.result()).catch((e) => e);
    for (;;) {
      const st = await batchStatus(t, batchId);
      if (st.providerBatches.some((b) => b.status === 'in_progress')) {
        expect(summarizeProviderBatches(st.providerBatches)).toMatch(/^API batches: in_progress 0\/\d+/);
        expect(describeProviderBatch(st.providerBatches[0])).toMatch(
          /^provider batch \d+ \(batch_\w+\): in_progress, \d+ requests/,
        );
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const cancelled = await cancelBatch(t, batchId, (row) => llm.batches.cancel(row));
    expect(cancelled).toContain(`provider batch ${server.batches.batches[0].id}`);
    expect(await running).toBeInstanceOf(Error);
    // The provider batch's workflow sees it cancelled and settles its requests as cancelled, not queued again.
    await untilNewestBatch(t.pool, batchId, 'ingested');
    expect(server.batches.batches.map((b) => b.status)).toEqual(['cancelled']);
    expect((await batchStatus(t, batchId)).requests).toEqual({ cancelled: expect.any(Number) });

    server.batches.o.latencyMs = 200;
    // Stage 3 had ended (its conversations are completed), so what is left is stage 4: `muse optimize`.
    const again = await optimizeBatch(t, batchId, { batchRoles: ['rewriter', 'reviewer'] });
    expect(await t.run(() => again.handle!.result())).toMatchObject({ done: 2, failed: 0 });
    // `muse cost` reads the prices from the configuration: the same as the worker's here.
    const cost = await batchCost(t.pool, batchId, {
      ...process.env,
      MUSE_PRICES: JSON.stringify(Object.fromEntries(Object.values(MODELS).map((m) => [m, [100, 100]]))),
    });
    expect(
      cost
        .filter((r) => r.api === 'batch')
        .map((r) => r.agent)
        .sort(),
    ).toEqual(['qualityReviewer', 'recommendationScreener', 'rewriteChecker', 'utteranceRewriter']);
    for (const r of cost.filter((x) => x.api === 'batch')) expect(r.costUsd).toBeCloseTo(r.onlineUsd! / 2, 8);
    // Each API with its own total: stage 3's online calls are not counted as the Batch API's.
    const sum = (api: string, f: (r: (typeof cost)[number]) => number) =>
      cost.filter((r) => r.api === api).reduce((n, r) => n + f(r), 0);
    const text = formatCost(cost).split('\n');
    expect(text).toContain(
      `online: $${sum('online', (r) => r.costUsd!).toFixed(4)} for ${sum('online', (r) => r.requests)} requests`,
    );
    expect(text).toContain(
      `Batch API: $${sum('batch', (r) => r.costUsd!).toFixed(4)} for ${sum('batch', (r) => r.requests)} requests ($${sum('batch', (r) => r.onlineUsd!).toFixed(4)} had they gone online)`,
    );
    expect(sum('online', (r) => r.requests)).toBeGreaterThan(0);
  });

  it("muse eval's judgements go through a provider batch; its 80 units wait on one timer, and at most 50 activities run at once", async () => {
    const { t, server } = await setup({ tag: 'beval' });
    // 80 short conversations in the Muse record format, each its own request (the texts differ).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-beval-'));
    const record = (k: number) =>
      JSON.stringify({
        Conversations: [
          { User: `I need a warm coat for a trip to the mountains, number ${k}.` },
          { Assistant: 'This wool coat is lined and windproof.' },
        ],
      });
    fs.writeFileSync(
      path.join(dir, 'dataset.jsonl'),
      Array.from({ length: 80 }, (_, k) => record(k)).join('\n') + '\n',
    );
    const r = await runEval(
      t,
      dir,
      { sample: 80, seed: 1, provider: 'openai', concurrency: 4, batchRoles: ['reviewer'] },
      (fn) => t.run(fn),
    );
    expect(r).toMatchObject({ sampled: 80, judged: 80, problems: [] });
    expect(server.seen.filter((x) => x.agent === 'datasetJudge')).toHaveLength(0);
    expect(server.batches.linesUploaded).toBe(80);
    const judged = await ledgerOf(t.pool, `agent = 'datasetJudge' AND status = 'ok'`, []);
    expect(judged.map((x) => x.api)).toEqual(Array(80).fill('batch'));

    // The workflow's history: every waiting unit shares one wait for the signal (was a timer each), and
    // its activities are bounded (80 at once had each workflow task's events overflow the server's buffer).
    const events = (await t.client.workflow.getHandle(evalWorkflowId(r.evalId)).fetchHistory()).events!;
    const timers = events.filter((e) => e.timerStartedEventAttributes).length;
    expect(timers).toBeLessThanOrEqual(server.batches.batches.length);
    let open = 0;
    let most = 0;
    for (const e of events) {
      if (e.activityTaskScheduledEventAttributes) most = Math.max(most, ++open);
      else if (
        e.activityTaskCompletedEventAttributes ||
        e.activityTaskFailedEventAttributes ||
        e.activityTaskTimedOutEventAttributes ||
        e.activityTaskCanceledEventAttributes
      )
        open--;
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(50);
    expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toHaveLength(0);
  });

  it('muse cancel takes a caption run too: its provider batch is cancelled at the provider, its workflow cancelled, and the same command again captions the rest', async () => {
    const { t, server, llm } = await setup({ tag: 'bcancelrun', batch: { latencyMs: 60_000 } });
    const ids = await uncaption(t.pool, 6);
    const run = await captionRun(t);
    const ended = t.run(() => run.result()).catch((e) => e);
    await untilNewestBatch(t.pool, run.workflowId, 'in_progress');
    const cancelled = await cancelBatch(t, run.workflowId, (row) => llm.batches.cancel(row));
    expect(cancelled).toEqual([`provider batch ${server.batches.batches[0].id}`, run.workflowId]);
    expect(await ended).toBeInstanceOf(Error);
    expect((await run.describe()).status.name).toBe('CANCELLED');
    await untilNewestBatch(t.pool, run.workflowId, 'ingested');
    expect(server.batches.batches.map((b) => b.status)).toEqual(['cancelled']);
    expect(describeApiRun(await apiRunStatus(t, run.workflowId))[0]).toBe('Batch API requests: cancelled 6');

    server.batches.o.latencyMs = 200;
    const again = await captionRun(t, run.workflowId);
    expect(await t.run(() => again.result())).toMatchObject({ done: 6, failed: 0 });
    expect(await captionedOf(t.pool, ids)).toHaveLength(6);
    expect(server.batches.uploads.map((u) => u.lines)).toEqual([6, 6]);
  });

  it('--max-cost counts a provider batch at its worst case before sending it: the batch pauses, nothing is sent, and a resume with a higher cap finishes it', async () => {
    // Stages 2 and 3 free, stage 4's models at $100 a million online: only the provider batches count.
    const free = ['m-profile', 'm-manager', 'm-user', 'm-recommender'];
    const { t, server } = await setup({
      tag: 'bcap',
      prices: { ...PRICES, ...Object.fromEntries(free.map((m) => [m, [0, 0] as const])) },
    });
    const batchId = uniqueBatch('bcap');
    const h = await startBatch(t, {
      batchId,
      size: 2,
      seed: 5,
      concurrency: 2,
      provider: 'openai',
      batchRoles: ['rewriter', 'reviewer'],
      // The first stage-4 batch's worst case (its prompts plus 1,000 reply tokens each, at $50 a million) passes $1.
      maxCost: 1,
    });
    const r = await t.run(() => h.result());
    expect(r.paused).toMatch(/would pass its budget cap of \$1\.00 with provider batch \d+/);
    expect(server.batches.uploads).toHaveLength(0);
    const [paused] = await providerBatchesOf(t.pool, batchId);
    expect(paused.status).toBe('paused');
    expect(paused.worst_case_usd).toBeGreaterThan(1);

    const resumed = await resumeBatch(t, batchId, { maxCost: 1_000 });
    expect(await t.run(() => resumed!.handle.result())).toMatchObject({ done: 2, failed: 0 });
    expect(server.batches.uploads.length).toBeGreaterThan(0);
  });

  it('a queue limit that holds half a run: no more tokens enqueued than the limit at any time, every item answered', async () => {
    const { t, server, ids, limit } = await underQueueLimit('bqueue');
    const run = await captionRun(t);
    expect(await t.run(() => run.result())).toMatchObject({ done: 30, failed: 0 });
    expect(await captionedOf(t.pool, ids)).toHaveLength(30);
    const batches = await providerBatchesOf(t.pool, run.workflowId);
    const total = batches.reduce((n, b) => n + b.tokens, 0);
    expect(total).toBeGreaterThan(limit * 1.5);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    for (const b of batches) expect(b.tokens).toBeLessThanOrEqual(limit);
    // Never more at once than the limit: not by our estimate (each batch holds its place from admitted to
    // ended; the sum only grows when one is admitted, so those are the moments to check) ...
    for (const b of batches) {
      const inQueue = batches.filter((o) => o.admitted_at! <= b.admitted_at! && o.ended_at! > b.admitted_at!);
      expect(inQueue.reduce((n, o) => n + o.tokens, 0)).toBeLessThanOrEqual(limit);
    }
    // ... nor by the provider's count, which never had to refuse one.
    expect(server.batches.peakEnqueued.get('m-catalog')).toBeLessThanOrEqual(limit);
    expect(server.batches.batches.map((b) => b.status)).toEqual(batches.map(() => 'completed'));
    expect(server.batches.linesUploaded).toBe(30);
  });

  it('a batch the provider refuses as a whole with token_limit_exceeded is sent again by itself, its requests never refused', async () => {
    // Another job of the organisation fills the queue when the first batch arrives.
    const full =
      'Enqueued token limit reached for m-catalog in organization org-fake. Limit: 2,000,000 enqueued tokens. Please try again once some in_progress batches have been completed.';
    const { t, server } = await setup({
      tag: 'bdefer',
      batch: { failBatch: (n) => (n === 1 ? { code: 'token_limit_exceeded', message: full } : undefined) },
    });
    const ids = await uncaption(t.pool, 12);
    const run = await captionRun(t);
    expect(await t.run(() => run.result())).toMatchObject({ done: 12, failed: 0 });
    expect(await captionedOf(t.pool, ids)).toHaveLength(12);
    // The same uploaded file, created again: one upload, two creates, the first refused.
    expect(server.batches.uploads).toHaveLength(1);
    expect(server.batches.batches.map((b) => b.status)).toEqual(['failed', 'completed']);
    const [b] = await providerBatchesOf(t.pool, run.workflowId);
    expect(b).toMatchObject({ status: 'ingested', deferrals: 1, provider_batch_id: server.batches.batches[1].id });
    expect(b.deferred_error).toBe(`${server.batches.batches[0].id}: token_limit_exceeded: ${full}`);
    expect(server.batches.batches[1].metadata?.muse).toMatch(new RegExp(`:${b.id}:1$`));
    // The refused sending's id is no dead end: \`muse status batch_…\` finds the run by it.
    expect(await runOfProviderBatch(t.pool, server.batches.batches[0].id)).toBe(run.workflowId);
    const paid = await ledgerOf(t.pool, `agent = 'itemCaptioner' AND status = 'ok'`, []);
    expect(paid).toHaveLength(12);
    expect(describeApiRun(await apiRunStatus(t, run.workflowId))[1]).toContain(
      "refused 1 time for the provider's queue limit and sent again",
    );
  });

  it("a whole-batch failure with a code muse does not know fails its requests with the provider's message, once", async () => {
    const { t, server } = await setup({
      tag: 'bunknown',
      batch: { failBatch: () => ({ code: 'organization_suspended', message: 'This organization is suspended.' }) },
    });
    await uncaption(t.pool, 4);
    const run = await captionRun(t);
    expect(await t.run(() => run.result())).toMatchObject({ done: 0, failed: 4 });
    expect(server.batches.batches).toHaveLength(1);
    const errors = await t.pool.query(`SELECT DISTINCT error FROM batch_requests WHERE run_id = $1`, [run.workflowId]);
    expect(errors.rows.map((r) => r.error)).toEqual([
      `provider batch ${server.batches.batches[0].id} failed validation: organization_suspended: This organization is suspended. (a code muse does not know)`,
    ]);
  });

  it('muse cost of a batch whose profiles `muse profiles` made first names where their stage-2 calls are charged', async () => {
    const { t } = await setup({ tag: 'bprof' });
    const seed = 9;
    const made = await startProfiles(t, { count: 4, seed, provider: 'openai', concurrency: 2 });
    await t.run(() => made.handle.result());
    const stage2 = await ledgerOf(t.pool, `call_key LIKE $1 AND status = 'ok'`, [`profile:${seed}:%`]);
    expect(stage2.length).toBeGreaterThan(0);

    const batchId = uniqueBatch('bprof');
    const h = await startBatch(t, { batchId, size: 2, seed, concurrency: 2, provider: 'openai' });
    expect(await t.run(() => h.result())).toMatchObject({ done: 2, failed: 0 });
    const rows = await batchCost(t.pool, batchId);
    expect(rows.map((r) => r.agent)).not.toContain('backstoryWriter');
    const lines = await profilesChargedElsewhere(t.pool, batchId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^stage 2: the 2 profiles of seed ${seed} this batch used cost \\$[\\d.]+ in \\d+ requests, charged to \`muse profiles --seed ${seed}\` \\(muse-profiles-s${seed}\\) \\(not in the table above\\)$`,
      ),
    );
  });

  it('a caption run answered in many provider batches hands its waiting chunks over to a fresh run before its history grows too long', async () => {
    // Five or so batches under a queue limit; every answer has each waiting chunk ask again (three events each).
    const { t, server, ids } = await underQueueLimit('bhist');
    // 30 captions are one chunk; a budget of 20 events hands it over after a round or two.
    const run = await t.client.workflow.start(captionWorkflow, {
      workflowId: `caption-${randomUUID().slice(0, 8)}`,
      taskQueue: t.taskQueue,
      args: [{ provider: 'openai', concurrency: 2, batchRoles: ['catalog'], historyBudget: 20 }],
    });
    expect(await t.run(() => run.result())).toMatchObject({ total: 30, done: 30, failed: 0 });
    let runs = 0;
    for await (const w of t.client.workflow.list({ query: `WorkflowId = "${run.workflowId}"` })) if (w) runs++;
    expect(runs).toBeGreaterThan(1);
    // Handed over, nothing asked twice: each caption sent once, paid once, stored.
    expect(await captionedOf(t.pool, ids)).toHaveLength(30);
    expect(server.batches.linesUploaded).toBe(30);
    expect(await ledgerOf(t.pool, `agent = 'itemCaptioner' AND status = 'ok'`, [])).toHaveLength(30);
  });
});
