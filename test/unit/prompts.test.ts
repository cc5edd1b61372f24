import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_CALLS, type AgentName } from '../../schemas/agent-calls';
import { typicalInput } from '../../client/estimate';
import { PROMPTS } from '../../prompts';
import type { Item } from '../../schemas/catalog';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'prompt-versions.json');

/** Fixed items, so a prompt's rendering depends on its wording alone. */
const items: Item[] = ['a', 'b', 'c', 'd'].map((k) => ({
  id: `fixture-${k}`,
  source: 'demo',
  title: `Fixture ${k} Navy Linen Dress`,
  description: `Description ${k}.`,
  features: ['Linen', 'Lined'],
  categories: ['Clothing, Shoes & Jewelry', 'Women', 'Clothing', 'Dresses'],
  price: 10,
  store: 'Fixture',
  details: {},
  imageSha256: '0'.repeat(64),
  imagePath: `${k}.png`,
  imageUrl: null,
}));

function fingerprint(agent: AgentName): string {
  const p = PROMPTS[agent];
  const rendered = {
    role: p.role,
    temperature: p.temperature,
    sees: p.sees,
    system: p.system,
    user: p.user(typicalInput(items) as never),
  };
  return createHash('sha256').update(JSON.stringify(rendered)).digest('hex').slice(0, 16);
}

describe('prompt versions', () => {
  it('change whenever a prompt changes (re-record with MUSE_RECORD_PROMPTS=1 after bumping the version)', () => {
    const recorded: Record<string, { version: string; hash: string }> = fs.existsSync(FIXTURE)
      ? JSON.parse(fs.readFileSync(FIXTURE, 'utf8'))
      : {};
    const now = Object.fromEntries(
      (Object.keys(PROMPTS) as AgentName[]).map((a) => [a, { version: PROMPTS[a].version, hash: fingerprint(a) }]),
    );
    for (const [agent, cur] of Object.entries(now)) {
      const old = recorded[agent];
      if (old && old.hash !== cur.hash && old.version === cur.version) {
        throw new Error(
          `the ${agent} prompt changed but its version is still ${cur.version}: bump it (outputs are cached and recorded by version)`,
        );
      }
    }
    if (process.env.MUSE_RECORD_PROMPTS) fs.writeFileSync(FIXTURE, JSON.stringify(now, null, 2) + '\n');
    else expect(now, 'prompts were added or re-versioned: re-record with MUSE_RECORD_PROMPTS=1').toEqual(recorded);
  });
});

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
});
