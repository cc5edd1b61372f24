import type { Turn, UserSide } from '../agents/calls';
import { getItems } from '../db/items';
import type { Pool } from '../db/pool';
import { conversationContext } from '../db/conversations';
import type { ImageRef, Item } from '../schemas/catalog';
import type { Utterance, UtteranceSummary } from '../schemas/conversation';

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
  return { conversationId, ...(await conversationContext(pool, conversationId)) };
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
