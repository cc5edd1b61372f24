import type { Mllm } from '../agents/calls';
import { getItems } from '../catalog/store';
import { inTransaction, type Pool } from '../db/pool';
import { PROMPTS } from '../prompts';
import { Rng } from '../random';
import { Review, type RewriteSummary } from '../schemas/review';
import { inLanes } from '../workflows/lanes';
import { COLLOQUIAL_PROBABILITY } from '../workflows/method';
import { dialogueBefore, loadContext } from './context';

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
  return {
    /**
     * Every utterance rewritten (colloquial with the method's probability, drawn from the conversation's
     * recorded seed) and checked; both texts are stored, and each rewrite is saved as soon as it is checked.
     */
    async rewriteUtterances(input: { conversationId: string; seed: number }): Promise<RewriteSummary> {
      const pass = stage4Pass();
      const ctx = await loadContext(pool, input.conversationId);
      const agent = llm(ctx.provider);
      const stored = new Set<number>(
        (
          await pool.query('SELECT idx FROM rewrites WHERE conversation_id = $1 AND pass = $2', [
            input.conversationId,
            pass,
          ])
        ).rows.map((r) => r.idx),
      );
      const todo = ctx.utterances.filter((u) => !stored.has(u.idx));
      await inLanes(todo.length, REWRITES_IN_FLIGHT, async (k) => {
        const u = todo[k];
        const call = (a: string) => ({
          key: `${input.conversationId}:${u.idx}:${a}`,
          conversationId: input.conversationId,
        });
        const colloquial = new Rng('colloquial', input.seed, u.idx).chance(COLLOQUIAL_PROBABILITY);
        const { text: rewrite } = await agent.call(
          'utteranceRewriter',
          { speaker: u.speaker, text: u.text, colloquial, dialogue: dialogueBefore(ctx, u.idx) },
          call('utteranceRewriter'),
        );
        const verdict = await agent.call('rewriteChecker', { original: u.text, rewrite }, call('rewriteChecker'));
        await pool.query(
          `INSERT INTO rewrites (conversation_id, idx, pass, colloquial, rewrite, content_kept, no_preamble) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (conversation_id, pass, idx) DO UPDATE SET colloquial = EXCLUDED.colloquial, rewrite = EXCLUDED.rewrite,
             content_kept = EXCLUDED.content_kept, no_preamble = EXCLUDED.no_preamble, created_at = now()`,
          [input.conversationId, u.idx, pass, colloquial, rewrite, verdict.content_kept, verdict.no_preamble],
        );
      });
      const accepted = (
        await pool.query(
          'SELECT count(*)::int AS n FROM rewrites WHERE conversation_id = $1 AND pass = $2 AND accepted',
          [input.conversationId, pass],
        )
      ).rows[0].n;
      return { pass, utterances: ctx.utterances.length, accepted, reused: ctx.utterances.length - todo.length };
    },

    /**
     * The reviewer and the screener read the optimised conversation (accepted rewrites in place of the
     * originals). Storing the review makes its pass the one the dataset uses.
     */
    async reviewConversation(input: { conversationId: string }): Promise<Review> {
      const pass = stage4Pass();
      const load = async () =>
        (
          await pool.query(
            `SELECT pass, content_quality AS "contentQuality", logical_fluency AS "logicalFluency", user_consistency AS "userConsistency", total, fits_context AS "fitsContext"
         FROM reviews WHERE conversation_id = $1 AND pass = $2`,
            [input.conversationId, pass],
          )
        ).rows[0];
      const stored = await load();
      if (!stored) {
        const ctx = await loadContext(pool, input.conversationId);
        const agent = llm(ctx.provider);
        const accepted = new Map<number, string>(
          (
            await pool.query(
              'SELECT idx, rewrite FROM rewrites WHERE conversation_id = $1 AND pass = $2 AND accepted',
              [input.conversationId, pass],
            )
          ).rows.map((r) => [r.idx, r.rewrite]),
        );
        const dialogue = ctx.utterances.map((u) => ({
          speaker: u.speaker,
          text: accepted.get(u.idx) ?? u.text,
          action: u.action,
        }));
        const recommended = [
          ...new Set(ctx.utterances.filter((u) => u.action === 'recommend').flatMap((u) => u.mentionedItemIds)),
        ];
        const items = await getItems(pool, recommended);
        const call = (a: string) => ({
          key: `${input.conversationId}:review:${a}`,
          conversationId: input.conversationId,
        });
        const scores = await agent.call('qualityReviewer', { user: ctx.user, dialogue }, call('qualityReviewer'));
        const screen = await agent.call(
          'recommendationScreener',
          { user: ctx.user, dialogue, recommendedItems: recommended.map((id) => items.get(id)!).filter(Boolean) },
          call('recommendationScreener'),
        );
        await inTransaction(pool, async (c) => {
          await c.query(
            `INSERT INTO reviews (conversation_id, pass, content_quality, logical_fluency, user_consistency, fits_context) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (conversation_id, pass) DO UPDATE SET content_quality = EXCLUDED.content_quality, logical_fluency = EXCLUDED.logical_fluency,
               user_consistency = EXCLUDED.user_consistency, fits_context = EXCLUDED.fits_context, created_at = now()`,
            [
              input.conversationId,
              pass,
              scores.content_quality,
              scores.logical_fluency,
              scores.user_consistency,
              screen.fits_context,
            ],
          );
          await c.query('UPDATE conversations SET review_pass = $2 WHERE id = $1', [input.conversationId, pass]);
        });
        return Review.parse(await load());
      }
      // A stored review whose pass is not yet the dataset's (a retry after the insert): make it so.
      await pool.query('UPDATE conversations SET review_pass = $2 WHERE id = $1 AND review_pass IS DISTINCT FROM $2', [
        input.conversationId,
        pass,
      ]);
      return Review.parse(stored);
    },
  };
}
