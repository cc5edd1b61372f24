import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CALLS, type AgentName } from '../schemas/agent-calls';
import { Ledger } from '../agents/ledger';
import { OpenAiMllm } from '../agents/openai';
import { getItems } from '../db/items';
import { typicalInput } from '../client/estimate';
import { createPool, type Pool } from '../db/pool';
import { PROMPTS } from '../prompts';
import { imagesOf, type Role } from '../prompts/prompt';
import type { Item } from '../schemas/catalog';
import { env } from './helpers';
import { startOpenAiTestServer } from './openai-server';

let pool: Pool;
let items: Map<string, Item>;
beforeAll(async () => {
  pool = createPool(env().databaseUrl);
  items = await getItems(pool, ['demo-dresses-01', 'demo-hoodies-01', 'demo-heels-01', 'demo-jeans-01']);
});
afterAll(() => pool?.end());
const item = (id: string) => items.get(id)!;
const input = () =>
  typicalInput([item('demo-dresses-01'), item('demo-hoodies-01'), item('demo-heels-01'), item('demo-jeans-01')]);

describe('every agent call of the method', () => {
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
