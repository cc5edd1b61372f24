import type { Turn, UserSide } from '../agents/calls';
import { getItems } from '../catalog/store';
import { inTransaction, type Pool } from '../db/pool';
import type { ImageRef, Item } from '../schemas/catalog';
import { Utterance, type UtteranceSummary } from '../schemas/conversation';
import { personaLine } from '../schemas/profile';

/** Everything an agent of one conversation may know, loaded from PostgreSQL at the start of an activity. */
export interface ConversationContext {
  conversationId: string;
  batchId: string;
  provider: string;
  user: UserSide;
  targetItemId: string;
  utterances: Utterance[];
}

export async function loadContext(pool: Pool, conversationId: string): Promise<ConversationContext> {
  const r = await pool.query(
    `SELECT c.batch_id, b.provider, p.name, p.gender, p.age, p.profession, p.scenario, p.backstory, p.requirement, p.target_item_id
     FROM conversations c JOIN batches b ON b.id = c.batch_id JOIN profiles p ON p.id = c.profile_id WHERE c.id = $1`,
    [conversationId],
  );
  if (r.rowCount === 0) throw new Error(`conversation ${conversationId} is not in the database`);
  const row = r.rows[0];
  return {
    conversationId,
    batchId: row.batch_id,
    provider: row.provider,
    user: { persona: personaLine(row), scenario: row.scenario, backstory: row.backstory, requirement: row.requirement },
    targetItemId: row.target_item_id,
    utterances: await loadUtterances(pool, conversationId),
  };
}

export async function loadUtterances(pool: Pool, conversationId: string): Promise<Utterance[]> {
  const r = await pool.query(
    `SELECT conversation_id AS "conversationId", idx, speaker, text, action, mentioned_item_ids AS "mentionedItemIds", images, meta
     FROM utterances WHERE conversation_id = $1 ORDER BY idx`,
    [conversationId],
  );
  return r.rows.map((row) => Utterance.parse(row));
}

export const dialogueBefore = (ctx: ConversationContext, idx: number): Turn[] =>
  ctx.utterances.filter((u) => u.idx < idx).map((u) => ({ speaker: u.speaker, text: u.text, action: u.action }));

export const mentionedSoFar = (ctx: ConversationContext, idx: number): string[] => [
  ...new Set(ctx.utterances.filter((u) => u.idx < idx).flatMap((u) => u.mentionedItemIds)),
];

export const summary = (u: Utterance, reused: boolean): UtteranceSummary => ({
  idx: u.idx,
  action: u.action,
  mentionedItemIds: u.mentionedItemIds,
  reused,
});

export function imageRef(item: Item): ImageRef[] {
  return item.imageSha256 && item.imagePath
    ? [{ itemId: item.id, path: item.imagePath, sha256: item.imageSha256 }]
    : [];
}

export async function itemsById(pool: Pool, ids: string[]): Promise<(id: string) => Item> {
  const m = await getItems(pool, ids);
  return (id) => {
    const it = m.get(id);
    if (!it) throw new Error(`item ${id} is not in the catalog`);
    return it;
  };
}

/**
 * Upsert keyed by (conversation, idx): a retried activity rewrites its own rows, never adds any.
 * The rows of one activity commit together, so an opening is never stored half-written.
 */
export async function saveUtterances(pool: Pool, rows: Utterance[]): Promise<void> {
  await inTransaction(pool, async (c) => {
    for (const u of rows)
      await c.query(
        `INSERT INTO utterances (conversation_id, idx, speaker, text, action, mentioned_item_ids, images, meta)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (conversation_id, idx) DO UPDATE SET speaker = EXCLUDED.speaker, text = EXCLUDED.text, action = EXCLUDED.action,
         mentioned_item_ids = EXCLUDED.mentioned_item_ids, images = EXCLUDED.images, meta = EXCLUDED.meta, updated_at = now()`,
        [u.conversationId, u.idx, u.speaker, u.text, u.action, u.mentionedItemIds, JSON.stringify(u.images), u.meta],
      );
  });
}
