import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { AGENT_CALLS, type AgentName } from '../../schemas/agent-calls';
import { classify } from '../../agents/transport';
import { SimulatedMllm } from '../../agents/simulated';
import { demoItems, demoRecord } from '../../catalog/demo';
import { typicalInput } from '../../client/estimate';
import type { Item } from '../../schemas/catalog';

// The demo catalog's records without images: these simulated agents are judged on what they read.
const items = new Map<string, Item>(
  demoItems().map((d) => [d.id, { ...demoRecord(d), imageSha256: null, imagePath: null }]),
);
const sim = new SimulatedMllm();
const item = (id: string) => items.get(id)!;
const call = <A extends AgentName>(agent: A, i: unknown) =>
  sim.call(agent, AGENT_CALLS[agent].input.parse(i) as never, { key: `t:${agent}` });
/** A shopper on a hike who asked for `requirement`. */
const hiker = (requirement: string) => ({
  persona: 'Name: Alex, Gender: unknown, Age: 30, Profession: None',
  scenario: 'Sports need: hiking',
  backstory: 'A hike.',
  requirement,
});
const input = () =>
  typicalInput([item('demo-dresses-01'), item('demo-hoodies-01'), item('demo-heels-01'), item('demo-jeans-01')]);

describe('the simulated stage-1 and stage-4 agents', () => {
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
    const user = hiker('A hoodie in navy.');
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

describe('the simulated shopper speaks like a shopper, not like the catalog', () => {
  const reject = async (difference: string) => (await call('rejection', { ...input(), difference, dialogue: [] })).text;
  const needs = async (text: string) =>
    (await call('needsAnalyser', { dialogue: [{ speaker: 'User', text, action: 'reject' }] })).needs;

  it('asks for a colour by its family, and compares shades within one', async () => {
    const across = await reject('The recommendation is red, but the wanted one is navy.');
    expect(across).toMatch(/\bblue\b/);
    expect(across).not.toMatch(/navy/);
    expect(await needs(across)).toContain('colour: blue');
    const within = await reject('The recommendation is sky blue, but the wanted one is navy.');
    expect(within).toMatch(/darker blue/);
    expect(await reject('The recommendation is charcoal, but the wanted one is white.')).toMatch(/\bwhite\b/);
  });

  it('asks for a material by how it feels, and never lets the rejected one read as the need', async () => {
    const text = await reject('The recommendation is linen, but the wanted one is wool.');
    expect(text).toMatch(/warmer/);
    expect(text).not.toMatch(/linen|wool/);
    expect(await needs(text)).not.toContain('material:');
    // Two materials that feel alike are told apart by name.
    expect(await reject('The recommendation is cashmere, but the wanted one is wool.')).toMatch(/\bwool\b/);
  });

  it('counts accepting a shade as keeping to the colour family the user asked for', async () => {
    const user = hiker('A hoodie in blue.');
    const dialogue = (accept: string) => [
      { speaker: 'Assistant', text: 'How about this navy fleece hoodie?', action: 'recommend' },
      { speaker: 'User', text: accept, action: 'accept' },
    ];
    const review = async (accept: string) =>
      (await call('qualityReviewer', { user, dialogue: dialogue(accept) })).user_consistency;
    expect(await review('Yes, the navy fleece is perfect.')).toBe(2);
    expect(await review('Yes, the red fleece is perfect.')).toBe(1);
  });
});
