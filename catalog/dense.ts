import { embeddingRows, embeddingsStamp } from '../db/items';
import type { Pool } from '../db/pool';
import type { RetrievalHit, SearchOptions } from './search';

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
 * worker runs is picked up without a restart; and never sooner than 20 times the last load took, so
 * a large index being rebuilt costs a worker at most 5 % of its time in reloads.
 * Memory: items x dims x 4 bytes (100k x 1024: 400 MB).
 */
export class DenseIndex {
  private loaded?: Loaded;
  private loading?: Promise<Loaded>;
  private checkedAt = 0;
  private loadMs = 0;

  /** refreshMs 0: look for changes on every use. */
  constructor(
    private readonly pool: Pool,
    readonly model: string,
    private readonly refreshMs = 10_000,
  ) {}

  /** Items in the index (0: none built for this model yet). */
  async size(): Promise<number> {
    return (await this.current()).ids.length;
  }

  async search(query: Float32Array, o: SearchOptions): Promise<RetrievalHit[]> {
    const ix = await this.current();
    if (!ix.ids.length) return [];
    if (query.length !== ix.dims)
      throw new Error(`a ${query.length}-dimension query against the ${ix.dims}-dimension index of ${this.model}`);
    const exclude = new Set(o.exclude ?? []);
    const only = o.only && new Set(o.only);
    const { ids, dims, matrix, hasImage } = ix;
    // The best k so far, best first; ties break on id, as in full-text search, so results are reproducible.
    const top: RetrievalHit[] = [];
    const before = (a: RetrievalHit, b: RetrievalHit) =>
      a.score > b.score || (a.score === b.score && a.itemId < b.itemId);
    for (let r = 0; r < ids.length; r++) {
      if ((o.requireImage && !hasImage[r]) || exclude.has(ids[r]) || (only && !only.has(ids[r]))) continue;
      const hit = { itemId: ids[r], score: dot(matrix, r * dims, query) };
      if (top.length === o.k && !before(hit, top[top.length - 1])) continue;
      let at = top.length;
      while (at > 0 && before(hit, top[at - 1])) at--;
      top.splice(at, 0, hit);
      if (top.length > o.k) top.pop();
    }
    return top;
  }

  private async current(): Promise<Loaded> {
    const every = this.refreshMs && Math.max(this.refreshMs, 20 * this.loadMs);
    if (this.loaded && Date.now() - this.checkedAt < every) return this.loaded;
    this.loading ??= this.refresh().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async refresh(): Promise<Loaded> {
    const stamp = await embeddingsStamp(this.pool, this.model);
    this.checkedAt = Date.now();
    if (this.loaded?.stamp === stamp) return this.loaded;
    const t0 = Date.now();
    const rows = await embeddingRows(this.pool, this.model);
    const dims = rows[0]?.dims ?? 0;
    if (rows.some((r) => r.dims !== dims))
      throw new Error(
        `the index of ${this.model} mixes vector lengths: rebuild it with \`muse catalog index --rebuild\``,
      );
    const matrix = new Float32Array(rows.length * dims);
    rows.forEach((r, k) => readFloat4Array(r.v, matrix, k * dims, dims));
    this.loaded = {
      stamp,
      ids: rows.map((r) => r.item_id),
      hasImage: Uint8Array.from(rows, (r) => (r.has_image ? 1 : 0)),
      dims,
      matrix,
    };
    this.loadMs = Date.now() - t0;
    return this.loaded;
  }
}

/** row · query, in four running sums (1.5 times as fast as one in V8: the additions no longer wait on each other). */
function dot(matrix: Float32Array, base: number, q: Float32Array): number {
  let a = 0,
    b = 0,
    c = 0,
    e = 0;
  const n = q.length - (q.length % 4);
  let d = 0;
  for (; d < n; d += 4) {
    a += matrix[base + d] * q[d];
    b += matrix[base + d + 1] * q[d + 1];
    c += matrix[base + d + 2] * q[d + 2];
    e += matrix[base + d + 3] * q[d + 3];
  }
  for (; d < q.length; d++) a += matrix[base + d] * q[d];
  return a + b + c + e;
}

/**
 * A one-dimensional real[] without nulls in PostgreSQL's binary array format: a 20-byte header (dimensions,
 * null flag, element type, length, lower bound), then each element as a 4-byte length and a big-endian float4.
 */
function readFloat4Array(buf: Buffer, into: Float32Array, at: number, n: number): void {
  if (buf.readInt32BE(0) !== 1 || buf.readInt32BE(4) !== 0 || buf.readInt32BE(12) !== n)
    throw new Error(`a stored vector is not a ${n}-element array`);
  for (let k = 0; k < n; k++) into[at + k] = buf.readFloatBE(20 + k * 8 + 4);
}
