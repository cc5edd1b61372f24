import { agentTokenAverages, stage2Counts, stage3Counts } from '../db/stats';
import { BATCH_ROLES, loadLlmConfig, resolveRoles } from '../agents/config';
import type { AgentName } from '../schemas/agent-calls';
import { costUsd, priceTable } from '../agents/prices';
import { getItems, itemIdsWithImages } from '../db/items';
import type { Pool } from '../db/pool';
import { PROMPTS } from '../prompts';
import { Rng } from '../random';
import { runConversation } from '../method/index';

export interface Rates {
  /** Share of image-opening attempts whose pairing item passes the judge. */
  imageSuccess: number;
  /** Chance that a retrieved recommendation is the target. */
  hit: number;
  /** Stage 2: samples (one gate call each) and backstories written per accepted profile; absent: one of each. */
  samplesPerProfile?: number;
  backstoriesPerProfile?: number;
  source: string;
}

/** Stage 2's rates without measurements: the gate lets 80% through and BLEU drops 10% of the backstories. */
const ASSUMED_STAGE2 = { samplesPerProfile: 1 / (0.8 * 0.9), backstoriesPerProfile: 1 / 0.9 };

/**
 * Stage 2's rates, measured on the openai provider's samples when there are enough (the simulated
 * provider's gate and grammar are no guide to a real model's), else assumed.
 */
async function stage2Rates(
  pool: Pool,
): Promise<{ samplesPerProfile: number; backstoriesPerProfile: number; source: string }> {
  const r = await stage2Counts(pool, 'openai');
  if (r.samples >= 50 && r.accepted > 0) {
    return {
      samplesPerProfile: r.samples / r.accepted,
      backstoriesPerProfile: r.written / r.accepted,
      source: `stage 2 measured on ${r.samples} openai samples`,
    };
  }
  return { ...ASSUMED_STAGE2, source: 'stage 2 assumed: 80% pass the gate, 10% of backstories are duplicates' };
}

/** Measured on this database's completed conversations when it has some, else stated assumptions. */
export async function measuredRates(pool: Pool): Promise<Rates> {
  const r = await stage3Counts(pool);
  const s2 = await stage2Rates(pool);
  const stage2 = { samplesPerProfile: s2.samplesPerProfile, backstoriesPerProfile: s2.backstoriesPerProfile };
  if (r.tried >= 10 && r.retrieved >= 50) {
    return {
      imageSuccess: r.passed / r.tried,
      hit: r.hits / r.retrieved,
      ...stage2,
      source: `measured on ${r.retrieved} retrieved recommendations and ${r.tried} image-opening attempts in this database; ${s2.source}`,
    };
  }
  return {
    imageSuccess: 0.5,
    hit: 0.1,
    ...stage2,
    source: `assumed (too few completed conversations to measure): image openings pass 50%, a recommendation hits the target 10%; ${s2.source}`,
  };
}

/**
 * Expected calls of each agent per conversation: the workflow's own schedule (runConversation) played
 * many times over steps that count calls instead of making them, with hits drawn at the given rates.
 */
export async function expectedCalls(rates: Rates, samples = 50_000): Promise<Record<AgentName, number>> {
  const n = Object.fromEntries(Object.keys(PROMPTS).map((a) => [a, 0])) as Record<AgentName, number>;
  const outcomes = new Rng('estimate', 'outcomes');
  const target = 'target';
  for (let i = 0; i < samples; i++) {
    // Stage 2: every sample is gated; those let through get a backstory, some of which BLEU drops.
    n.profileGate += rates.samplesPerProfile ?? 1;
    n.backstoryWriter += rates.backstoriesPerProfile ?? 1;
    let recommendations = 0;
    const count = (...agents: AgentName[]) => {
      for (const a of agents) n[a]++;
      return Promise.resolve();
    };
    const { utterances } = await runConversation(
      {
        begin: async () => undefined,
        planImageOpening: async () => {
          await count('stylist', 'outfitJudge');
          return outcomes.chance(rates.imageSuccess) ? { ok: true, boughtItemId: 'bought' } : { ok: false };
        },
        writeImageOpening: () => count('imageOpening'),
        askOccasion: () => count('occasionQuestion'),
        answerOccasion: () => count('occasionAnswer'),
        writeTextOpening: () => count('textOpening'),
        opened: () => undefined,
        systemRecommends: async () => {
          await count('needsAnalyser', 'queryClarifier', 'recommendation');
          if (recommendations++ > 0) n.queryMerger++;
          const isTarget = outcomes.chance(rates.hit);
          return { itemId: isTarget ? target : 'other', isTarget };
        },
        systemRecommendsTarget: async () => (await count('recommendation'), target),
        userAccepts: () => count('acceptance'),
        userRejects: () => count('rejectReason', 'rejection'),
        userChitChat: () => count('userChitChat'),
        systemChitChat: () => count('systemChitChat'),
      },
      new Rng('estimate', i),
    );
    // Stage 4: every utterance is rewritten and checked; the conversation is reviewed and screened once.
    n.utteranceRewriter += utterances;
    n.rewriteChecker += utterances;
    n.qualityReviewer++;
    n.recommendationScreener++;
  }
  for (const k of Object.keys(n) as AgentName[]) n[k] /= samples;
  return n;
}

/** Typical reply sizes in tokens, until the ledger has measured ones. */
const OUTPUT_TOKENS: Partial<Record<AgentName, number>> = {
  rewriteChecker: 15,
  qualityReviewer: 25,
  recommendationScreener: 10,
  backstoryWriter: 160,
  textOpening: 180,
  imageOpening: 180,
  outfitJudge: 15,
  stylist: 30,
  queryClarifier: 25,
  queryMerger: 25,
  needsAnalyser: 80,
  rejectReason: 40,
};

export interface EstimateRow {
  agent: AgentName;
  model: string;
  callsPerConversation: number;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  /** The same calls with `--api batch`: the Batch API's price where the call may go through it (stage 3's stay online). */
  batchCostUsd: number | null;
  tokensFrom: 'ledger' | 'prompt';
}

/**
 * Calls, tokens and cost of a batch of n before it runs. Token sizes come from the ledger's averages
 * per agent where it has at least 20 answered calls, else from the prompts rendered with real catalog
 * items and a dialogue of typical length.
 */
export async function estimateBatch(
  pool: Pool,
  n: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ rows: EstimateRow[]; rates: Rates }> {
  const { config } = loadLlmConfig(env);
  const roles = resolveRoles(config, env);
  const prices = priceTable(config.prices);
  const rates = await measuredRates(pool);
  const calls = await expectedCalls(rates);
  const measured = new Map((await agentTokenAverages(pool, 20)).map((r) => [r.agent, r]));
  const sampleIds = await itemIdsWithImages(pool, 4);
  if (sampleIds.length < 4 && measured.size === 0)
    throw new Error('the catalog is empty: import a catalog (or `muse catalog demo`) so prompts can be sized');
  const items = [...(await getItems(pool, sampleIds)).values()];
  const rows: EstimateRow[] = [];
  // Only the calls a conversation makes (stages 2 to 4) are estimated; stage 1 and `muse eval` are separate.
  for (const agent of (Object.keys(PROMPTS) as AgentName[]).filter((a) => calls[a] > 0)) {
    const p = PROMPTS[agent];
    const model = roles[p.role].model;
    const m = measured.get(agent);
    let input: number;
    let output: number;
    if (m) {
      input = m.i;
      output = m.o;
    } else {
      const text = p.system.length + p.user(typicalInput(items) as never).length;
      input = Math.ceil(text / 4) + p.sees.length * (config.imageDetail === 'low' ? 85 : 765);
      output = OUTPUT_TOKENS[agent] ?? 70;
    }
    const total = calls[agent] * n;
    rows.push({
      agent,
      model,
      callsPerConversation: calls[agent],
      calls: total,
      inputTokens: total * input,
      outputTokens: total * output,
      costUsd: costUsd(prices, model, total * input, total * output),
      batchCostUsd: costUsd(
        prices,
        model,
        total * input,
        total * output,
        BATCH_ROLES.includes(p.role) ? 'batch' : 'online',
      ),
      tokensFrom: m ? 'ledger' : 'prompt',
    });
  }
  return { rows, rates };
}

/** An input for any agent call, at the size a real conversation reaches: eight turns of 30 words. */
export function typicalInput(items: import('../schemas/catalog').Item[]): Record<string, unknown> {
  const [a, b, c, d] = items;
  const words = (k: number) =>
    Array.from({ length: k }, (_, i) => ['linen', 'dress', 'navy', 'wedding', 'comfortable', 'summer'][i % 6]).join(
      ' ',
    );
  // `images` is the judge's view of a turn (numbers into `images` below); the other agents ignore it.
  const dialogue = Array.from({ length: 8 }, (_, i) => ({
    speaker: i % 2 ? 'User' : 'Assistant',
    text: words(30),
    action: 'chit-chat',
    images: i === 2 ? [1] : [],
  }));
  const user = {
    persona: 'Name: Alex, Gender: unknown, Age: 34, Profession: teacher',
    scenario: 'Attend a beach wedding',
    backstory: words(70),
    requirement: words(12),
  };
  const sample = {
    category: 'Dresses',
    targetItemId: a.id,
    scenarioGroup: 'Attend',
    scenario: user.scenario,
    age: 34,
    gender: 'unknown',
    name: 'Alex',
    profession: 'teacher',
  };
  return {
    user,
    dialogue,
    sample,
    persona: user.persona,
    target: a,
    candidate: b,
    bought: c,
    recommended: d,
    item: b,
    difference: words(20),
    needs: words(40),
    previous: words(10),
    current: words(10),
    category: 'Dresses',
    examples: items.map((i) => i.title),
    speaker: 'User',
    text: words(30),
    colloquial: false,
    original: words(30),
    rewrite: words(28),
    recommendedItems: [b, d],
    scenario: user.scenario,
    images: b.imageSha256 && b.imagePath ? [{ itemId: b.id, path: b.imagePath, sha256: b.imageSha256 }] : [],
  };
}

export function formatEstimate(rows: EstimateRow[], rates: Rates, n: number): string {
  const W = Math.max(5, ...rows.map((r) => r.agent.length));
  const money = (v: number | null) => (v === null ? 'unpriced' : `$${v.toFixed(2)}`);
  const out = [`batch of ${n} conversations (profiles included); rates ${rates.source}`, ''];
  out.push(
    `${'agent'.padEnd(W)} ${'model'.padEnd(24)} ${'per conv'.padStart(8)} ${'calls'.padStart(8)} ${'input tok'.padStart(11)} ${'output tok'.padStart(11)} ${'online'.padStart(9)} ${'api batch'.padStart(9)}  sizes`,
  );
  for (const r of rows) {
    out.push(
      `${r.agent.padEnd(W)} ${r.model.padEnd(24)} ${r.callsPerConversation.toFixed(2).padStart(8)} ${Math.round(r.calls).toString().padStart(8)} ${Math.round(r.inputTokens).toString().padStart(11)} ${Math.round(r.outputTokens).toString().padStart(11)} ${money(r.costUsd).padStart(9)} ${money(r.batchCostUsd).padStart(9)}  ${r.tokensFrom}`,
    );
  }
  const sum = (f: (r: EstimateRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  const unpriced = rows.some((r) => r.costUsd === null);
  out.push(
    `${'total'.padEnd(W)} ${''.padEnd(24)} ${sum((r) => r.callsPerConversation)
      .toFixed(2)
      .padStart(8)} ${Math.round(sum((r) => r.calls))
      .toString()
      .padStart(8)} ${Math.round(sum((r) => r.inputTokens))
      .toString()
      .padStart(11)} ${Math.round(sum((r) => r.outputTokens))
      .toString()
      .padStart(11)} ${(money(sum((r) => r.costUsd ?? 0)) + (unpriced ? '+' : '')).padStart(9)} ${(
      money(sum((r) => r.batchCostUsd ?? 0)) + (unpriced ? '+' : '')
    ).padStart(9)}`,
  );
  out.push(
    "api batch: `--api batch` on generate sends stage 2's and stage 4's calls through the provider's Batch API (stage 3 stays online); each stage-4 round then waits for its batch, within the provider's 24 h window",
  );
  if (unpriced) out.push("+ some models are not in the price table (add them to the config's prices or MUSE_PRICES)");
  return out.join('\n');
}
