import type { Embedder } from '../agents/embedder';
import { fullTextSearch } from '../db/items';
import type { Pool } from '../db/pool';
import { DenseIndex } from './dense';
import type { RetrievalHit, Retriever, SearchOptions } from './search';

/**
 * PostgreSQL full-text search over title, categories, description and features (weighted in that
 * order). plainto_tsquery ANDs every word, which finds nothing for a long query, so its lexemes are
 * ORed and the ranking does the rest. Ties break on id so results are reproducible.
 */
export class FullTextRetriever implements Retriever {
  readonly kind = 'fulltext';
  constructor(private readonly pool: Pool) {}

  async search(query: string, o: SearchOptions): Promise<RetrievalHit[]> {
    return fullTextSearch(this.pool, query, o);
  }
}

/** How deep each list is read before fusing: far past the 8 the method shows, as RRF expects. */
const FUSION_DEPTH = 50;
/** The usual RRF constant (Cormack et al.): it keeps one list's top rank from outweighing agreement. */
const RRF_K = 60;

/** Reciprocal rank fusion: an item's score is the sum of 1 / (RRF_K + rank) over the lists it is in. */
export function reciprocalRankFusion(lists: readonly RetrievalHit[][], k: number): RetrievalHit[] {
  const scores = new Map<string, number>();
  for (const list of lists)
    list.forEach((h, rank) => scores.set(h.itemId, (scores.get(h.itemId) ?? 0) + 1 / (RRF_K + rank + 1)));
  return [...scores]
    .map(([itemId, score]) => ({ itemId, score }))
    .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1))
    .slice(0, k);
}

/** Full-text and dense search, fused by reciprocal rank; its kind names the embedding model. */
export class HybridRetriever implements Retriever {
  readonly kind: string;
  constructor(
    private readonly fullText: Retriever,
    private readonly dense: DenseIndex,
    private readonly embedder: Embedder,
  ) {
    this.kind = `hybrid:${embedder.model}`;
  }

  async search(query: string, o: SearchOptions): Promise<RetrievalHit[]> {
    const deep = { ...o, k: Math.max(o.k, FUSION_DEPTH) };
    const [vector] = await this.embedder.embed([query]);
    const [text, dense] = await Promise.all([this.fullText.search(query, deep), this.dense.search(vector, deep)]);
    return reciprocalRankFusion([text, dense], o.k);
  }
}

/**
 * The retriever a conversation of a provider uses: hybrid once `muse catalog index` has built that
 * provider's embedding index, full-text alone before that or when no embedding model is configured.
 */
export function retrieverRegistry(
  pool: Pool,
  embedder: (provider: string) => Embedder | undefined,
): (provider: string) => Promise<Retriever> {
  const fullText = new FullTextRetriever(pool);
  const indexes = new Map<string, DenseIndex>();
  return async (provider) => {
    const e = embedder(provider);
    if (!e) return fullText;
    if (!indexes.has(e.model)) indexes.set(e.model, new DenseIndex(pool, e.model));
    const dense = indexes.get(e.model)!;
    return (await dense.size()) ? new HybridRetriever(fullText, dense, e) : fullText;
  };
}
