import { expect } from 'vitest';
import type { Pool } from '../db/pool';
import { RETRIEVAL_TOP_K } from '../activities';
import { MAX_ROUND } from '../method/index';

export interface StoredConversation {
  id: string;
  opening: 'text' | 'image';
  outcome: 'retrieval' | 'forced';
  target: string;
  bought: string | null;
  utterances: Array<{
    idx: number;
    speaker: string;
    text: string;
    action: string;
    mentioned_item_ids: string[];
    images: Array<{ itemId: string }>;
    meta: Record<string, unknown>;
  }>;
}

export async function loadBatch(pool: Pool, batchId: string): Promise<StoredConversation[]> {
  const convs = await pool.query(
    `SELECT c.id, c.opening, c.outcome, p.target_item_id AS target, c.image_opening->>'boughtItemId' AS bought
     FROM conversations c JOIN profiles p ON p.id = c.profile_id WHERE c.batch_id = $1 ORDER BY c.idx`,
    [batchId],
  );
  const out: StoredConversation[] = [];
  for (const c of convs.rows) {
    const u = await pool.query(
      'SELECT idx, speaker, text, action, mentioned_item_ids, images, meta FROM utterances WHERE conversation_id = $1 ORDER BY idx',
      [c.id],
    );
    out.push({ ...c, utterances: u.rows });
  }
  return out;
}

export interface Shape {
  length: number;
  chitChatRounds: number[];
  earlyHit: boolean;
}

/** Walks one stored conversation through the method's rules (stage 3) and fails on the first deviation. */
export function checkAgainstMethod(c: StoredConversation): Shape {
  const u = c.utterances;
  const where = (k: number) => `${c.id} utterance ${k}`;
  u.forEach((x, k) => expect(x.idx, where(k)).toBe(k));
  const openLen = c.opening === 'text' ? 4 : 6;
  for (let k = 0; k < openLen; k++) {
    expect(u[k].action, where(k)).toBe('chit-chat');
    expect(u[k].speaker, where(k)).toBe(k % 2 ? 'User' : 'Assistant');
  }
  if (c.opening === 'image') {
    expect(c.bought, c.id).toBeTruthy();
    expect(u[1].mentioned_item_ids, where(1)).toEqual([c.bought]);
    expect(
      u[1].images.map((i) => i.itemId),
      where(1),
    ).toEqual([c.bought]);
  } else u.slice(0, 4).forEach((x, k) => expect(x.mentioned_item_ids, where(k)).toEqual([]));

  const maxRound = MAX_ROUND[c.opening];
  const recommended = new Set<string>(c.bought ? [c.bought] : []);
  const checkRecommend = (k: number) => {
    const r = u[k];
    expect([r.speaker, r.action], where(k)).toEqual(['Assistant', 'recommend']);
    expect(r.mentioned_item_ids.length, where(k)).toBe(1);
    const item = r.mentioned_item_ids[0];
    expect(recommended.has(item), `${where(k)} recommends an item already mentioned`).toBe(false);
    expect(
      r.images.map((i) => i.itemId),
      where(k),
    ).toEqual([item]);
    if (!r.meta.forced) {
      const cands = r.meta.candidates as string[];
      expect(cands.length, where(k)).toBeLessThanOrEqual(RETRIEVAL_TOP_K);
      expect(
        cands.some((x) => recommended.has(x)),
        `${where(k)}: a mentioned item among the candidates`,
      ).toBe(false);
      if (cands.length) expect(cands, where(k)).toContain(item);
      else expect(item, where(k)).toBe(c.target);
    }
    recommended.add(item);
    return item;
  };

  let k = openLen;
  let last = checkRecommend(k++);
  let previous = 'recommend';
  const chitChatRounds: number[] = [];
  for (let round = 2; ; round++) {
    if (last === c.target) {
      expect([u[k].speaker, u[k].action], where(k)).toEqual(['User', 'accept']);
      expect(u[k].mentioned_item_ids, where(k)).toEqual([c.target]);
      expect(c.outcome, c.id).toBe('retrieval');
      k++;
      break;
    }
    expect(round, `${c.id}: the conversation went past max_round`).toBeLessThanOrEqual(maxRound);
    if (u[k].action === 'chit-chat') {
      expect(
        round < maxRound && previous !== 'chit-chat',
        `${where(k)}: chit-chat where the method must recommend`,
      ).toBe(true);
      expect(round, where(k)).toBeLessThan(4);
      expect([u[k].speaker, u[k + 1].speaker, u[k + 1].action], where(k)).toEqual(['User', 'Assistant', 'chit-chat']);
      expect(u[k].mentioned_item_ids, where(k)).toEqual([last]);
      chitChatRounds.push(round);
      k += 2;
      previous = 'chit-chat';
      continue;
    }
    expect([u[k].speaker, u[k].action], where(k)).toEqual(['User', 'reject']);
    expect(u[k].mentioned_item_ids, where(k)).toEqual([last]);
    k++;
    if (round === maxRound) {
      expect(u[k].meta.forced, where(k)).toBe(true);
      expect(checkRecommend(k++), where(k)).toBe(c.target);
      expect([u[k].speaker, u[k].action], where(k)).toEqual(['User', 'accept']);
      expect(c.outcome, c.id).toBe('forced');
      k++;
      break;
    }
    last = checkRecommend(k++);
    previous = 'recommend';
  }
  expect(k, `${c.id}: utterances after the end`).toBe(u.length);
  return { length: u.length, chitChatRounds, earlyHit: c.outcome === 'retrieval' };
}
