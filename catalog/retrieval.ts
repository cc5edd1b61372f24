import type { Pool } from '../db/pool';

export interface RetrievalHit {
  itemId: string;
  score: number;
}
export interface SearchOptions {
  k: number;
  exclude?: readonly string[];
  /** Only items that can be shown: with an image. */
  requireImage?: boolean;
  /** Rank these items only (a benchmark's candidate set). */
  only?: readonly string[];
}

/** The recommender's view of the item database; dense and hybrid retrievers implement it too. */
export interface Retriever {
  readonly kind: string;
  search(query: string, o: SearchOptions): Promise<RetrievalHit[]>;
}

/**
 * PostgreSQL full-text search over title, categories, description and features (weighted in that
 * order). plainto_tsquery ANDs every word, which finds nothing for a long query, so its lexemes are
 * ORed and the ranking does the rest. Ties break on id so results are reproducible.
 */
export class FullTextRetriever implements Retriever {
  readonly kind = 'fulltext';
  constructor(private readonly pool: Pool) {}

  async search(query: string, o: SearchOptions): Promise<RetrievalHit[]> {
    const r = await this.pool.query(
      `WITH q AS (SELECT NULLIF(replace(plainto_tsquery('english', $1)::text, '&', '|'), '')::tsquery AS q)
       SELECT i.id, ts_rank_cd(i.search, q.q, 1) AS score
       FROM items i, q
       WHERE q.q IS NOT NULL AND i.search @@ q.q AND NOT (i.id = ANY($2))
         AND ($4::boolean IS FALSE OR i.image_sha256 IS NOT NULL)
         AND ($5::text[] IS NULL OR i.id = ANY($5))
       ORDER BY score DESC, i.id
       LIMIT $3`,
      [query, o.exclude ?? [], o.k, o.requireImage ?? false, o.only ?? null],
    );
    return r.rows.map((row) => ({ itemId: row.id, score: Number(row.score) }));
  }
}
