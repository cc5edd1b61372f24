import type { Pool } from '../db/pool';
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

const ITEM_COLUMNS = `i.id, i.source, i.title, i.description, i.features, i.categories, i.price, i.store, i.details,
  i.image_sha256 AS "imageSha256", im.path AS "imagePath", i.image_url AS "imageUrl"`;

export async function getItems(pool: Pool, ids: readonly string[]): Promise<Map<string, Item>> {
  const r = await pool.query(
    `SELECT ${ITEM_COLUMNS} FROM items i LEFT JOIN images im ON im.sha256 = i.image_sha256 WHERE i.id = ANY($1)`,
    [ids],
  );
  return new Map(r.rows.map((row) => [row.id, Item.parse(row)]));
}

export async function getItem(pool: Pool, id: string): Promise<Item> {
  const it = (await getItems(pool, [id])).get(id);
  if (!it) throw new Error(`item ${id} is not in the catalog`);
  return it;
}
