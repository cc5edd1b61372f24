import { FailureType } from '../schemas/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { Mllm } from '../agents/calls';
import { noEmbedder, type Embedder } from '../agents/embedder';
import { INDEX_TEXT_DIGEST } from '../catalog/dense';
import { getItems } from '../catalog/store';
import type { Pool } from '../db/pool';
import { PROMPTS } from '../prompts';
import { MIN_ITEMS_PER_CATEGORY } from '../profiles/method';
import { inLanes } from '../workflows/lanes';

/** Items captioned at once inside one activity. */
const CAPTIONS_IN_FLIGHT = 4;

export interface IdRange {
  fromId: string;
  toId: string;
  items: number;
}

/** An item's index text is stale for a model when no vector of that model was made from this very text. */
const needsEmbedding = (
  modelParam: string,
) => `NOT EXISTS (SELECT 1 FROM item_embeddings e WHERE e.model = ${modelParam}
  AND e.item_id = i.id AND e.text_sha256 = ${INDEX_TEXT_DIGEST})`;

/**
 * Stage 1 activities: re-captioning, the category filter and the dense index. Work is addressed by id
 * ranges and category names (never by item data in a payload), and each stored result is skipped on a retry.
 */
export function catalogActivities({
  pool,
  llm,
  embedder,
}: {
  pool: Pool;
  llm: (provider: string) => Mllm;
  embedder: (provider: string) => Embedder | undefined;
}) {
  /** The items matching `where`, cut into id ranges of `size`, so a resumed run plans only what is left. */
  const idRanges = async (where: string, size: number, params: unknown[] = []): Promise<IdRange[]> =>
    (
      await pool.query(
        `SELECT min(id) AS "fromId", max(id) AS "toId", count(*)::int AS items
     FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / $1 AS chunk FROM items i WHERE ${where}) t
     GROUP BY chunk ORDER BY chunk`,
        [size, ...params],
      )
    ).rows;
  const embedderOf = (provider: string) => {
    const e = embedder(provider);
    if (!e) throw ApplicationFailure.nonRetryable(noEmbedder(provider), FailureType.Configuration);
    return e;
  };

  return {
    /** The items still without a caption. */
    planCaptions: (input: { size: number }) => idRanges('caption IS NULL', input.size),

    /** Captions the uncaptioned items of an id range from their text fields and image. */
    async captionItems(input: IdRange & { provider: string }): Promise<number> {
      const agent = llm(input.provider);
      const ids = (
        await pool.query('SELECT id FROM items WHERE id BETWEEN $1 AND $2 AND caption IS NULL ORDER BY id', [
          input.fromId,
          input.toId,
        ])
      ).rows.map((r) => r.id as string);
      const items = await getItems(pool, ids);
      const source = `${agent.provider}:${PROMPTS.itemCaptioner.version}`;
      await inLanes(ids.length, CAPTIONS_IN_FLIGHT, async (k) => {
        const { description } = await agent.call(
          'itemCaptioner',
          { item: items.get(ids[k])! },
          { key: `caption:${ids[k]}` },
        );
        await pool.query('UPDATE items SET caption = $2, caption_source = $3 WHERE id = $1 AND caption IS NULL', [
          ids[k],
          description,
          source,
        ]);
      });
      return ids.length;
    },

    /** Tags used by at least 5 items that the filter agent has not judged yet. */
    async planCategoryFilter(): Promise<string[]> {
      const r = await pool.query(
        `SELECT name FROM categories WHERE item_count >= $1 AND (verdict_source IS NULL OR verdict_source NOT LIKE '%:category-filter@%') ORDER BY name`,
        [MIN_ITEMS_PER_CATEGORY],
      );
      return r.rows.map((x) => x.name);
    },

    /** One tag to the filter agent, with a few item titles as examples; stores the verdict and the tag's items. */
    async filterCategory(input: { name: string; provider: string }): Promise<boolean> {
      const agent = llm(input.provider);
      const items = (
        await pool.query('SELECT id, title FROM items WHERE $1 = ANY (categories) ORDER BY id', [input.name])
      ).rows;
      const examples = items.slice(0, 5).map((i) => i.title as string);
      const { is_product_type } = await agent.call(
        'categoryFilter',
        { category: input.name, examples },
        { key: `category:${input.name}` },
      );
      await pool.query(
        'UPDATE categories SET is_product_type = $2, verdict_source = $3, item_ids = $4, item_count = $5 WHERE name = $1',
        [
          input.name,
          is_product_type,
          `${agent.provider}:${PROMPTS.categoryFilter.version}`,
          items.map((i) => i.id),
          items.length,
        ],
      );
      return is_product_type;
    },

    /** The items missing from the provider's dense index, or whose index text changed since (a new caption). */
    planEmbeddings: (input: { size: number; provider: string }) =>
      idRanges(needsEmbedding('$2'), input.size, [embedderOf(input.provider).model]),

    /** Embeds the range's missing or stale items, a model's batch at a time, and stores each batch at once. */
    async embedItems(input: IdRange & { provider: string }): Promise<number> {
      const e = embedderOf(input.provider);
      const rows = (
        await pool.query(
          `SELECT id, index_text AS text, ${INDEX_TEXT_DIGEST} AS sha FROM items i
         WHERE id BETWEEN $1 AND $2 AND ${needsEmbedding('$3')} ORDER BY id`,
          [input.fromId, input.toId, e.model],
        )
      ).rows;
      for (let k = 0; k < rows.length; k += e.batchSize) {
        const batch = rows.slice(k, k + e.batchSize);
        const vectors = await e.embed(batch.map((r) => r.text));
        const values = batch.map((r, j) => [r.id, r.sha, Array.from(vectors[j])]);
        await pool.query(
          `INSERT INTO item_embeddings (model, dims, item_id, text_sha256, vector)
           VALUES ${values.map((_, j) => `($1, $2, $${3 * j + 3}, $${3 * j + 4}, $${3 * j + 5}::real[])`).join(', ')}
           ON CONFLICT (model, item_id) DO UPDATE SET text_sha256 = EXCLUDED.text_sha256, dims = EXCLUDED.dims, vector = EXCLUDED.vector, created_at = now()`,
          [e.model, vectors[0].length, ...values.flat()],
        );
      }
      return rows.length;
    },
  };
}
