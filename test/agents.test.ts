import OpenAI from 'openai';
import { classify } from '../agents/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CALLS, type AgentName } from '../agents/calls';
import { Ledger } from '../agents/ledger';
import { OpenAiMllm } from '../agents/openai';
import { SimulatedMllm } from '../agents/simulated';
import { getItems } from '../catalog/store';
import { typicalInput } from '../client/estimate';
import { createPool, type Pool } from '../db/pool';
import { PROMPTS } from '../prompts';
import { imagesOf, type Role } from '../prompts/prompt';
import type { Item } from '../schemas/catalog';
import { env } from './helpers';
import { startOpenAiTestServer } from './openai-server';

let pool: Pool;
let items: Map<string, Item>;
const sim = new SimulatedMllm();
beforeAll(async () => {
  pool = createPool(env().databaseUrl);
  items = await getItems(pool, ['demo-dresses-01', 'demo-hoodies-01', 'demo-heels-01', 'demo-jeans-01']);
});
afterAll(() => pool?.end());
const item = (id: string) => items.get(id)!;
const input = () =>
  typicalInput([item('demo-dresses-01'), item('demo-hoodies-01'), item('demo-heels-01'), item('demo-jeans-01')]);

describe('every agent call of the method', () => {
  it('has a prompt module with its role, temperature, images and a unique version', () => {
    expect(Object.keys(PROMPTS).sort()).toEqual(Object.keys(AGENT_CALLS).sort());
    expect(new Set(Object.values(PROMPTS).map((p) => p.version)).size).toBe(Object.keys(PROMPTS).length);
    const temps = Object.fromEntries(Object.values(PROMPTS).map((p) => [p.agent, p.temperature]));
    expect(temps).toMatchObject({
      backstoryWriter: 0.7,
      itemCaptioner: 0.4,
      utteranceRewriter: 0.9,
      rewriteChecker: 0.1,
      recommendation: 0.2,
    });
  });

  it('goes to an OpenAI-compatible endpoint structured, with exactly the images its prompt declares, and comes back validated', async () => {
    const server = await startOpenAiTestServer();
    try {
      const e = { baseURL: server.baseURL, apiKey: 'k', model: 'm' };
      const roles = Object.fromEntries(
        (['catalog', 'profile', 'manager', 'user', 'recommender', 'rewriter', 'reviewer'] as Role[]).map((r) => [r, e]),
      ) as Record<Role, typeof e>;
      const llm = new OpenAiMllm(roles, { ledger: new Ledger(pool) });
      for (const agent of Object.keys(PROMPTS) as AgentName[]) {
        const i = AGENT_CALLS[agent].input.parse(input());
        const out = await llm.call(agent, i as never, { key: `agents-test:${agent}:${Date.now()}` });
        expect(AGENT_CALLS[agent].output.safeParse(out).success, agent).toBe(true);
        const req = server.seen[server.seen.length - 1];
        expect(req.agent, agent).toBe(agent);
        expect(req.images, agent).toBe(PROMPTS[agent].sees.length);
        expect(req.images, agent).toBe(imagesOf(PROMPTS[agent], i as never).length);
        expect(req.temperature, agent).toBe(PROMPTS[agent].temperature);
        expect(req.responseFormat, agent).toBe('json_schema');
      }
      // An item with a source URL is sent by URL; one without, as its stored bytes.
      const url = 'https://images.example.test/dress.jpg';
      const withUrl = { ...item('demo-dresses-01'), imageUrl: url };
      await llm.call('recommendation', { item: withUrl, dialogue: [] }, { key: 'agents-test:url' });
      expect(server.seen[server.seen.length - 1].imageUrls).toEqual([url]);
      await llm.call(
        'recommendation',
        { item: { ...withUrl, imageUrl: null }, dialogue: [] },
        { key: 'agents-test:bytes' },
      );
      expect(server.seen[server.seen.length - 1].imageUrls[0]).toMatch(/^data:image\/png;base64,/);
    } finally {
      await server.close();
    }
  });
});

describe('the simulated stage-1 and stage-4 agents', () => {
  const call = <A extends AgentName>(agent: A, i: unknown) =>
    sim.call(agent, AGENT_CALLS[agent].input.parse(i) as never, { key: `t:${agent}` });

  it('captions from the item, and keeps product types apart from audiences and departments', async () => {
    const d = item('demo-dresses-01');
    expect((await call('itemCaptioner', { item: d })).description.toLowerCase()).toContain(String(d.details.Colour));
    for (const [tag, yes] of [
      ['Dresses', true],
      ['Sneakers', true],
      ['Women', false],
      ['Clothing', false],
      ['Clothing, Shoes & Jewelry', false],
    ] as const) {
      expect((await call('categoryFilter', { category: tag, examples: [] })).is_product_type, tag).toBe(yes);
    }
  });

  it('gates a profile on audience, age and scenario', async () => {
    const base = input();
    const dress = item('demo-dresses-01');
    const audience = String(dress.details.Department);
    const gate = (over: object, target = dress) =>
      call('profileGate', { ...base, target, sample: { ...(base.sample as object), ...over } });
    const other = audience === 'Women' || audience === 'Girls' ? 'male' : 'female';
    expect((await gate({ gender: other })).fits_person).toBe(false);
    expect((await gate({ scenario: 'Sports need: hiking' }, item('demo-heels-01'))).fits_scenario).toBe(false);
    expect((await gate({ scenario: 'Attend a black-tie gala' }, item('demo-hoodies-01'))).fits_scenario).toBe(false);
    // A gift is judged against the person it is for: the shopper's own gender does not matter.
    const forHer = audience === 'Women' || audience === 'Girls';
    expect(
      (await gate({ gender: other, age: 40, scenario: `Buy a birthday gift for a ${forHer ? 'sister' : 'brother'}` }))
        .fits_person,
    ).toBe(audience === 'Women' || audience === 'Men');
    expect(
      (
        await gate({
          gender: forHer ? 'female' : 'male',
          age: 40,
          scenario: `Buy a birthday gift for a ${forHer ? 'brother' : 'sister'}`,
        })
      ).fits_person,
    ).toBe(false);
  });

  it('rewrites without growing, and the checker catches a preamble and lost content', async () => {
    const text = "Thanks, but red isn't quite what I had in mind. I'd really prefer something navy.";
    const r = await call('utteranceRewriter', { ...input(), text, colloquial: true });
    expect(r.text.length).toBeLessThanOrEqual(text.length);
    expect(await call('rewriteChecker', { original: text, rewrite: r.text })).toEqual({
      content_kept: true,
      no_preamble: true,
    });
    expect(
      (await call('rewriteChecker', { original: text, rewrite: `Here is a rewritten version: ${r.text}` })).no_preamble,
    ).toBe(false);
    expect(
      (await call('rewriteChecker', { original: text, rewrite: 'Not that one. Something else, please.' })).content_kept,
    ).toBe(false);
  });

  it('reviews and screens a conversation by its content', async () => {
    const user = {
      persona: 'Name: Alex, Gender: unknown, Age: 30, Profession: None',
      scenario: 'Sports need: hiking',
      backstory: 'A hike.',
      requirement: 'A hoodie in navy.',
    };
    const dialogue = [
      { speaker: 'Assistant', text: 'Hi!', action: 'chit-chat' },
      { speaker: 'User', text: 'I need a hoodie for hiking.', action: 'chit-chat' },
      { speaker: 'Assistant', text: 'How about this navy fleece hoodie?', action: 'recommend' },
      { speaker: 'User', text: 'Yes, the navy fleece is perfect.', action: 'accept' },
    ];
    expect(await call('qualityReviewer', { user, dialogue })).toEqual({
      content_quality: 2,
      logical_fluency: 2,
      user_consistency: 2,
    });
    expect(
      (
        await call('qualityReviewer', {
          user,
          dialogue: [...dialogue.slice(0, 3), { ...dialogue[3], text: 'Yes, the red one.' }],
        })
      ).user_consistency,
    ).toBe(1);
    expect(
      (await call('recommendationScreener', { user, dialogue, recommendedItems: [item('demo-hoodies-01')] }))
        .fits_context,
    ).toBe(true);
    expect(
      (await call('recommendationScreener', { user, dialogue, recommendedItems: [item('demo-heels-01')] }))
        .fits_context,
    ).toBe(false);
  });
});

describe('a refused key', () => {
  it("names the variable the key came from, a role's own included", () => {
    const e = new OpenAI.AuthenticationError(401, { message: 'invalid api key' }, 'invalid api key', new Headers());
    expect(
      classify(e, 'utteranceRewriter', { baseURL: 'http://x/v1', model: 'm', keySource: 'MUSE_API_KEY_REWRITER' })
        .message,
    ).toMatch(/HTTP 401: .*\(check MUSE_API_KEY_REWRITER, the key this call used\)/);
  });
});
