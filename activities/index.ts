import { pacers, recentLatencies } from '../db/rate';
import {
  failConversation,
  saveUtterances,
  startConversation,
  storedImageOpening,
  storeImageOpening,
} from '../db/conversations';
import type { Mllm } from '../agents/calls';
import type { Embedder } from '../agents/embedder';
import type { Retriever } from '../catalog/search';
import type { Pool } from '../db/pool';
import { assignProfiles } from '../db/batches';
import type { BatchSpec } from '../schemas/batch';
import { ImageOpeningPlan, type Utterance, type UtteranceSummary } from '../schemas/conversation';
import type { Item } from '../schemas/catalog';
import { personaLine } from '../schemas/profile';
import { getItem } from '../db/items';
import { catalogActivities } from './catalog';
import { evalActivities } from './eval';
import { profileActivities } from './profiles';
import { stage4Activities } from './stage4';
import { providerBatchActivities } from './provider-batches';
import { dialogueBefore, imageRef, loadContext, mentionedSoFar, summary, type ConversationContext } from './context';

export interface ActivityDeps {
  pool: Pool;
  /** The agent provider a batch was started with ('simulated' | 'openai'). */
  llm: (provider: string) => Mllm;
  /** The provider's embedding model, when it has one (see `muse catalog index`). */
  embedder: (provider: string) => Embedder | undefined;
  /** The retriever a provider's conversations use: hybrid once its index is built, else full-text. */
  retriever: (provider: string) => Promise<Retriever>;
}

export interface Ref {
  conversationId: string;
}
export interface At extends Ref {
  idx: number;
}
export interface About extends At {
  itemId: string;
}

/** Who a conversation is about: the Web UI memo, and the target the workflow checks recommendations against. */
export interface Subject {
  persona: string;
  scenario: string;
  targetItemId: string;
  targetTitle: string;
}
/** The conversation's first agent call also begins it: one activity where a bookkeeping step cost a workflow task. */
export interface Begins {
  begin?: boolean;
}
export interface Begun {
  subject?: Subject;
}

export const RETRIEVAL_TOP_K = 8;

/**
 * Activities as a factory over their dependencies (the Temporal samples' style). Each one that writes
 * utterances first looks for them in PostgreSQL: a retried or resumed activity returns the stored rows
 * and calls no agent, so nothing is generated (or paid for) twice.
 */
export function createActivities({ pool, llm, embedder, retriever }: ActivityDeps) {
  /** Runs `write` only when the utterances from idx on are not stored yet. */
  async function once(
    ref: At,
    count: number,
    write: (ctx: ConversationContext, agent: Mllm) => Promise<Omit<Utterance, 'conversationId'>[]>,
    itemIds: string[] = [],
  ): Promise<UtteranceSummary[]> {
    const ctx = await loadContext(pool, ref.conversationId, itemIds);
    const stored = ctx.utterances.filter((u) => u.idx >= ref.idx && u.idx < ref.idx + count);
    if (stored.length === count) return stored.map((u) => summary(u, true));
    const rows = (await write(ctx, llm(ctx.provider))).map((u) => ({ ...u, conversationId: ref.conversationId }));
    if (rows.length !== count || rows.some((u, k) => u.idx !== ref.idx + k))
      throw new Error(`expected utterances ${ref.idx}..${ref.idx + count - 1}`);
    await saveUtterances(pool, rows);
    return rows.map((u) => summary(u, false));
  }
  /** `once` for one utterance; the item an `About` ref names is loaded with the context (the target always is). */
  const one = async (
    ref: At | About,
    write: (ctx: ConversationContext, agent: Mllm) => Promise<Omit<Utterance, 'conversationId'>>,
  ) => (await once(ref, 1, async (ctx, agent) => [await write(ctx, agent)], 'itemId' in ref ? [ref.itemId] : []))[0];
  /** Each call's key (conversation, utterance, agent): the simulated provider's seed and the ledger's label. */
  const callOf = (ref: At, agent: string) => ({
    key: `${ref.conversationId}:${ref.idx}:${agent}`,
    conversationId: ref.conversationId,
  });
  /** Utterance idx as a row: who says it, what it does, the items it names and the images it shows. */
  const turn = (
    ref: At,
    speaker: Utterance['speaker'],
    action: Utterance['action'],
    text: string,
    meta: Utterance['meta'],
    mentionedItemIds: string[] = [],
    images: Utterance['images'] = [],
  ) => ({ idx: ref.idx, speaker, text, action, mentionedItemIds, images, meta });
  /** An opening's four utterances, assistant and user in turn, all small talk; the user shows `shown` in the second. */
  const openingTurns = (texts: string[], agent: Mllm, shown?: Item): Omit<Utterance, 'conversationId'>[] =>
    texts.map((text, idx) => ({
      idx,
      speaker: idx % 2 ? 'User' : 'Assistant',
      text,
      action: 'chit-chat',
      mentionedItemIds: shown && idx === 1 ? [shown.id] : [],
      images: shown && idx === 1 ? imageRef(shown) : [],
      meta: meta(agent),
    }));
  /** Marks the conversation running; returns who it is about (the Web UI memo) and its target. */
  const begin = async (ref: Ref): Promise<Subject> => {
    const p = await startConversation(pool, ref.conversationId);
    return { persona: personaLine(p), scenario: p.scenario, targetItemId: p.targetItemId, targetTitle: p.targetTitle };
  };
  const beginIf = async (ref: Ref & Begins): Promise<Begun> => (ref.begin ? { subject: await begin(ref) } : {});
  const meta = (agent: Mllm, extra: Record<string, unknown> = {}) => ({
    provider: agent.provider,
    simulated: agent.provider === 'simulated',
    ...extra,
  });

  return {
    ...stage4Activities({ pool, llm }),
    ...evalActivities({ pool, llm }),
    ...catalogActivities({ pool, llm, embedder }),
    ...profileActivities({ pool, llm }),
    ...providerBatchActivities({ pool, llm }),

    /**
     * How many conversations a batch should keep in flight: enough calls waiting on each paced model to
     * use its pace (Little's law: pace x latency), twice over: a conversation spends part of its time
     * between calls (workflow tasks, bookkeeping), measured at 43 in flight for 71 asked. Sized for the
     * ceiling where one is known: a pace cut by a 429 wins it back within seconds, and a window asked
     * for at that moment would hold the batch under the limit until it is asked again. Never above `ceiling`.
     */
    async suggestWindow(input: { provider: string; ceiling: number }): Promise<number> {
      if (input.provider !== 'openai') return input.ceiling;
      const latency = await recentLatencies(pool);
      let calls = 0;
      for (const p of await pacers(pool)) calls += Math.max(p.rps, p.ceilingRps ?? 0) * (latency.get(p.model) ?? 0);
      return calls > 0 ? Math.max(1, Math.min(input.ceiling, Math.ceil(calls * 2) + 4)) : input.ceiling;
    },

    async prepareBatch(spec: BatchSpec): Promise<number> {
      return assignProfiles(pool, spec);
    },

    /**
     * Stylist, top-1 retrieval and outfit judge; the verdict is stored so a resume takes the same branch.
     * With `begin`, the conversation's first call, it also marks it running and says who it is about.
     */
    async planImageOpening(ref: Ref & Begins): Promise<ImageOpeningPlan & Begun> {
      const begun = await beginIf(ref);
      const stored = await storedImageOpening(pool, ref.conversationId);
      if (stored) return { ...stored, ...begun };
      const ctx = await loadContext(pool, ref.conversationId);
      const agent = llm(ctx.provider);
      const target = ctx.item(ctx.targetItemId);
      const k = (a: string) => `${ref.conversationId}:opening:${a}`;
      const { description } = await agent.call(
        'stylist',
        { user: ctx.user, target },
        { key: k('stylist'), conversationId: ref.conversationId },
      );
      const search = await retriever(ctx.provider);
      const [top] = await search.search(description, { k: 1, requireImage: true });
      let plan: ImageOpeningPlan;
      if (!top)
        plan = {
          ok: false,
          reason: `no item matches the stylist's description "${description}"`,
          retriever: search.kind,
        };
      else if (top.itemId === target.id)
        plan = { ok: false, reason: 'the matching item is the target itself', retriever: search.kind };
      else {
        const candidate = await getItem(pool, top.itemId);
        const v = await agent.call(
          'outfitJudge',
          { user: ctx.user, target, candidate },
          { key: k('judge'), conversationId: ref.conversationId },
        );
        plan =
          v.outfit_compatibility && v.scenario_appropriateness
            ? { ok: true, boughtItemId: candidate.id, pairingDescription: description, retriever: search.kind }
            : {
                ok: false,
                reason: `judge: outfit_compatibility=${v.outfit_compatibility}, scenario_appropriateness=${v.scenario_appropriateness}`,
                retriever: search.kind,
              };
      }
      await storeImageOpening(pool, ref.conversationId, plan);
      return { ...plan, ...begun };
    },

    /** Text opening: two rounds of small talk in one call (system, user, system, user), no products. With `begin`, as above. */
    writeTextOpening: async (ref: Ref & Begins): Promise<{ utterances: UtteranceSummary[] } & Begun> => ({
      ...(await beginIf(ref)),
      utterances: await once({ conversationId: ref.conversationId, idx: 0 }, 4, async (ctx, agent) => {
        const { utterances } = await agent.call(
          'textOpening',
          { user: ctx.user },
          callOf({ ...ref, idx: 0 }, 'textOpening'),
        );
        return openingTurns(utterances, agent);
      }),
    }),

    /** Image opening: the user shows the item they bought (its image is recorded) and hints at the target. */
    writeImageOpening: (input: Ref & { boughtItemId: string }) =>
      once(
        { ...input, idx: 0 },
        4,
        async (ctx, agent) => {
          const bought = ctx.item(input.boughtItemId);
          const { utterances } = await agent.call(
            'imageOpening',
            { user: ctx.user, bought, target: ctx.item(ctx.targetItemId) },
            callOf({ ...input, idx: 0 }, 'imageOpening'),
          );
          return openingTurns(utterances, agent, bought);
        },
        [input.boughtItemId],
      ),

    askOccasion: (ref: At) =>
      one(ref, async (ctx, agent) => {
        const { text } = await agent.call(
          'occasionQuestion',
          { dialogue: dialogueBefore(ctx, ref.idx) },
          callOf(ref, 'occasionQuestion'),
        );
        return turn(ref, 'Assistant', 'chit-chat', text, meta(agent));
      }),

    answerOccasion: (ref: At) =>
      one(ref, async (ctx, agent) => {
        const { text } = await agent.call(
          'occasionAnswer',
          { user: ctx.user, dialogue: dialogueBefore(ctx, ref.idx) },
          callOf(ref, 'occasionAnswer'),
        );
        return turn(ref, 'User', 'chit-chat', text, meta(agent));
      }),

    /** The user talks about the last recommended item: features, experience; no verdict, no question. */
    userChitChat: (ref: About) =>
      one(ref, async (ctx, agent) => {
        const item = ctx.item(ref.itemId);
        const { text } = await agent.call(
          'userChitChat',
          { user: ctx.user, item, dialogue: dialogueBefore(ctx, ref.idx) },
          callOf(ref, 'userChitChat'),
        );
        return turn(ref, 'User', 'chit-chat', text, meta(agent), [item.id]);
      }),

    systemChitChat: (ref: About) =>
      one(ref, async (ctx, agent) => {
        const item = ctx.item(ref.itemId);
        const { text } = await agent.call(
          'systemChitChat',
          { item, dialogue: dialogueBefore(ctx, ref.idx) },
          callOf(ref, 'systemChitChat'),
        );
        return turn(ref, 'Assistant', 'chit-chat', text, meta(agent));
      }),

    /** One call finds the main difference between target and recommendation, another voices the need. */
    userRejects: (ref: About) =>
      one(ref, async (ctx, agent) => {
        const reason = await agent.call(
          'rejectReason',
          { user: ctx.user, target: ctx.item(ctx.targetItemId), recommended: ctx.item(ref.itemId) },
          callOf(ref, 'rejectReason'),
        );
        const { text } = await agent.call(
          'rejection',
          { user: ctx.user, difference: reason.difference, dialogue: dialogueBefore(ctx, ref.idx) },
          callOf(ref, 'rejection'),
        );
        return turn(ref, 'User', 'reject', text, meta(agent, { reason }), [ref.itemId]);
      }),

    /**
     * Needs -> concrete query -> merged with the previous query -> top 8 without mentioned items -> one
     * picked with the workflow's uniform draw `pick` (the target when nothing is left) -> the pitch.
     */
    systemRecommends: (ref: At & { pick: number }) =>
      one(ref, async (ctx, agent) => {
        const dialogue = dialogueBefore(ctx, ref.idx);
        const { needs } = await agent.call('needsAnalyser', { dialogue }, callOf(ref, 'needsAnalyser'));
        const clarified = (await agent.call('queryClarifier', { needs }, callOf(ref, 'queryClarifier'))).query;
        const previous = [...ctx.utterances].reverse().find((u) => u.idx < ref.idx && typeof u.meta.query === 'string')
          ?.meta.query as string | undefined;
        const query = previous
          ? (await agent.call('queryMerger', { previous, current: clarified }, callOf(ref, 'queryMerger'))).query
          : clarified;
        const search = await retriever(ctx.provider);
        const candidates = (
          await search.search(query, { k: RETRIEVAL_TOP_K, exclude: mentionedSoFar(ctx, ref.idx), requireImage: true })
        ).map((h) => h.itemId);
        const chosen = candidates.length
          ? candidates[Math.min(candidates.length - 1, Math.floor(ref.pick * candidates.length))]
          : ctx.targetItemId;
        const item = await getItem(pool, chosen);
        const { text } = await agent.call('recommendation', { item, dialogue }, callOf(ref, 'recommendation'));
        return turn(
          ref,
          'Assistant',
          'recommend',
          text,
          meta(agent, {
            needs,
            query,
            candidates,
            retriever: search.kind,
            forced: false,
            hitTarget: item.id === ctx.targetItemId,
          }),
          [item.id],
          imageRef(item),
        );
      }),

    /** At max_round the system recommends the target itself (the method's forced success). */
    systemRecommendsTarget: (ref: At) =>
      one(ref, async (ctx, agent) => {
        const item = ctx.item(ctx.targetItemId);
        const { text } = await agent.call(
          'recommendation',
          { item, dialogue: dialogueBefore(ctx, ref.idx) },
          callOf(ref, 'recommendation'),
        );
        return turn(
          ref,
          'Assistant',
          'recommend',
          text,
          meta(agent, { forced: true, hitTarget: true }),
          [item.id],
          imageRef(item),
        );
      }),

    userAccepts: (ref: About) =>
      one(ref, async (ctx, agent) => {
        const item = ctx.item(ref.itemId);
        const { text } = await agent.call(
          'acceptance',
          { user: ctx.user, item, dialogue: dialogueBefore(ctx, ref.idx) },
          callOf(ref, 'acceptance'),
        );
        return turn(ref, 'User', 'accept', text, meta(agent), [item.id]);
      }),

    /** A failed conversation, or with `paused` one stopped by the budget cap: pending again, with why it waits. */
    async markConversationFailed(input: Ref & { reason: string; paused?: boolean }): Promise<void> {
      await failConversation(pool, input.conversationId, input.reason, input.paused);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
