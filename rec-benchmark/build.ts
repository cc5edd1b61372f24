import { FullTextRetriever } from '../catalog/retrieval';
import type { Pool } from '../db/pool';
import { buildRecords } from '../export';
import { Rng } from '../random';
import type { Thresholds } from '../schemas/review';
import { BenchmarkSample, type Prediction } from './schema';
import { leafCategories } from '../db/items';

export const NEGATIVES = 99;

/**
 * The recommendation benchmark of a batch: for every recommendation of every conversation in its dataset,
 * the dialogue before it, and the target among 99 negatives drawn (seeded by the sample id) from the
 * items that can be shown: hard ones first (the target's own category), then any others. The list is
 * shuffled so position says nothing.
 */
export async function buildBenchmark(
  pool: Pool,
  batchId: string,
  thresholds: Partial<Thresholds> = {},
): Promise<BenchmarkSample[]> {
  const items = await leafCategories(pool);
  const leafOf = new Map(items.map((i) => [i.id, i.leaf]));
  // The dataset as exported: kept conversations, accepted rewrites.
  const { records } = await buildRecords(pool, batchId, thresholds);
  const samples: BenchmarkSample[] = [];
  for (const r of records) {
    const context: BenchmarkSample['context'] = [];
    for (const [idx, turn] of r.Conversations.entries()) {
      const speaker = 'User' in turn ? ('User' as const) : ('Assistant' as const);
      const text = 'User' in turn ? turn.User : turn.Assistant;
      if (turn.Action === 'recommend') {
        const id = `${r.Conversation_id}:${idx}`;
        const rng = new Rng('benchmark', id);
        const others = items.filter((i) => i.id !== r.Target_item);
        const hard = others.filter((i) => i.leaf !== null && i.leaf === leafOf.get(r.Target_item));
        const negatives = [...rng.shuffle(hard), ...rng.shuffle(others.filter((i) => !hard.includes(i)))]
          .slice(0, NEGATIVES)
          .map((i) => i.id);
        samples.push(
          BenchmarkSample.parse({
            id,
            conversation_id: r.Conversation_id,
            context: [...context],
            candidates: rng.shuffle([r.Target_item, ...negatives]),
            target: r.Target_item,
          }),
        );
      }
      context.push({ speaker, text });
    }
  }
  return samples;
}

/**
 * The baseline: PostgreSQL full-text search of the user's turns so far against the candidates
 * (title, categories, description, features), best first; candidates it does not match follow in
 * their given order.
 */
export async function fullTextBaseline(pool: Pool, samples: readonly BenchmarkSample[]): Promise<Prediction[]> {
  const retriever = new FullTextRetriever(pool);
  const out: Prediction[] = [];
  for (const s of samples) {
    const query = s.context
      .filter((t) => t.speaker === 'User')
      .map((t) => t.text)
      .join(' ');
    const hits = (await retriever.search(query, { k: s.candidates.length, only: s.candidates })).map((h) => h.itemId);
    const matched = new Set(hits);
    out.push({ id: s.id, ranking: [...hits, ...s.candidates.filter((c) => !matched.has(c))] });
  }
  return out;
}
