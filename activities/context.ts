import type { Turn, UserSide } from '../schemas/agent-calls';
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
  /** The target, or an item the activity asked for when it loaded the context. */
  item: (id: string) => Item;
}

/** The context, with the target and `itemIds` from the catalog. */
export async function loadContext(
  pool: Pool,
  conversationId: string,
  itemIds: readonly string[] = [],
): Promise<ConversationContext> {
  const { items, ...c } = await conversationContext(pool, conversationId, itemIds);
  return { conversationId, ...c, item: lookup(items) };
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

const lookup =
  (m: Map<string, Item>) =>
  (id: string): Item => {
    const it = m.get(id);
    if (!it) throw new Error(`item ${id} is not in the catalog`);
    return it;
  };
