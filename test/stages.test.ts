import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiEmbedder } from '../agents/embeddings';
import { SimulatedEmbedder } from '../agents/simulated-embeddings';
import { DenseIndex } from '../catalog/dense';
import { reciprocalRankFusion, retrieverRegistry } from '../catalog/retrieval';
import { startProfiles } from '../client/profiles';
import { databaseTaskQueue } from '../client/connection';
import { taskQueueFor } from '../worker';
import { loadBatch } from './method-check';
import { sentenceBleu, tokens } from '../metrics/text';
import { BleuIndex, MAX_BLEU, nearestNaive } from '../profiles/dedup';
import type { BatchProgress } from '../common/progress';
import { profilesWorkflow, type ProfilesProgress } from '../workflows/profiles';
import { SimulatedMllm } from '../agents/simulated';
import { getItems } from '../db/items';
import { loadCategoryPools, sampleProfile } from '../profiles/sample';
import { personaLine } from '../schemas/profile';
import { dropFreshDatabases, freshDatabase, rig, runBatch, type TestRig } from './helpers';
import { startOpenAiTestServer } from './openai-server';

afterAll(() => dropFreshDatabases());

const uid = () => Math.random().toString(36).slice(2, 10);
/** Runs a stage-1 workflow on the rig's queue under an id of its own (the CLI's ids are shared by every test file). */
const stage1 = (t: TestRig, type: string, provider = 'simulated') =>
  t.run(() =>
    t.client.workflow.execute(type, {
      workflowId: `${type}-${uid()}`,
      taskQueue: t.taskQueue,
      args: [{ provider, concurrency: 4 }],
    }),
  ) as Promise<BatchProgress>;

describe('reciprocal rank fusion', () => {
  it('sums 1 / (60 + rank) over the lists, ties broken by id', () => {
    const hit = (itemId: string) => ({ itemId, score: 0 });
    const fused = reciprocalRankFusion([[hit('a'), hit('b'), hit('c')], [hit('c'), hit('a')], [hit('d')]], 10);
    expect(fused.map((h) => h.itemId)).toEqual(['a', 'c', 'd', 'b']);
    expect(fused[0].score).toBeCloseTo(1 / 61 + 1 / 62, 15);
    expect(fused[1].score).toBeCloseTo(1 / 63 + 1 / 61, 15);
    // d (1/61 from one list) and b (1/62) follow the items both lists found.
    expect(fused[2].score).toBeCloseTo(1 / 61, 15);
    expect(reciprocalRankFusion([[hit('b')], [hit('a')]], 1)).toEqual([{ itemId: 'a', score: 1 / 61 }]);
  });
});

describe('the simulated embedding model', () => {
  const e = new SimulatedEmbedder();
  const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

  it('is deterministic and unit length, and says it is simulated', async () => {
    const [a, b] = await e.embed(['Navy linen shirt for a beach wedding', 'Navy linen shirt for a beach wedding']);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(cos(a, a)).toBeCloseTo(1, 5);
    expect(a).toHaveLength(256);
    expect(e.model).toMatch(/^simulated-/);
  });

  it('places related words nearer than unrelated ones', async () => {
    const [trainers, sneakers, necklace, navy, blue, red, gala, cocktail, hiking] = await e.embed([
      'trainers',
      'sneakers',
      'necklace',
      'navy',
      'blue',
      'red',
      'gala',
      'cocktail',
      'hiking',
    ]);
    expect(cos(trainers, sneakers)).toBeGreaterThan(cos(trainers, necklace) + 0.15);
    expect(cos(navy, blue)).toBeGreaterThan(cos(navy, red) + 0.15);
    expect(cos(gala, cocktail)).toBeGreaterThan(cos(gala, hiking) + 0.15);
  });
});

describe('stage 1 as workflows', () => {
  let t: TestRig;
  const server = startOpenAiTestServer((_agent, _n, body) =>
    body.model === 'refused-model' ? { status: 400, message: 'no such model' } : undefined,
  );
  let oa: Awaited<typeof server>;
  beforeAll(async () => {
    oa = await server;
    t = await rig({
      databaseUrl: await freshDatabase('stage1'),
      openaiEmbedder: () =>
        new OpenAiEmbedder({ baseURL: oa.baseURL, apiKey: 'test', model: 'test-embed', dimensions: 32, batchSize: 16 }),
    });
    // freshDatabase ran stage 1 directly; undo it so the workflows start from an uncaptioned, unjudged catalog.
    await t.pool.query('UPDATE items SET caption = NULL, caption_source = NULL');
    await t.pool.query('UPDATE categories SET verdict_source = NULL, item_ids = NULL');
  });
  afterAll(async () => {
    await t?.close();
    await oa?.close();
  });

  it('captions every item once and judges every tag used 5+ times; a second run does nothing', async () => {
    const items = (await t.pool.query('SELECT count(*)::int AS n FROM items')).rows[0].n;
    expect(await stage1(t, 'captionWorkflow')).toMatchObject({ done: items, failed: 0 });
    const captionCalls = t.llm.calls.filter((c) => c.agent === 'itemCaptioner');
    expect(new Set(captionCalls.map((c) => c.key)).size).toBe(items);
    expect(captionCalls).toHaveLength(items);
    const sources = (await t.pool.query('SELECT DISTINCT caption_source FROM items')).rows.map((r) => r.caption_source);
    expect(sources).toHaveLength(1);
    expect(sources[0]).toMatch(/^simulated:item-captioner@/);

    const tags = (await t.pool.query('SELECT count(*)::int AS n FROM categories WHERE item_count >= 5')).rows[0].n;
    expect(await stage1(t, 'categoryFilterWorkflow')).toMatchObject({ done: tags, failed: 0 });
    const judged = (
      await t.pool.query(
        `SELECT count(*)::int AS n FROM categories WHERE verdict_source LIKE 'simulated:category-filter@%' AND item_ids IS NOT NULL`,
      )
    ).rows[0].n;
    expect(judged).toBe(tags);

    const calls = t.llm.calls.length;
    expect(await stage1(t, 'captionWorkflow')).toMatchObject({ done: 0, total: 0 });
    expect(await stage1(t, 'categoryFilterWorkflow')).toMatchObject({ done: 0, total: 0 });
    expect(t.llm.calls.length).toBe(calls);
  });

  it('builds the dense index, re-embeds only changed items, and then conversations retrieve with the hybrid', async () => {
    const retrieverFor = retrieverRegistry(t.pool, () => new SimulatedEmbedder());
    expect((await retrieverFor('simulated')).kind).toBe('fulltext');
    const items = (await t.pool.query('SELECT count(*)::int AS n FROM items')).rows[0].n;
    expect(await stage1(t, 'indexWorkflow')).toMatchObject({ done: items, failed: 0 });
    const model = new SimulatedEmbedder().model;
    const stored = (
      await t.pool.query('SELECT count(*)::int AS n, min(dims) AS dims FROM item_embeddings WHERE model = $1', [model])
    ).rows[0];
    expect(stored).toEqual({ n: items, dims: 256 });

    expect(await stage1(t, 'indexWorkflow')).toMatchObject({ done: 0, total: 0 });
    await t.pool.query(
      `UPDATE items SET caption = coalesce(caption, '') || ' Now also in a gift box.' WHERE id = (SELECT min(id) FROM items)`,
    );
    expect(await stage1(t, 'indexWorkflow')).toMatchObject({ done: 1 });

    const hybrid = await retrieverRegistry(t.pool, () => new SimulatedEmbedder())('simulated');
    expect(hybrid.kind).toBe(`hybrid:${model}`);
    const hits = await hybrid.search('navy wool coat for winter', { k: 8, requireImage: true });
    expect(hits).toHaveLength(8);

    const { batchId, progress } = await runBatch(t, 'hyb', { size: 4, seed: 5 });
    expect(progress).toMatchObject({ done: 4, failed: 0 });
    const recommends = (await loadBatch(t.pool, batchId))
      .flatMap((c) => c.utterances)
      .filter((u) => u.action === 'recommend' && !u.meta.forced);
    expect(recommends.length).toBeGreaterThan(0);
    expect(new Set(recommends.map((u) => u.meta.retriever))).toEqual(new Set([`hybrid:${model}`]));
    const plans = (
      await t.pool.query(`SELECT image_opening FROM conversations WHERE batch_id = $1 AND image_opening IS NOT NULL`, [
        batchId,
      ])
    ).rows;
    for (const p of plans) expect(p.image_opening.retriever).toBe(`hybrid:${model}`);

    // A worker's index follows the table: vectors read back exactly, and a change is picked up.
    const dense = new DenseIndex(t.pool, model, 0);
    const [probe] = await new SimulatedEmbedder().embed([
      (await t.pool.query('SELECT index_text FROM items WHERE id = $1', [hits[0].itemId])).rows[0].index_text,
    ]);
    const [self] = await dense.search(probe, { k: 1 });
    expect(self.itemId).toBe(hits[0].itemId);
    expect(self.score).toBeCloseTo(1, 5);
    await t.pool.query('DELETE FROM item_embeddings WHERE model = $1 AND item_id = $2', [model, hits[0].itemId]);
    expect(await dense.size()).toBe(items - 1);
    expect((await dense.search(probe, { k: 1 }))[0].itemId).not.toBe(hits[0].itemId);
  });

  it('indexes through an OpenAI-compatible /v1/embeddings endpoint, in batches, normalised', async () => {
    const before = oa.seen.length;
    const items = (await t.pool.query('SELECT count(*)::int AS n FROM items')).rows[0].n;
    expect(await stage1(t, 'indexWorkflow', 'openai')).toMatchObject({ done: items, failed: 0 });
    const requests = oa.seen.slice(before).filter((r) => r.agent === 'embeddings');
    // 64 items an activity, 16 texts a request.
    const perChunk = Array.from({ length: Math.ceil(items / 64) }, (_, k) =>
      Math.ceil(Math.min(64, items - 64 * k) / 16),
    );
    expect(requests.length).toBe(perChunk.reduce((a, b) => a + b, 0));
    expect(requests.every((r) => r.model === 'test-embed' && r.auth === 'Bearer test')).toBe(true);
    const rows = (await t.pool.query(`SELECT dims, vector FROM item_embeddings WHERE model = 'test-embed@32'`)).rows;
    expect(rows).toHaveLength(items);
    for (const r of rows.slice(0, 20)) {
      expect(r.dims).toBe(32);
      expect(Math.hypot(...r.vector)).toBeCloseTo(1, 4);
    }
    expect(oa.seen.slice(before).filter((r) => r.agent !== 'embeddings')).toHaveLength(0);
  });

  it('a refused embedding request (4xx) fails at once, without retries, and stores nothing', async () => {
    const refusing = await rig({
      databaseUrl: t.databaseUrl,
      openaiEmbedder: () =>
        new OpenAiEmbedder({ baseURL: oa.baseURL, apiKey: 'test', model: 'refused-model', batchSize: 64 }),
    });
    try {
      const before = oa.seen.length;
      const items = (await t.pool.query('SELECT count(*)::int AS n FROM items')).rows[0].n;
      const r = await stage1(refusing, 'indexWorkflow', 'openai');
      expect(r).toMatchObject({ done: 0, failed: items });
      // One request per chunk: no retry of a 400.
      expect(oa.seen.length - before).toBe(Math.ceil(items / 64));
      expect(
        (await t.pool.query(`SELECT count(*)::int AS n FROM item_embeddings WHERE model = 'refused-model'`)).rows[0].n,
      ).toBe(0);
    } finally {
      await refusing.close();
    }
  });
});

describe('stage 2 as a workflow', () => {
  let databaseUrl: string;
  beforeAll(async () => {
    databaseUrl = await freshDatabase('stage2');
  });

  it('accepts N profiles, keeps gated-out samples with their reason, and no two accepted backstories exceed BLEU 0.15', async () => {
    const t = await rig({ databaseUrl });
    try {
      // A small history budget makes the run continue as new several times, with chunks generated ahead of it.
      const handle = await t.client.workflow.start(profilesWorkflow, {
        workflowId: `profiles-${uid()}`,
        taskQueue: t.taskQueue,
        args: [{ seed: 7, count: 40, provider: 'simulated', concurrency: 4, historyBudget: 60 }],
      });
      const r = await t.run(() => handle.result());
      expect(r.done).toBe(40);
      expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
      const rows = (
        await t.pool.query(
          `SELECT id, seq, status, backstory, gate, max_bleu, duplicate_of FROM profiles WHERE seed = 7 ORDER BY seq`,
        )
      ).rows;
      const by = (s: string) => rows.filter((x) => x.status === s);
      expect(by('accepted')).toHaveLength(40);
      // The counts the run reports are those of the samples it reached, each counted once.
      expect(by('gated_out').filter((x) => x.seq < r.attempts)).toHaveLength(r.gatedOut);
      expect(by('duplicate')).toHaveLength(r.duplicates);
      // Only the last chunk (10 samples) may keep pending samples: acceptance stopped there at 40.
      expect(rows.filter((x) => x.seq < r.attempts - 10 && x.status === 'pending')).toHaveLength(0);
      for (const g of by('gated_out')) {
        expect(g.backstory).toBeNull();
        expect(g.gate.reason.length).toBeGreaterThan(0);
        expect(g.gate.fits_person && g.gate.fits_scenario).toBe(false);
      }
      const accepted = by('accepted').map((a) => tokens(a.backstory));
      for (let i = 0; i < accepted.length; i++)
        for (let j = 0; j < accepted.length; j++)
          if (i !== j) expect(sentenceBleu([accepted[j]], accepted[i])).toBeLessThanOrEqual(MAX_BLEU);
      const acceptedIds = new Set(by('accepted').map((a) => a.id));
      for (const d of by('duplicate')) {
        expect(d.max_bleu).toBeGreaterThan(MAX_BLEU);
        expect(acceptedIds.has(d.duplicate_of)).toBe(true);
      }
    } finally {
      await t.close();
    }
  });

  it('generates ahead only what the count still needs: 20 profiles at concurrency 20 do not pay for 200 samples', async () => {
    const t = await rig({ databaseUrl });
    try {
      const seed = 8;
      const r = await t.run(() =>
        t.client.workflow.execute(profilesWorkflow, {
          workflowId: `profiles-${uid()}`,
          taskQueue: t.taskQueue,
          args: [{ seed, count: 20, provider: 'simulated', concurrency: 20 }],
        }),
      );
      expect(r.done).toBe(20);
      const stored = (await t.pool.query('SELECT count(*)::int AS n FROM profiles WHERE seed = $1', [seed])).rows[0].n;
      // Every sample stored is a paid gate call (and a backstory when it passes). Concurrency 20 launched 20
      // chunks of 10 at once, 200 samples for 20 profiles; now the chunks ahead follow the acceptance rate
      // seen so far, with one chunk to spare.
      expect(stored).toBeLessThanOrEqual(r.attempts + 20);
    } finally {
      await t.close();
    }
  });

  it('the n-gram index gives the same nearest BLEU as comparing against every backstory', async () => {
    const t = await rig({ databaseUrl });
    try {
      // 300 simulated backstories of the method's samples, gate skipped: many near-duplicates among them.
      const categories = await loadCategoryPools(t.pool);
      const samples = Array.from({ length: 300 }, (_, seq) => sampleProfile(categories, 99, seq));
      const items = await getItems(
        t.pool,
        samples.map((x) => x.targetItemId),
      );
      const writer = new SimulatedMllm();
      const texts = await Promise.all(
        samples.map(
          async (sample, seq) =>
            (
              await writer.call(
                'backstoryWriter',
                { sample, persona: personaLine(sample), target: items.get(sample.targetItemId)! },
                { key: `t:${seq}` },
              )
            ).scenario,
        ),
      );
      let duplicates = 0;
      const index = new BleuIndex();
      const docs = new Map<string, string[]>();
      texts.forEach((text, i) => {
        const fast = index.nearest(text);
        const slow = nearestNaive(docs, text);
        expect(fast.score).toBeCloseTo(slow.score, 12);
        expect(fast.compared).toBeLessThanOrEqual(slow.compared);
        if (fast.score > MAX_BLEU) duplicates++;
        index.add(String(i), text);
        docs.set(String(i), tokens(text));
      });
      // The simulated writer keeps most backstories apart (test/unit/backstory-variety.test.ts); the few
      // that still collide show the index finds what the naive search finds above the threshold too.
      expect(duplicates).toBeGreaterThan(5);
    } finally {
      await t.close();
    }
  });

  it('a worker killed mid-run (SIGKILL) leaves every stored sample to the next worker, which finishes without redoing one', async () => {
    const taskQueue = `kill-${uid()}`;
    const seed = 11;
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'muse.js'), 'worker'], {
      env: { ...process.env, DATABASE_URL: databaseUrl, MUSE_TASK_QUEUE: taskQueue },
      stdio: 'ignore',
    });
    const died = new Promise((resolve) => child.once('exit', resolve));
    const t = await rig({ databaseUrl });
    try {
      // Where `muse worker` polls for this database's simulated work.
      const cliQueue = taskQueueFor(await databaseTaskQueue(t.pool, taskQueue), 'simulated');
      const { handle } = await startProfiles(
        { ...t, taskQueue: cliQueue, taskQueueFor: () => cliQueue },
        { count: 60, seed, provider: 'simulated', concurrency: 2 },
      );
      // Let the outside worker store some samples, then kill it without warning.
      for (;;) {
        const n = (await t.pool.query('SELECT count(*)::int AS n FROM profiles WHERE seed = $1', [seed])).rows[0].n;
        if (n >= 40) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGKILL');
      await died;
      const storedAtKill = new Map<number, string>(
        (await t.pool.query('SELECT seq, status FROM profiles WHERE seed = $1', [seed])).rows.map((r) => [
          r.seq,
          r.status,
        ]),
      );
      expect(storedAtKill.size).toBeGreaterThanOrEqual(40);

      // A new worker on the same queue: Temporal hands it the killed worker's work once its heartbeat times out.
      const next = await rig({ databaseUrl, taskQueue: cliQueue });
      try {
        const r = (await next.run(() => handle.result())) as ProfilesProgress;
        expect(r.done).toBe(60);
        expect(
          (
            await t.pool.query(`SELECT count(*)::int AS n FROM profiles WHERE seed = $1 AND status = 'accepted'`, [
              seed,
            ])
          ).rows[0].n,
        ).toBe(60);
        const redone = next.llm.calls.filter((c) =>
          storedAtKill.has(Number(/^profile:\d+:(\d+)/.exec(c.key)?.[1] ?? -1)),
        );
        expect(redone).toEqual([]);
        expect(next.llm.calls.length).toBeGreaterThan(0);
      } finally {
        await next.close();
      }
    } finally {
      child.kill('SIGKILL');
      await t.close();
    }
  }, 240_000);
});
