import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchSettings } from '../agents/config';
import { Ledger } from '../agents/ledger';
import { OpenAiMllm } from '../agents/openai';
import { priceTable } from '../agents/prices';
import type { Pool } from '../db/pool';
import { providerBatchesOf } from '../db/provider-batches';
import type { Role } from '../prompts/prompt';
import { captionWorkflow } from '../workflows/catalog';
import { batchStatus, startBatch } from '../client/batches';
import { dropFreshDatabases, freshDatabase, rig, uniqueBatch } from './helpers';
import { startOpenAiTestServer } from './openai-server';
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

/** Short windows and polls: the fake answers in a fraction of a second. */
const FAST = { flushSeconds: 0.5, maxWaitSeconds: 3, pollSeconds: 0.5, pollMaxSeconds: 1 };

async function setup(o: { batch?: FakeBatchOptions; settings?: Partial<BatchSettings>; tag: string }) {
  const server = await startOpenAiTestServer(undefined, 0, { vary: true, batch: o.batch });
  const databaseUrl = await freshDatabase(o.tag);
  const settings = BatchSettings.parse({ ...FAST, ...o.settings });
  const t = await rig({
    databaseUrl,
    openai: (pool: Pool) =>
      new OpenAiMllm(
        Object.fromEntries(
          Object.entries(MODELS).map(([role, model]) => [
            role,
            { baseURL: server.baseURL, apiKey: 'test-key', keySource: 'OPENAI_API_KEY', model },
          ]),
        ) as never,
        { ledger: new Ledger(pool), pool, batch: settings, prices: PRICES, timeoutMs: 10_000 },
      ),
  });
  closers.push(server.close, t.close);
  return { t, server };
}

/** Drops the captions of the first `n` items, so stage 1 has them to do again. */
async function uncaption(pool: Pool, n: number): Promise<string[]> {
  const r = await pool.query(
    `UPDATE items SET caption = NULL, caption_source = NULL WHERE id IN (SELECT id FROM items ORDER BY id LIMIT $1) RETURNING id`,
    [n],
  );
  return r.rows.map((x) => x.id).sort();
}

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

describe('the Batch API inside the durable workflows (against a local fake of it)', () => {
  it('captions, profiles and stage 4 of a simulated-catalog run go through provider batches, at the batch price', async () => {
    const { t, server } = await setup({ tag: 'bapi' });
    const ids = await uncaption(t.pool, 30);

    // Stage 1: every caption in one provider batch, none asked online.
    const caption = await captionRun(t);
    expect(await t.run(() => caption.result())).toMatchObject({ done: 30, failed: 0 });
    const captioned = await t.pool.query(`SELECT caption FROM items WHERE id = ANY ($1) AND caption IS NOT NULL`, [
      ids,
    ]);
    expect(captioned.rowCount).toBe(30);
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
    expect(pb).toMatchObject({ status: 'ingested', requests: 30, provider_batch_id: 'batch_1' });

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
});
