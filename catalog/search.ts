/** What every retriever shares: its query options and its hits (full-text, dense and hybrid alike). */
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
