import type { Pool } from './pool';
import { Item } from '../schemas/catalog';

export type NewItem = Omit<Item, 'imagePath'>;

/** Idempotent: re-importing an item replaces its fields and keeps its id. */
export async function upsertItem(pool: Pool, it: NewItem): Promise<void> {
  await pool.query(
    `INSERT INTO items (id, source, title, description, features, categories, price, store, details, image_sha256, image_url)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, title = EXCLUDED.title, description = EXCLUDED.description,
       features = EXCLUDED.features, categories = EXCLUDED.categories, price = EXCLUDED.price, store = EXCLUDED.store,
       details = EXCLUDED.details, image_sha256 = COALESCE(EXCLUDED.image_sha256, items.image_sha256), image_url = EXCLUDED.image_url`,
    [
      it.id,
      it.source,
      it.title,
      it.description,
      it.features,
      it.categories,
      it.price,
      it.store,
      it.details,
      it.imageSha256,
      it.imageUrl,
    ],
  );
}

/**
 * Recounts category tags. Until the stage-1 category filter has judged a tag, a tag counts as a product
 * type when it closes some item's category path (Amazon paths run from "Clothing, Shoes & Jewelry" down
 * to "Dresses"); a verdict from the filter agent is never overwritten here.
 */
export async function refreshCategories(pool: Pool): Promise<void> {
  await pool.query(`
    WITH tags AS (
      SELECT t.name, t.ord = cardinality(i.categories) AS leaf
      FROM items i, unnest(i.categories) WITH ORDINALITY AS t(name, ord)
    )
    INSERT INTO categories (name, item_count, is_product_type, verdict_source)
    SELECT name, count(*), bool_or(leaf), 'leaf-heuristic' FROM tags GROUP BY name
    ON CONFLICT (name) DO UPDATE SET item_count = EXCLUDED.item_count,
      is_product_type = CASE WHEN categories.verdict_source = 'leaf-heuristic' THEN EXCLUDED.is_product_type ELSE categories.is_product_type END`);
}

export const ITEM_COLUMNS = `i.id, i.source, i.title, i.description, i.features, i.categories, i.price, i.store, i.details,
  i.image_sha256 AS "imageSha256", im.path AS "imagePath", i.image_url AS "imageUrl"`;
/** The tables ITEM_COLUMNS reads: an item and, when it has one, its stored image. */
export const ITEMS_FROM = `items i LEFT JOIN images im ON im.sha256 = i.image_sha256`;

export async function getItems(pool: Pool, ids: readonly string[]): Promise<Map<string, Item>> {
  const r = await pool.query(`SELECT ${ITEM_COLUMNS} FROM ${ITEMS_FROM} WHERE i.id = ANY($1)`, [ids]);
  return new Map(r.rows.map((row) => [row.id, Item.parse(row)]));
}

export async function getItem(pool: Pool, id: string): Promise<Item> {
  const it = (await getItems(pool, [id])).get(id);
  if (!it) throw new Error(`item ${id} is not in the catalog`);
  return it;
}

/** Drops a model's vectors (before a rebuild); returns how many there were. */
export async function dropEmbeddings(pool: Pool, model: string): Promise<number> {
  return (await pool.query('DELETE FROM item_embeddings WHERE model = $1', [model])).rowCount ?? 0;
}

export interface CategoryVerdict {
  name: string;
  itemCount: number;
  isProductType: boolean | null;
  verdictSource: string | null;
}

/** The category filter's verdicts on tags with at least `minItems` items, product types first. */
export async function categoryVerdicts(pool: Pool, minItems: number): Promise<CategoryVerdict[]> {
  const r = await pool.query(
    `SELECT name, item_count AS "itemCount", is_product_type AS "isProductType", verdict_source AS "verdictSource"
     FROM categories WHERE item_count >= $1 ORDER BY is_product_type DESC, item_count DESC, name`,
    [minItems],
  );
  return r.rows;
}

/** Items of a source that have an image stored. */
export async function countItemsWithImages(pool: Pool, source: Item['source']): Promise<number> {
  const r = await pool.query('SELECT count(*)::int AS n FROM items WHERE source = $1 AND image_sha256 IS NOT NULL', [
    source,
  ]);
  return r.rows[0].n;
}

/** The first `n` item ids with an image, in id order. */
export async function itemIdsWithImages(pool: Pool, n: number): Promise<string[]> {
  const r = await pool.query('SELECT id FROM items WHERE image_sha256 IS NOT NULL ORDER BY id LIMIT $1', [n]);
  return r.rows.map((row) => row.id);
}

/** A run of items in id order: stage-1 work is addressed by these, never by item data in a payload. */
export interface IdRange {
  fromId: string;
  toId: string;
  items: number;
}

/** The items matching `where`, cut into id ranges of `size`, so a resumed run plans only what is left. */
async function idRanges(pool: Pool, where: string, size: number, params: unknown[] = []): Promise<IdRange[]> {
  const r = await pool.query(
    `SELECT min(id) AS "fromId", max(id) AS "toId", count(*)::int AS items
     FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / $1 AS chunk FROM items i WHERE ${where}) t
     GROUP BY chunk ORDER BY chunk`,
    [size, ...params],
  );
  return r.rows;
}

/** An item's index text is stale for a model when no vector of that model was made from this very text. */
const needsEmbedding = (modelParam: string) => `NOT EXISTS (SELECT 1 FROM item_embeddings e
  WHERE e.model = ${modelParam} AND e.item_id = i.id AND e.text_sha256 = ${INDEX_TEXT_DIGEST})`;

export const uncaptionedRanges = (pool: Pool, size: number) => idRanges(pool, 'caption IS NULL', size);

export const unembeddedRanges = (pool: Pool, model: string, size: number) =>
  idRanges(pool, needsEmbedding('$2'), size, [model]);

/** The catalog's items, and those of them without a caption. */
export async function captionCounts(pool: Pool): Promise<{ items: number; withoutCaption: number }> {
  const r = await pool.query(
    `SELECT count(*)::int AS items, (count(*) FILTER (WHERE caption IS NULL))::int AS "withoutCaption" FROM items`,
  );
  return r.rows[0];
}

export async function uncaptionedIds(pool: Pool, range: Pick<IdRange, 'fromId' | 'toId'>): Promise<string[]> {
  const r = await pool.query('SELECT id FROM items WHERE id BETWEEN $1 AND $2 AND caption IS NULL ORDER BY id', [
    range.fromId,
    range.toId,
  ]);
  return r.rows.map((row) => row.id);
}

/** Stores a caption once: a retried range keeps the first one. */
export async function storeCaption(pool: Pool, itemId: string, caption: string, source: string): Promise<void> {
  await pool.query('UPDATE items SET caption = $2, caption_source = $3 WHERE id = $1 AND caption IS NULL', [
    itemId,
    caption,
    source,
  ]);
}

/** Tags used by at least `minItems` items that the filter agent has not judged yet. */
export async function unjudgedCategories(pool: Pool, minItems: number): Promise<string[]> {
  const r = await pool.query(
    `SELECT name FROM categories WHERE item_count >= $1
       AND (verdict_source IS NULL OR verdict_source NOT LIKE '%:category-filter@%') ORDER BY name`,
    [minItems],
  );
  return r.rows.map((row) => row.name);
}

export async function itemsTagged(pool: Pool, tag: string): Promise<Array<{ id: string; title: string }>> {
  const r = await pool.query('SELECT id, title FROM items WHERE $1 = ANY (categories) ORDER BY id', [tag]);
  return r.rows;
}

/** The filter's verdict on a tag, with the items it covers. */
export async function storeCategoryVerdict(
  pool: Pool,
  v: { name: string; isProductType: boolean; source: string; itemIds: string[] },
): Promise<void> {
  await pool.query(
    'UPDATE categories SET is_product_type = $2, verdict_source = $3, item_ids = $4, item_count = $5 WHERE name = $1',
    [v.name, v.isProductType, v.source, v.itemIds, v.itemIds.length],
  );
}

/** The range's items whose index text has no vector of `model` yet, with the text and its digest. */
export async function staleIndexTexts(
  pool: Pool,
  range: Pick<IdRange, 'fromId' | 'toId'>,
  model: string,
): Promise<Array<{ id: string; text: string; sha: string }>> {
  const r = await pool.query(
    `SELECT id, index_text AS text, ${INDEX_TEXT_DIGEST} AS sha FROM items i
     WHERE id BETWEEN $1 AND $2 AND ${needsEmbedding('$3')} ORDER BY id`,
    [range.fromId, range.toId, model],
  );
  return r.rows;
}

/** Upserts vectors keyed by (model, item): a retried batch rewrites its own rows. */
export async function storeEmbeddings(
  pool: Pool,
  model: string,
  rows: Array<{ itemId: string; textSha256: string; vector: Float32Array }>,
): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((r) => [r.itemId, r.textSha256, Array.from(r.vector)]);
  await pool.query(
    `INSERT INTO item_embeddings (model, dims, item_id, text_sha256, vector)
     VALUES ${values.map((_, j) => `($1, $2, $${3 * j + 3}, $${3 * j + 4}, $${3 * j + 5}::real[])`).join(', ')}
     ON CONFLICT (model, item_id) DO UPDATE SET text_sha256 = EXCLUDED.text_sha256, dims = EXCLUDED.dims,
       vector = EXCLUDED.vector, created_at = now()`,
    [model, rows[0].vector.length, ...values.flat()],
  );
}

/** Product-type categories with at least `minItems` items: their items, and those with an image and a caption. */
export async function categoryMembers(
  pool: Pool,
  minItems: number,
): Promise<Array<{ name: string; ids: string[]; eligible: string[] | null }>> {
  const r = await pool.query(
    `SELECT c.name, array_agg(i.id ORDER BY i.id) AS ids,
            array_agg(i.id ORDER BY i.id) FILTER (WHERE i.image_sha256 IS NOT NULL AND i.caption IS NOT NULL) AS eligible
     FROM categories c JOIN items i ON c.name = ANY (i.categories)
     WHERE c.is_product_type AND c.item_count >= $1
     GROUP BY c.name ORDER BY c.name`,
    [minItems],
  );
  return r.rows;
}

/** Every item with an image, with the last (most specific) tag of its category path. */
export async function leafCategories(pool: Pool): Promise<Array<{ id: string; leaf: string | null }>> {
  const r = await pool.query(
    'SELECT id, categories[cardinality(categories)] AS leaf FROM items WHERE image_sha256 IS NOT NULL ORDER BY id',
  );
  return r.rows;
}

/** An image of the content-addressed store; storing the same bytes twice is a no-op. */
export async function recordImage(
  pool: Pool,
  i: { sha256: string; path: string; mime: string; width: number | null; height: number | null; bytes: number },
): Promise<void> {
  await pool.query(
    `INSERT INTO images (sha256, path, mime, width, height, bytes) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (sha256) DO NOTHING`,
    [i.sha256, i.path, i.mime, i.width, i.height, i.bytes],
  );
}

/** SQL: the digest of item `i`'s index text, which a vector stores to say what it was made from. */
export const INDEX_TEXT_DIGEST = `encode(sha256(convert_to(i.index_text, 'UTF8')), 'hex')`;

/** How much of the catalog a model's index covers, and how much of that is from the items' current text. */
export async function indexStatus(
  pool: Pool,
  model: string,
): Promise<{ model: string; items: number; indexed: number; current: number; dims?: number }> {
  const r = (
    await pool.query(
      `SELECT (SELECT count(*)::int FROM items) AS items, count(e.item_id)::int AS indexed,
       count(*) FILTER (WHERE e.text_sha256 = ${INDEX_TEXT_DIGEST})::int AS current, max(e.dims) AS dims
     FROM item_embeddings e JOIN items i ON i.id = e.item_id WHERE e.model = $1`,
      [model],
    )
  ).rows[0];
  return { model, items: r.items, indexed: r.indexed, current: r.current, dims: r.dims ?? undefined };
}

/** What changes when a model's vectors do: their count and the newest one's time. */
export async function embeddingsStamp(pool: Pool, model: string): Promise<string> {
  const s = (
    await pool.query(
      `SELECT count(*)::int AS n, coalesce(max(created_at)::text, '') AS latest FROM item_embeddings WHERE model = $1`,
      [model],
    )
  ).rows[0];
  return `${s.n}|${s.latest}`;
}

/**
 * A model's vectors in item id order, each in PostgreSQL's binary array form (array_send: read straight
 * into a matrix, 4 times faster than parsing text arrays), with whether its item has an image.
 */
export async function embeddingRows(
  pool: Pool,
  model: string,
): Promise<Array<{ item_id: string; dims: number; v: Buffer; has_image: boolean }>> {
  return (
    await pool.query(
      `SELECT e.item_id, e.dims, array_send(e.vector) AS v, i.image_sha256 IS NOT NULL AS has_image
       FROM item_embeddings e JOIN items i ON i.id = e.item_id WHERE e.model = $1 ORDER BY e.item_id`,
      [model],
    )
  ).rows;
}

/**
 * Full-text search over the items' weighted search vector (see catalog/retrieval.ts): its lexemes ORed,
 * ranked by ts_rank_cd, ties broken on id.
 */
export async function fullTextSearch(
  pool: Pool,
  query: string,
  o: { k: number; exclude?: readonly string[]; requireImage?: boolean; only?: readonly string[] },
): Promise<Array<{ itemId: string; score: number }>> {
  const r = await pool.query(
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
