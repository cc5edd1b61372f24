import { FullTextRetriever } from '../catalog/retrieval';
import type { Pool } from '../db/pool';
import { Rng } from '../random';
import { BenchmarkSample, type Prediction } from './schema';

export const NEGATIVES = 99;

/**
 * The recommendation benchmark of a batch: for every recommendation of every completed conversation,
 * the dialogue before it, and the target among 99 negatives drawn (seeded by the sample id) from the
 * items that can be shown: hard ones first (the target's own category), then any others. The list is
 * shuffled so position says nothing.
 */
export async function buildBenchmark(pool: Pool, batchId: string): Promise<BenchmarkSample[]> {
  const items = (await pool.query(`SELECT id, categories[cardinality(categories)] AS leaf FROM items WHERE image_sha256 IS NOT NULL ORDER BY id`)).rows as Array<{ id: string; leaf: string | null }>;
  const leafOf = new Map(items.map((i) => [i.id, i.leaf]));
  const rows = (await pool.query(
    `SELECT c.id AS conversation_id, p.target_item_id AS target, u.idx, u.speaker, u.text, u.action
     FROM conversations c JOIN profiles p ON p.id = c.profile_id JOIN utterances u ON u.conversation_id = c.id
     WHERE c.batch_id = $1 AND c.status = 'completed' ORDER BY c.idx, u.idx`, [batchId])).rows;
  const samples: BenchmarkSample[] = [];
  let context: BenchmarkSample['context'] = [];
  let current = '';
  for (const r of rows) {
    if (r.conversation_id !== current) {
      current = r.conversation_id;
      context = [];
    }
    if (r.action === 'recommend') {
      const id = `${r.conversation_id}:${r.idx}`;
      const rng = new Rng('benchmark', id);
      const others = items.filter((i) => i.id !== r.target);
      const hard = others.filter((i) => i.leaf !== null && i.leaf === leafOf.get(r.target));
      const negatives = [...rng.shuffle(hard), ...rng.shuffle(others.filter((i) => !hard.includes(i)))].slice(0, NEGATIVES).map((i) => i.id);
      samples.push(BenchmarkSample.parse({ id, conversation_id: r.conversation_id, context: [...context], candidates: rng.shuffle([r.target, ...negatives]), target: r.target }));
    }
    context.push({ speaker: r.speaker, text: r.text });
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
    const query = s.context.filter((t) => t.speaker === 'User').map((t) => t.text).join(' ');
    const hits = (await retriever.search(query, { k: s.candidates.length, only: s.candidates })).map((h) => h.itemId);
    const matched = new Set(hits);
    out.push({ id: s.id, ranking: [...hits, ...s.candidates.filter((c) => !matched.has(c))] });
  }
  return out;
}
