import { afterAll, describe, expect, it } from 'vitest';
import { OpenAiMllm } from '../agents/openai';
import { batchStatus, startBatch } from '../client/batches';
import { PROMPTS } from '../prompts';
import { checkAgainstMethod, loadBatch } from './method-check';
import { rig, uniqueBatch, type TestRig } from './helpers';
import { startOpenAiTestServer } from './openai-server';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => { for (const c of closers.reverse()) await c(); });

const provider = (baseURL: string, apiKey = 'test-key') => {
  const e = (model: string) => ({ baseURL, apiKey, model });
  return new OpenAiMllm({ profile: e('m-profile'), manager: e('m-manager'), user: e('m-user'), recommender: e('m-recommender') });
};

async function setup(fail?: Parameters<typeof startOpenAiTestServer>[0], apiKey?: string): Promise<{ t: TestRig; server: Awaited<ReturnType<typeof startOpenAiTestServer>> }> {
  const server = await startOpenAiTestServer(fail);
  const t = await rig({ openai: provider(server.baseURL, apiKey) });
  closers.push(server.close, t.close);
  return { t, server };
}

describe('the openai provider against a local OpenAI-compatible server', () => {
  it('runs whole conversations: every call structured, with its role model, its temperature and exactly its images', async () => {
    const { t, server } = await setup();
    const batchId = uniqueBatch('openai');
    const h = await startBatch(t, { batchId, size: 6, seed: 4, concurrency: 3, provider: 'openai' });
    expect(await t.run(() => h.result())).toMatchObject({ done: 6, failed: 0 });
    for (const c of await loadBatch(t.pool, batchId)) {
      checkAgainstMethod(c);
      expect(c.utterances.every((u) => u.meta.provider === 'openai' && u.meta.simulated === false)).toBe(true);
    }
    // Profiles were written by the simulated provider (generate makes them with the batch's provider only when none are free).
    expect(server.seen.length).toBeGreaterThan(6 * 5);
    for (const r of server.seen) {
      const prompt = PROMPTS[r.agent as keyof typeof PROMPTS];
      expect(prompt, r.agent).toBeDefined();
      expect(r.hasSchema, r.agent).toBe(true);
      expect(r.model, r.agent).toBe(`m-${prompt.role}`);
      expect(r.temperature, r.agent).toBe(prompt.temperature);
      expect(r.auth).toBe('Bearer test-key');
      for (const url of r.imageUrls) expect(url).toMatch(/^data:image\/png;base64,iVBOR/);
    }
    const imagesBy = (agent: string) => [...new Set(server.seen.filter((r) => r.agent === agent).map((r) => r.images))];
    expect(imagesBy('recommendation')).toEqual([1]);
    expect(imagesBy('rejectReason')).toEqual([2]);
    expect(imagesBy('acceptance')).toEqual([1]);
    for (const agent of ['textOpening', 'needsAnalyser', 'queryClarifier', 'rejection']) expect(imagesBy(agent), agent).toEqual([0]);
  });

  it('leaves 429 to Temporal, which retries it, and the client makes one request per attempt', async () => {
    // Every other recommendation request is refused with 429; the retried attempt gets through.
    let recommendations = 0;
    const { t, server } = await setup((agent) => (agent === 'recommendation' && ++recommendations % 2 === 1 ? 429 : undefined));
    const batchId = uniqueBatch('openai429');
    const h = await startBatch(t, { batchId, size: 2, seed: 5, concurrency: 2, provider: 'openai' });
    expect(await t.run(() => h.result())).toMatchObject({ done: 2, failed: 0 });
    const recs = server.seen.filter((r) => r.agent === 'recommendation').length;
    const rows = (await t.pool.query(`SELECT count(*)::int AS n FROM utterances WHERE conversation_id LIKE $1 AND action = 'recommend'`, [`muse-${batchId}-%`])).rows[0].n;
    expect(recs).toBe(2 * rows);
  });

  it('fails a conversation at once on 401, with a message that says what to fix', async () => {
    // Profiles may be written (if the batch needs new ones); every conversation call is refused.
    const { t, server } = await setup((agent) => (agent === 'backstoryWriter' ? undefined : 401));
    const batchId = uniqueBatch('openai401');
    const h = await startBatch(t, { batchId, size: 1, seed: 6, concurrency: 1, provider: 'openai' });
    expect(await t.run(() => h.result())).toMatchObject({ done: 0, failed: 1 });
    expect(server.seen.filter((r) => r.agent !== 'backstoryWriter')).toHaveLength(1);
    const st = await batchStatus(t, batchId);
    expect(st.failures[0].reason).toMatch(/HTTP 401.*check OPENAI_API_KEY/);
  });
});
