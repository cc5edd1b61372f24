import { queuedAsResult } from '../common/queued';
import {
  acceptedRewrites,
  adoptReviewPass,
  findReview,
  rewrittenIdx,
  saveReview,
  saveRewrites,
  type NewRewrite,
} from '../db/reviews';
import type { Mllm, ViaBatch } from '../agents/calls';
import type { AgentOutput } from '../schemas/agent-calls';
import { completeConversation } from '../db/conversations';
import { getItems } from '../db/items';
import type { Pool } from '../db/pool';
import { PROMPTS } from '../prompts';
import { Rng } from '../random';
import { Review, type RewriteSummary } from '../schemas/review';
import { inLanes } from '../common/lanes';
import { COLLOQUIAL_PROBABILITY, type ConversationShape } from '../method/index';
import { dialogueBefore, loadContext, type ConversationContext } from './context';

/** Rewrites of one conversation requested at once: enough to overlap latency, few enough to stay fair. */
const REWRITES_IN_FLIGHT = 4;

/** An optimisation pass is named by the prompt versions that make it: new wording, new pass. */
export const stage4Pass = () =>
  [PROMPTS.utteranceRewriter, PROMPTS.rewriteChecker, PROMPTS.qualityReviewer, PROMPTS.recommendationScreener]
    .map((p) => p.version)
    .join('+');

/**
 * Stage 4 activities. Like the others they are idempotent: what is stored for the current pass is
 * returned, and only the missing rewrites or the missing review are asked of an agent.
 */
export function stage4Activities({ pool, llm }: { pool: Pool; llm: (provider: string) => Mllm }) {
  /**
   * Every utterance not yet rewritten in this pass is rewritten (colloquial with the method's probability,
   * drawn from the conversation's recorded seed) and checked. The rewrites are stored together once the
   * lanes end, failed lanes or not (one statement, where one per rewrite was ten a conversation); a
   * worker that dies before gets the calls it paid for back from the ledger's cache. Returns the
   * summary and the accepted rewrites by utterance index.
   */
  async function rewrite(ctx: ConversationContext, seed: number, pass: string, via: ViaBatch) {
    const agent = llm(ctx.provider);
    const stored = new Set(await rewrittenIdx(pool, ctx.conversationId, pass));
    const todo = ctx.utterances.filter((u) => !stored.has(u.idx));
    const done: NewRewrite[] = [];
    await inLanes(todo.length, REWRITES_IN_FLIGHT, async (k) => {
      const u = todo[k];
      const call = (a: string) => ({
        key: `${ctx.conversationId}:${u.idx}:${a}`,
        conversationId: ctx.conversationId,
        batchRoles: via.batchRoles,
      });
      const colloquial = new Rng('colloquial', seed, u.idx).chance(COLLOQUIAL_PROBABILITY);
      const { text } = await agent.call(
        'utteranceRewriter',
        { speaker: u.speaker, text: u.text, colloquial, dialogue: dialogueBefore(ctx, u.idx) },
        call('utteranceRewriter'),
      );
      const verdict = await agent.call('rewriteChecker', { original: u.text, rewrite: text }, call('rewriteChecker'));
      done.push({
        conversationId: ctx.conversationId,
        idx: u.idx,
        pass,
        colloquial,
        rewrite: text,
        contentKept: verdict.content_kept,
        noPreamble: verdict.no_preamble,
      });
    }).finally(() => (done.length ? saveRewrites(pool, done) : undefined));
    const accepted = await acceptedRewrites(pool, ctx.conversationId, pass);
    const summary: RewriteSummary = {
      pass,
      utterances: ctx.utterances.length,
      accepted: accepted.size,
      reused: ctx.utterances.length - todo.length,
    };
    return { summary, accepted };
  }

  /**
   * The reviewer and the screener read the optimised conversation (accepted rewrites in place of the
   * originals), unless this pass's review is stored. Storing the review makes its pass the dataset's.
   */
  async function review(
    conversationId: string,
    read: () => Promise<{ ctx: ConversationContext; accepted: Map<number, string> }>,
    via: ViaBatch,
  ): Promise<Review> {
    const pass = stage4Pass();
    const stored = await findReview(pool, conversationId, pass);
    if (stored) {
      // A stored review whose pass is not yet the dataset's (a retry after the insert): make it so.
      await adoptReviewPass(pool, conversationId, pass);
      return Review.parse(stored);
    }
    const { ctx, accepted } = await read();
    const agent = llm(ctx.provider);
    const dialogue = ctx.utterances.map((u) => ({
      speaker: u.speaker,
      text: accepted.get(u.idx) ?? u.text,
      action: u.action,
    }));
    const recommended = [
      ...new Set(ctx.utterances.filter((u) => u.action === 'recommend').flatMap((u) => u.mentionedItemIds)),
    ];
    const items = await getItems(pool, recommended);
    const call = (a: string) => ({ key: `${conversationId}:review:${a}`, conversationId, batchRoles: via.batchRoles });
    // The two verdicts are independent: asked together, so through the Batch API they share one batch.
    let scores: AgentOutput<'qualityReviewer'> | undefined;
    let screen: AgentOutput<'recommendationScreener'> | undefined;
    await inLanes(2, 2, async (k) => {
      if (k === 0) scores = await agent.call('qualityReviewer', { user: ctx.user, dialogue }, call('qualityReviewer'));
      else
        screen = await agent.call(
          'recommendationScreener',
          { user: ctx.user, dialogue, recommendedItems: recommended.map((id) => items.get(id)!).filter(Boolean) },
          call('recommendationScreener'),
        );
    });
    if (!scores || !screen) throw new Error('stage 4: a verdict is missing'); // inLanes threw if either failed
    return Review.parse(
      await saveReview(pool, {
        conversationId,
        pass,
        contentQuality: scores.content_quality,
        logicalFluency: scores.logical_fluency,
        userConsistency: scores.user_consistency,
        fitsContext: screen.fits_context,
      }),
    );
  }

  return {
    /**
     * Stage 4 in one activity: the rewrites, then the review of the optimised conversation, over one read
     * of the conversation. Both halves reuse what is stored, so a retry pays only for what is missing; one
     * activity instead of two saves a workflow task and three history events per conversation. With
     * `finish`, stage 3's end is recorded first (the conversation completed, rows past its end dropped),
     * where a bookkeeping step cost another.
     */
    optimizeConversation: queuedAsResult(
      async (input: { conversationId: string; seed: number; finish?: ConversationShape } & ViaBatch) => {
        if (input.finish) await completeConversation(pool, { conversationId: input.conversationId, ...input.finish });
        const ctx = await loadContext(pool, input.conversationId);
        const { summary, accepted } = await rewrite(ctx, input.seed, stage4Pass(), input);
        const verdict = await review(input.conversationId, async () => ({ ctx, accepted }), input);
        return { rewrites: summary, review: verdict };
      },
    ),
  };
}
