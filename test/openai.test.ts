import { afterAll, describe, expect, it } from 'vitest';
import type { Activities } from '../activities';
import { Ledger } from '../agents/ledger';
import { OpenAiMllm } from '../agents/openai';
import { RateLimiter, type Limit } from '../agents/rate-limit';
import { resetPacer } from '../db/rate';
import { priceTable, type PriceTable } from '../agents/prices';
import { resumeBatch, startBatch } from '../client/batches';
import { batchStatus } from '../client/batch-status';
import { buildRecords } from '../export';
import { runEval } from '../client/eval';
import { batchCost, formatCost } from '../client/cost';
import type { Pool } from '../db/pool';
import { PROMPTS } from '../prompts';
import type { Role } from '../prompts/prompt';
import { checkAgainstMethod, loadBatch } from './method-check';
import { dropFreshDatabases, freshDatabase, rig, runBatch, type TestRig, uniqueBatch } from './helpers';
import { startOpenAiTestServer, type Behaviour } from './openai-server';
import { profilesWorkflow } from '../workflows/profiles';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await dropFreshDatabases();
});

/** A model per role; the recommender's is priced (a dated gpt-4o-mini), the others are not in the price table. */
const MODELS: Record<Role, string> = {
  catalog: 'm-catalog',
  profile: 'm-profile',
  manager: 'm-manager',
  user: 'm-user',
  recommender: 'gpt-4o-mini-2024-07-18',
  rewriter: 'm-rewriter',
  reviewer: 'm-reviewer',
};

async function setup(
  behave?: (agent: string, n: number, body: { response_format?: { type: string } }) => Behaviour,
  o: {
    apiKey?: string;
    timeoutMs?: number;
    wrap?: (a: Activities) => Partial<Activities>;
    limits?: Record<string, Limit>;
    databaseUrl?: string;
    prices?: PriceTable;
  } = {},
) {
  const server = await startOpenAiTestServer(behave);
  const e = (model: string) => ({
    baseURL: server.baseURL,
    apiKey: o.apiKey ?? 'test-key',
    keySource: 'OPENAI_API_KEY',
    model,
  });
  const t = await rig({
    databaseUrl: o.databaseUrl,
    wrap: o.wrap,
    openai: (pool: Pool) =>
      new OpenAiMllm(
        Object.fromEntries(Object.entries(MODELS).map(([role, model]) => [role, e(model)])) as Record<
          Role,
          ReturnType<typeof e>
        >,
        {
          ledger: new Ledger(pool),
          timeoutMs: o.timeoutMs ?? 10_000,
          limiter: o.limits && new RateLimiter(pool, o.limits),
          ...(o.prices ? { prices: o.prices } : {}),
        },
      ),
  });
  closers.push(server.close, t.close);
  return { t, server };
}

/** Stage 2's calls belong to profiles, not conversations: the ledger of a batch's conversations leaves them out. */
const STAGE2 = ['backstoryWriter', 'profileGate'];
const run = (t: TestRig, prefix: string, size: number, concurrency = size) =>
  runBatch(t, prefix, { size, seed: size + prefix.length, concurrency, provider: 'openai' });

const ledger = async (t: TestRig, batchId: string) =>
  (
    await t.pool.query(
      `SELECT agent, status, http_status, attempt, ask, response_mode, input_tokens, output_tokens, latency_ms, cost_usd, raw_reply, call_key, model
    FROM llm_calls WHERE conversation_id LIKE $1 ORDER BY id`,
      [`muse-${batchId}-%`],
    )
  ).rows;

describe('the openai provider against a local OpenAI-compatible server', () => {
  it('runs whole conversations: every call structured, with its role model, its temperature and exactly its images, all in the ledger', async () => {
    const { t, server } = await setup();
    const { batchId, progress } = await run(t, 'oa', 6, 3);
    expect(progress).toMatchObject({ done: 6, failed: 0 });
    for (const c of await loadBatch(t.pool, batchId)) {
      checkAgainstMethod(c);
      expect(c.utterances.every((u) => u.meta.provider === 'openai' && u.meta.simulated === false)).toBe(true);
    }
    for (const r of server.seen) {
      const prompt = PROMPTS[r.agent as keyof typeof PROMPTS];
      expect(prompt, r.agent).toBeDefined();
      expect(r.responseFormat, r.agent).toBe('json_schema');
      expect(r.model, r.agent).toBe(MODELS[prompt.role]);
      expect(r.temperature, r.agent).toBe(prompt.temperature);
      expect(r.auth).toBe('Bearer test-key');
      for (const url of r.imageUrls) expect(url).toMatch(/^data:image\/png;base64,iVBOR/);
    }
    const imagesBy = (agent: string) => [...new Set(server.seen.filter((r) => r.agent === agent).map((r) => r.images))];
    expect(imagesBy('recommendation')).toEqual([1]);
    expect(imagesBy('rejectReason')).toEqual([2]);
    expect(imagesBy('acceptance')).toEqual([1]);
    for (const agent of ['textOpening', 'needsAnalyser', 'queryClarifier', 'rejection'])
      expect(imagesBy(agent), agent).toEqual([0]);

    // Identical prompts (the test server's replies repeat) are answered from the ledger: one request each.
    const rows = (await ledger(t, batchId)).filter((r) => r.status === 'ok');
    expect(rows.length).toBe(server.seen.filter((r) => !STAGE2.includes(r.agent)).length);
    for (const r of rows) {
      expect(r.input_tokens).toBeGreaterThan(0);
      expect(r.raw_reply.length).toBeGreaterThan(0);
      expect(r.cost_usd === null).toBe(r.model !== MODELS.recommender);
    }
  });

  it('a retried activity is answered from the ledger and makes no second request', async () => {
    const seen = new Set<string>();
    const { t, server } = await setup(undefined, {
      wrap: (real) => ({
        systemRecommends: async (input) => {
          const r = await real.systemRecommends(input);
          const k = `${input.conversationId}:${input.idx}`;
          if (!seen.has(k)) {
            seen.add(k);
            // The first attempt's utterance is dropped along with its completion: the retry must regenerate it.
            await t.pool.query('DELETE FROM utterances WHERE conversation_id = $1 AND idx = $2', [
              input.conversationId,
              input.idx,
            ]);
            throw new Error('simulated crash after the LLM calls');
          }
          return r;
        },
      }),
    });
    const { batchId, progress } = await run(t, 'oacache', 2);
    expect(progress).toMatchObject({ done: 2, failed: 0 });
    const rows = await ledger(t, batchId);
    for (const k of seen) {
      // Attempt 1 asked the endpoint; attempt 2 regenerated the same utterance from the ledger.
      // Stage 4's rewrite of the same utterance shares the key prefix; it ran once, after the retry.
      const calls = rows.filter(
        (r) => r.call_key.startsWith(`${k}:`) && !['utteranceRewriter', 'rewriteChecker'].includes(r.agent),
      );
      expect(
        calls.filter((r) => r.attempt === 1).every((r) => r.status === 'ok' || r.status === 'cached'),
        k,
      ).toBe(true);
      expect(
        calls.filter((r) => r.attempt === 2).map((r) => r.status),
        k,
      ).toEqual(calls.filter((r) => r.attempt === 1).map(() => 'cached'));
    }
    expect(server.seen.filter((r) => r.agent === 'recommendation').length).toBe(
      rows.filter((r) => r.agent === 'recommendation' && r.status === 'ok').length,
    );
  });

  it('waits as long as Retry-After says before retrying a 429', async () => {
    let first = true;
    const { t, server } = await setup((agent) =>
      agent === 'needsAnalyser' && first ? ((first = false), { status: 429, retryAfter: 2 }) : undefined,
    );
    const { batchId, progress } = await run(t, 'oa429', 1);
    expect(progress).toMatchObject({ done: 1 });
    const needs = server.seen.filter((r) => r.agent === 'needsAnalyser');
    expect(needs[1].at - needs[0].at).toBeGreaterThanOrEqual(1900);
    const rows = (await ledger(t, batchId)).filter((r) => r.agent === 'needsAnalyser');
    expect(rows.slice(0, 2).map((r) => [r.status, r.http_status, r.attempt])).toEqual([
      ['http_error', 429, 1],
      ['ok', null, 2],
    ]);
  });

  it('retries a 500 and a hanging request, and asks again after a malformed or schema-breaking reply', async () => {
    const fired = new Set<string>();
    const once = (name: string, b: Behaviour) => (fired.has(name) ? undefined : (fired.add(name), b));
    const { t } = await setup(
      (agent) =>
        agent === 'textOpening'
          ? once('malformed', 'malformed')
          : agent === 'recommendation'
            ? once('schema', 'schema-breaking')
            : agent === 'queryClarifier'
              ? once('500', { status: 500 })
              : agent === 'needsAnalyser'
                ? once('hang', 'hang')
                : undefined,
      { timeoutMs: 1500 },
    );
    const { batchId, progress } = await run(t, 'oafail', 1);
    expect(progress).toMatchObject({ done: 1, failed: 0 });
    const rows = await ledger(t, batchId);
    const first = (agent: string) =>
      rows
        .filter((r) => r.agent === agent)
        .slice(0, 2)
        .map((r) => [r.status, r.http_status, r.attempt, r.ask]);
    // A bad reply is asked again within the attempt; a 500 or a timeout fails the attempt and Temporal retries.
    expect(first('textOpening')).toEqual([
      ['invalid', null, 1, 1],
      ['ok', null, 1, 2],
    ]);
    // The first recommendation is one activity: attempt 1 timed out in needsAnalyser, attempt 2 hit the 500
    // in queryClarifier, attempt 3 took needsAnalyser from the ledger and got a schema-breaking reply first.
    expect(first('needsAnalyser')).toEqual([
      ['network_error', null, 1, 1],
      ['ok', null, 2, 1],
    ]);
    expect(first('queryClarifier')).toEqual([
      ['http_error', 500, 2, 1],
      ['ok', null, 3, 1],
    ]);
    expect(first('recommendation')).toEqual([
      ['invalid', null, 3, 1],
      ['ok', null, 3, 2],
    ]);
    expect(rows.find((r) => r.agent === 'needsAnalyser' && r.attempt === 3)?.status).toBe('cached');
  });

  it('falls back to JSON mode when the endpoint refuses json_schema', async () => {
    const { t, server } = await setup((_agent, _n, body) =>
      body.response_format?.type === 'json_schema'
        ? { status: 400, message: "response_format 'json_schema' is not supported by this model" }
        : undefined,
    );
    const { batchId, progress } = await run(t, 'oamode', 1);
    expect(progress).toMatchObject({ done: 1, failed: 0 });
    // Refused once per endpoint and model and remembered after that: only requests already under way
    // when the first refusal came back (stage 4 checks 4 rewrites at once) can be refused too.
    for (const model of new Set(server.seen.map((r) => r.model))) {
      const formats = server.seen.filter((r) => r.model === model).map((r) => r.responseFormat);
      expect(formats.filter((f) => f === 'json_schema').length, model).toBeGreaterThanOrEqual(1);
      expect(formats.filter((f) => f === 'json_schema').length, model).toBeLessThanOrEqual(4);
    }
    const modes = new Set((await ledger(t, batchId)).filter((r) => r.status === 'ok').map((r) => r.response_mode));
    expect([...modes]).toEqual(['json_object']);
  });

  it('paces a model under its requests-per-minute limit, with no burst at the start (shared by workers through PostgreSQL)', async () => {
    const rpm = 240; // 4 a second, paced at 95 % of it
    const { t, server } = await setup(undefined, { limits: { [MODELS.recommender]: { rpm } } });
    const { progress } = await run(t, 'oarate', 8);
    expect(progress).toMatchObject({ done: 8, failed: 0 });
    const times = server.seen.filter((r) => r.model === MODELS.recommender).map((r) => r.at);
    expect(times.length).toBeGreaterThan(20);
    const rate = rpm / 60;
    // Never more requests by any moment than the rate allows since the first, give or take one.
    for (let i = 0; i < times.length; i++)
      expect(i + 1, `request ${i}`).toBeLessThanOrEqual(((times[i] - times[0]) / 1000) * rate + 2);
    expect((times[times.length - 1] - times[0]) / 1000).toBeGreaterThanOrEqual(((times.length - 2) / rate) * 0.95);
  });

  it("waits out a storm of 429s longer than all of the retry policy's attempts, and loses no conversation", async () => {
    // Every recommendation is refused for 14 s from the first one: 8 attempts one second apart did not cover it.
    let stormEnds: number | undefined;
    const { t, server } = await setup(
      (agent) => {
        if (agent !== 'recommendation') return undefined;
        stormEnds ??= Date.now() + 14_000;
        return Date.now() < stormEnds ? { status: 429, retryAfter: 1 } : undefined;
      },
      { limits: {} },
    );
    // The pacer row is shared by every test on this database: start from a fresh pace, not one an earlier test slowed.
    await resetPacer(t.pool, MODELS.recommender);
    const { batchId, progress } = await run(t, 'oa429', 2);
    expect(progress).toMatchObject({ done: 2, failed: 0 });
    const refused = server.seen.filter((r) => r.agent === 'recommendation' && r.at < stormEnds!);
    // The calls kept being refused for longer than 8 one-second retries last: the pace slows in a storm, so
    // how many were refused depends on it; how long the storm held them does not.
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[refused.length - 1].at - refused[0].at).toBeGreaterThanOrEqual(9_000);
    // The 429s were waited out inside the call: no activity needed a second attempt for them.
    const calls = await ledger(t, batchId);
    expect(calls.filter((c) => c.http_status === 429).length).toBe(refused.length);
    expect(calls.every((c) => c.attempt === 1)).toBe(true);
  });

  it('fails at once on 401 and on a 400, with a message that says what to fix', async () => {
    for (const [status, message, hint] of [
      [401, 'invalid api key', /check OPENAI_API_KEY/],
      [400, "This model's maximum context length is 8192 tokens", /longer than the model accepts/],
    ] as const) {
      const { t, server } = await setup((agent) =>
        agent === 'backstoryWriter' || agent === 'profileGate' ? undefined : { status, message },
      );
      const batchId = uniqueBatch(`oa${status}`);
      const h = await startBatch(t, { batchId, size: 1, seed: 1 + batchId.length, concurrency: 1, provider: 'openai' });
      if (status === 401) {
        // A rejected key fails every conversation alike: the batch itself fails, with the hint.
        await expect(t.run(() => h.result())).rejects.toThrow();
        let cause = await h.result().catch((e) => e);
        while (cause.cause) cause = cause.cause;
        expect(cause.message).toMatch(hint);
      } else expect(await t.run(() => h.result())).toMatchObject({ done: 0, failed: 1 });
      expect(server.seen.filter((r) => r.agent !== 'backstoryWriter' && r.agent !== 'profileGate')).toHaveLength(1);
      expect((await batchStatus(t, batchId)).failures[0].reason).toMatch(hint);
    }
  });

  it('a budget cap pauses the batch without failing anything; a resume with a higher cap finishes it and pays for nothing twice', async () => {
    // Every model priced alike, so the cap is reached part way through.
    const prices = priceTable(Object.fromEntries(Object.values(MODELS).map((m) => [m, [100, 100]])));
    const { t, server } = await setup(undefined, { prices });
    // Unused profiles of the simulated provider are waiting: an openai batch must make and use its own.
    await t.run(() =>
      t.client.workflow.execute(profilesWorkflow, {
        workflowId: `sim-profiles-${uniqueBatch('p')}`,
        taskQueue: t.taskQueue,
        args: [{ seed: 424242, count: 3, provider: 'simulated', concurrency: 1 }],
      }),
    );
    const batchId = uniqueBatch('budget');
    const cap = 0.25;
    const h = await startBatch(t, { batchId, size: 6, seed: 5, concurrency: 2, provider: 'openai', maxCost: cap });
    const paused = (await t.run(() => h.result())) as { done: number; failed: number; paused?: string };
    expect(paused.paused).toMatch(
      new RegExp(`batch ${batchId} reached its budget cap of \\$0\\.25 .*muse resume ${batchId} --max-cost`),
    );
    expect(paused.failed).toBe(0);
    expect(paused.done).toBeLessThan(6);
    const spent = Number(
      (await t.pool.query('SELECT spent_usd FROM batches WHERE id = $1', [batchId])).rows[0].spent_usd,
    );
    const ledgerSpent = Number(
      (await t.pool.query('SELECT sum(cost_usd) AS s FROM llm_calls WHERE batch_id = $1', [batchId])).rows[0].s,
    );
    expect(spent).toBeCloseTo(ledgerSpent, 6);
    expect(spent).toBeGreaterThanOrEqual(cap);
    // Past the cap, only calls already in flight were paid: at most one a conversation, four for a rewrite.
    const priciest = Number(
      (await t.pool.query('SELECT max(cost_usd) AS m FROM llm_calls WHERE batch_id = $1', [batchId])).rows[0].m,
    );
    expect(spent).toBeLessThanOrEqual(cap + 2 * 4 * priciest);
    const states = (
      await t.pool.query(`SELECT status, count(*)::int AS n FROM conversations WHERE batch_id = $1 GROUP BY status`, [
        batchId,
      ])
    ).rows;
    expect(states.find((r) => r.status === 'failed')).toBeUndefined();
    const st = await batchStatus(t, batchId);
    expect(st.counts.completed ?? 0).toBe(paused.done);
    expect(st.problem).toMatch(/^paused: batch \S+ reached its budget cap/);

    const resumed = await resumeBatch(t, batchId, { maxCost: 100 });
    expect(await t.run(() => resumed!.handle.result())).toMatchObject({ failed: 0 });
    expect((await batchStatus(t, batchId)).counts.completed).toBe(6);
    // Nothing answered was asked again: no call (its key and its content) has two paid answers.
    const twice = await t.pool.query(
      `SELECT call_key FROM llm_calls WHERE batch_id = $1 AND status = 'ok' GROUP BY call_key, content_hash HAVING count(*) > 1`,
      [batchId],
    );
    expect(twice.rowCount).toBe(0);
    expect(server.seen.length).toBeGreaterThan(0);

    // Every record says who made each stage: all openai here, with the models of their roles.
    const { records } = await buildRecords(t.pool, batchId, { minScore: 0, requireScreener: false });
    expect(records).toHaveLength(6);
    for (const r of records) {
      expect(r.Provider).toBe('openai');
      expect(r.Provenance).toEqual({
        Profile: { Provider: 'openai', Models: ['m-profile'] },
        Conversation: {
          Provider: 'openai',
          Models: expect.arrayContaining(['gpt-4o-mini-2024-07-18', 'm-manager', 'm-user']),
        },
        Rewrite: { Provider: 'openai', Models: ['m-reviewer', 'm-rewriter'] },
        Review: { Provider: 'openai', Models: ['m-reviewer'] },
      });
    }

    // `muse eval` keeps a cap of its own: the judge stops at it, and the same command with a higher one goes on.
    const evalOf = (maxCost: number) =>
      runEval(
        t,
        batchId,
        {
          sample: 6,
          seed: 3,
          provider: 'openai',
          concurrency: 2,
          maxCost,
          thresholds: { minScore: 0, requireScreener: false },
        },
        (fn) => t.run(fn),
      );
    const capped = await evalOf(0.0001);
    expect(capped.run).toMatchObject({
      paused: expect.stringMatching(/^evaluation e-\w+ reached its budget cap of \$0\.00 /),
      failed: 0,
    });
    expect(capped.judged).toBeGreaterThanOrEqual(1);
    expect(capped.judged).toBeLessThanOrEqual(2);
    const full = await evalOf(100);
    expect(full.judged).toBe(6);
    const judgedTwice = await t.pool.query(
      `SELECT call_key FROM llm_calls WHERE batch_id = $1 AND status = 'ok' GROUP BY call_key HAVING count(*) > 1`,
      [full.evalId],
    );
    expect(judgedTwice.rowCount).toBe(0);
  });

  it('done when: 50 conversations with 20% of requests failing all complete, and a second run makes zero requests', async () => {
    const kinds: Behaviour[] = [{ status: 429, retryAfter: 0 }, { status: 500 }, 'malformed'];
    // A database of its own: a catalog changed by another test between the two runs would (rightly) change prompts.
    const databaseUrl = await freshDatabase('oa50');
    const { t, server } = await setup(
      (agent, n) => (agent !== 'backstoryWriter' && n % 5 === 0 ? kinds[(n / 5) % 3] : undefined),
      { databaseUrl },
    );
    const { batchId, progress } = await run(t, 'oa50', 50, 25);
    expect(progress).toMatchObject({ done: 50, failed: 0 });
    const convs = await loadBatch(t.pool, batchId);
    for (const c of convs) checkAgainstMethod(c);
    const rows = await ledger(t, batchId);
    const count = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).length;
    expect(count((r) => r.http_status === 429)).toBeGreaterThan(0);
    expect(count((r) => r.http_status === 500)).toBeGreaterThan(0);
    expect(count((r) => r.status === 'invalid')).toBeGreaterThan(0);
    expect(count((r) => r.attempt > 1)).toBeGreaterThan(0);
    const dup = await t.pool.query(
      `SELECT 1 FROM utterances WHERE conversation_id LIKE $1 GROUP BY conversation_id, idx HAVING count(*) > 1`,
      [`muse-${batchId}-%`],
    );
    expect(dup.rowCount).toBe(0);

    const requests = server.seen.length;
    const texts = convs.map((c) => c.utterances.map((u) => u.text));
    const again = await resumeBatch(t, batchId, { fromScratch: true });
    expect(await t.run(() => again!.handle.result())).toMatchObject({ total: 50, done: 50, failed: 0 });
    expect(server.seen.length).toBe(requests);
    expect((await loadBatch(t.pool, batchId)).map((c) => c.utterances.map((u) => u.text))).toEqual(texts);
    const cost = await batchCost(t.pool, batchId);
    // Every request the batch made is charged to it: its conversations' and the profiles made for it.
    expect(cost.reduce((n, r) => n + r.requests, 0)).toBe(requests);
    expect(cost.filter((r) => STAGE2.includes(r.agent)).reduce((n, r) => n + r.requests, 0)).toBe(
      server.seen.filter((r) => STAGE2.includes(r.agent)).length,
    );
    expect(cost.find((r) => r.agent === 'recommendation')!.costUsd).toBeGreaterThan(0);
    expect(cost.find((r) => r.agent === 'textOpening')!.costUsd).toBeNull();
    console.log(formatCost(cost));
    console.log(
      JSON.stringify({
        conversations: 50,
        requests,
        requestsPerConversation: +(requests / 50).toFixed(1),
        retriedAttempts: count((r) => r.attempt > 1 && r.ask === 1 && r.status !== 'cached'),
        http429: count((r) => r.http_status === 429),
        http500: count((r) => r.http_status === 500),
        invalidReplies: count((r) => r.status === 'invalid'),
        cacheHitsFirstRun: count((r) => r.status === 'cached'),
        requestsSecondRun: server.seen.length - requests,
      }),
    );
  });
});
