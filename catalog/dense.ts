import type { Pool } from '../db/pool';
import type { RetrievalHit, SearchOptions } from './retrieval';

interface Loaded {
  stamp: string;
  ids: string[];
  hasImage: Uint8Array;
  dims: number;
  /** Row-major, one normalised vector per item. */
  matrix: Float32Array;
}

/**
 * One model's item vectors, held in the worker's memory and searched exactly (pgvector is not
 * assumed). The table is checked for changes at most every `refreshMs`, so an index built while a
 * worker runs is picked up without a restart. Memory: items x dims x 4 bytes (100k x 1024: 400 MB).
 */
export class DenseIndex {
  private loaded?: Loaded;
  private loading?: Promise<Loaded>;
  private checkedAt = 0;

  constructor(private readonly pool: Pool, readonly model: string, private readonly refreshMs = 10_000) {}

  /** Items in the index (0: none built for this model yet). */
  async size(): Promise<number> {
    return (await this.current()).ids.length;
  }

  async search(query: Float32Array, o: SearchOptions): Promise<RetrievalHit[]> {
    const ix = await this.current();
    if (!ix.ids.length) return [];
    if (query.length !== ix.dims) throw new Error(`a ${query.length}-dimension query against the ${ix.dims}-dimension index of ${this.model}`);
    const exclude = new Set(o.exclude ?? []);
    const only = o.only && new Set(o.only);
    const hits: RetrievalHit[] = [];
    for (let r = 0; r < ix.ids.length; r++) {
      const id = ix.ids[r];
      if (exclude.has(id) || (only && !only.has(id)) || (o.requireImage && !ix.hasImage[r])) continue;
      let dot = 0;
      for (let d = 0, base = r * ix.dims; d < ix.dims; d++) dot += ix.matrix[base + d] * query[d];
      hits.push({ itemId: id, score: dot });
    }
    // Ties break on id, as in full-text search, so results are reproducible.
    return hits.sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1)).slice(0, o.k);
  }

  private async current(): Promise<Loaded> {
    if (this.loaded && Date.now() - this.checkedAt < this.refreshMs) return this.loaded;
    this.loading ??= this.refresh().finally(() => { this.loading = undefined; });
    return this.loading;
  }

  private async refresh(): Promise<Loaded> {
    const s = (await this.pool.query(
      `SELECT count(*)::int AS n, coalesce(max(created_at)::text, '') AS latest FROM item_embeddings WHERE model = $1`, [this.model])).rows[0];
    const stamp = `${s.n}|${s.latest}`;
    this.checkedAt = Date.now();
    if (this.loaded?.stamp === stamp) return this.loaded;
    const rows = (await this.pool.query(
      `SELECT e.item_id, e.dims, e.vector, i.image_sha256 IS NOT NULL AS has_image
       FROM item_embeddings e JOIN items i ON i.id = e.item_id WHERE e.model = $1 ORDER BY e.item_id`, [this.model])).rows;
    const dims = rows[0]?.dims ?? 0;
    if (rows.some((r) => r.dims !== dims)) throw new Error(`the index of ${this.model} mixes vector lengths: rebuild it with \`muse catalog index --rebuild\``);
    const matrix = new Float32Array(rows.length * dims);
    rows.forEach((r, k) => matrix.set(r.vector, k * dims));
    this.loaded = { stamp, ids: rows.map((r) => r.item_id), hasImage: Uint8Array.from(rows, (r) => (r.has_image ? 1 : 0)), dims, matrix };
    return this.loaded;
  }
}

/** How much of the catalog a model's index covers, and how much of that is from the items' current text. */
export async function indexStatus(pool: Pool, model: string): Promise<{ model: string; items: number; indexed: number; current: number; dims?: number }> {
  const r = (await pool.query(
    `SELECT (SELECT count(*)::int FROM items) AS items, count(e.item_id)::int AS indexed,
       count(*) FILTER (WHERE e.text_sha256 = encode(sha256(convert_to(i.index_text, 'UTF8')), 'hex'))::int AS current, max(e.dims) AS dims
     FROM item_embeddings e JOIN items i ON i.id = e.item_id WHERE e.model = $1`, [model])).rows[0];
  return { model, items: r.items, indexed: r.indexed, current: r.current, dims: r.dims ?? undefined };
}
