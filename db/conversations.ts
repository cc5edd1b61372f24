import { countsBy, inTransaction, type Pool } from './pool';
import { ITEM_COLUMNS, ITEMS_FROM } from './items';
import type { UserSide } from '../schemas/agent-calls';
import { Item } from '../schemas/catalog';
import { ImageOpeningPlan, Utterance, type Opening, type Outcome } from '../schemas/conversation';
import type { ConversationStatus } from '../schemas/batch';
import { personaLine, type Profile } from '../schemas/profile';

/** Conversations and their utterances: what stage 3 writes, one row per turn. */

export interface ConversationState {
  idx: number;
  conversationId: string;
  status: ConversationStatus;
}

export async function conversationStates(pool: Pool, batchId: string): Promise<ConversationState[]> {
  const r = await pool.query(
    `SELECT idx, id AS "conversationId", status FROM conversations WHERE batch_id = $1 ORDER BY idx`,
    [batchId],
  );
  return r.rows;
}

/** Conversations of a batch by status: { completed: 12, failed: 1, ... }. */
export async function statusCounts(pool: Pool, batchId: string): Promise<Partial<Record<ConversationStatus, number>>> {
  return countsBy(
    pool,
    'SELECT status AS key, count(*)::int AS n FROM conversations WHERE batch_id = $1 GROUP BY status',
    [batchId],
  );
}

export async function failedConversations(
  pool: Pool,
  batchId: string,
): Promise<Array<{ conversationId: string; reason: string }>> {
  const r = await pool.query(
    `SELECT id AS "conversationId", coalesce(failure, '(no reason recorded)') AS reason
     FROM conversations WHERE batch_id = $1 AND status = 'failed' ORDER BY idx`,
    [batchId],
  );
  return r.rows;
}

/** Completed conversations without a review of this stage-4 pass: what `muse optimize` runs again. */
export async function unreviewedConversations(pool: Pool, batchId: string, pass: string): Promise<number[]> {
  const r = await pool.query(
    `SELECT idx FROM conversations c WHERE batch_id = $1 AND status = 'completed'
       AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.conversation_id = c.id AND r.pass = $2 AND c.review_pass = $2)
     ORDER BY idx`,
    [batchId, pass],
  );
  return r.rows.map((row) => row.idx);
}

/** Drops every utterance, rewrite and review of a batch and sets its conversations pending (resume --from-scratch). */
export async function resetConversations(pool: Pool, batchId: string): Promise<void> {
  await inTransaction(pool, async (c) => {
    // Rewrites go with their utterances (ON DELETE CASCADE); reviews are per conversation.
    const ofBatch = 'conversation_id IN (SELECT id FROM conversations WHERE batch_id = $1)';
    await c.query(`DELETE FROM utterances WHERE ${ofBatch}`, [batchId]);
    await c.query(`DELETE FROM reviews WHERE ${ofBatch}`, [batchId]);
    await c.query(
      `UPDATE conversations SET status = 'pending', image_opening = NULL, opening = NULL, outcome = NULL, failure = NULL,
        started_at = NULL, finished_at = NULL, review_pass = NULL WHERE batch_id = $1`,
      [batchId],
    );
  });
}

/** Marks a conversation running and returns its profile's persona, scenario and target. */
export async function startConversation(
  pool: Pool,
  conversationId: string,
): Promise<
  Pick<Profile, 'name' | 'gender' | 'age' | 'profession' | 'scenario'> & { targetItemId: string; targetTitle: string }
> {
  const r = await pool.query(
    `UPDATE conversations SET status = 'running', started_at = coalesce(started_at, now()), failure = NULL WHERE id = $1
     RETURNING (SELECT row_to_json(p) FROM (SELECT pr.name, pr.gender, pr.age, pr.profession, pr.scenario,
       pr.target_item_id, i.title AS target_title
       FROM profiles pr JOIN items i ON i.id = pr.target_item_id WHERE pr.id = profile_id) p) AS profile`,
    [conversationId],
  );
  if (r.rowCount === 0) throw new Error(`conversation ${conversationId} is not in the database`);
  const p = r.rows[0].profile;
  return { ...p, targetItemId: p.target_item_id, targetTitle: p.target_title };
}

export async function storedImageOpening(pool: Pool, conversationId: string): Promise<ImageOpeningPlan | undefined> {
  const r = await pool.query('SELECT image_opening FROM conversations WHERE id = $1', [conversationId]);
  const stored = r.rows[0]?.image_opening;
  return stored ? ImageOpeningPlan.parse(stored) : undefined;
}

export async function storeImageOpening(pool: Pool, conversationId: string, plan: ImageOpeningPlan): Promise<void> {
  await pool.query('UPDATE conversations SET image_opening = $2 WHERE id = $1', [conversationId, plan]);
}

/** Completes a conversation of `utterances` turns, dropping rows past the end (left by an earlier, different run of this id). */
export async function completeConversation(
  pool: Pool,
  c: { conversationId: string; opening: Opening; outcome: Outcome; utterances: number },
): Promise<void> {
  // One statement, so one round trip and all or nothing.
  await pool.query(
    `WITH dropped AS (DELETE FROM utterances WHERE conversation_id = $1 AND idx >= $4)
     UPDATE conversations SET status = 'completed', opening = $2, outcome = $3, finished_at = now(), failure = NULL WHERE id = $1`,
    [c.conversationId, c.opening, c.outcome, c.utterances],
  );
}

/** A failed conversation, or with `paused` one stopped by the budget cap: pending again, with why it waits. */
export async function failConversation(
  pool: Pool,
  conversationId: string,
  reason: string,
  paused = false,
): Promise<void> {
  await pool.query(
    `UPDATE conversations SET status = $3, failure = $2, finished_at = CASE WHEN $3 = 'failed' THEN now() END WHERE id = $1`,
    [conversationId, paused ? `paused: ${reason}` : reason, paused ? 'pending' : 'failed'],
  );
}

/**
 * The conversation's batch, provider, user side and target (what every agent of it may know), its
 * utterances so far, and the target and `itemIds` as catalog items, in one round trip: every stage-3
 * activity starts by reading them (the items were a second statement for most of them).
 */
export async function conversationContext(
  pool: Pool,
  conversationId: string,
  itemIds: readonly string[] = [],
): Promise<{
  batchId: string;
  provider: string;
  user: UserSide;
  targetItemId: string;
  utterances: Utterance[];
  items: Map<string, Item>;
}> {
  const r = await pool.query(
    `SELECT c.batch_id, b.provider, p.name, p.gender, p.age, p.profession, p.scenario, p.backstory, p.requirement, p.target_item_id,
       coalesce((SELECT json_agg(json_build_object('conversationId', u.conversation_id, 'idx', u.idx, 'speaker', u.speaker,
                   'text', u.text, 'action', u.action, 'mentionedItemIds', u.mentioned_item_ids, 'images', u.images,
                   'meta', u.meta) ORDER BY u.idx)
                 FROM utterances u WHERE u.conversation_id = c.id), '[]') AS utterances,
       (SELECT json_agg(row_to_json(x)) FROM (SELECT ${ITEM_COLUMNS} FROM ${ITEMS_FROM}
                 WHERE i.id = p.target_item_id OR i.id = ANY($2::text[])) x) AS items
     FROM conversations c JOIN batches b ON b.id = c.batch_id JOIN profiles p ON p.id = c.profile_id WHERE c.id = $1`,
    [conversationId, itemIds],
  );
  if (r.rowCount === 0) throw new Error(`conversation ${conversationId} is not in the database`);
  const row = r.rows[0];
  return {
    batchId: row.batch_id,
    provider: row.provider,
    user: { persona: personaLine(row), scenario: row.scenario, backstory: row.backstory, requirement: row.requirement },
    targetItemId: row.target_item_id,
    utterances: row.utterances.map((u: unknown) => Utterance.parse(u)),
    items: new Map(row.items.map((i: unknown) => Item.parse(i)).map((i: Item) => [i.id, i])),
  };
}

/**
 * Upsert keyed by (conversation, idx): a retried activity rewrites its own rows, never adds any.
 * One statement for all of an activity's rows, so an opening is never stored half-written, in one round
 * trip (a transaction of one INSERT per row took two more, and stage 3 writes ten times a conversation).
 */
export async function saveUtterances(pool: Pool, rows: Utterance[]): Promise<void> {
  await pool.query(
    `INSERT INTO utterances (conversation_id, idx, speaker, text, action, mentioned_item_ids, images, meta)
     SELECT u."conversationId", u.idx, u.speaker, u.text, u.action,
            ARRAY(SELECT jsonb_array_elements_text(u."mentionedItemIds")), u.images, u.meta
     FROM jsonb_to_recordset($1::jsonb) AS u("conversationId" text, idx int, speaker text, text text, action text,
                                              "mentionedItemIds" jsonb, images jsonb, meta jsonb)
     ON CONFLICT (conversation_id, idx) DO UPDATE SET speaker = EXCLUDED.speaker, text = EXCLUDED.text, action = EXCLUDED.action,
       mentioned_item_ids = EXCLUDED.mentioned_item_ids, images = EXCLUDED.images, meta = EXCLUDED.meta, updated_at = now()`,
    [JSON.stringify(rows)],
  );
}

/** Utterances stored for these conversations. */
export async function countUtterances(pool: Pool, conversationIds: string[]): Promise<number> {
  const r = await pool.query('SELECT count(*)::int AS n FROM utterances WHERE conversation_id = ANY($1)', [
    conversationIds,
  ]);
  return r.rows[0].n;
}
