import type { Mllm } from '../agents/calls';
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

/**
 * Stage 1 activities: re-captioning and the category filter. Work is addressed by id ranges and
 * category names (never by item data in a payload), and each stored result is skipped on a retry.
 */
export function catalogActivities({ pool, llm }: { pool: Pool; llm: (provider: string) => Mllm }) {
  return {
    /** The items still without a caption, cut into id ranges of `size`, so a resumed run plans only what is left. */
    async planCaptions(input: { size: number }): Promise<IdRange[]> {
      const r = await pool.query(
        `SELECT min(id) AS "fromId", max(id) AS "toId", count(*)::int AS items
         FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / $1 AS chunk FROM items WHERE caption IS NULL) t
         GROUP BY chunk ORDER BY chunk`, [input.size]);
      return r.rows;
    },

    /** Captions the uncaptioned items of an id range from their text fields and image. */
    async captionItems(input: IdRange & { provider: string }): Promise<number> {
      const agent = llm(input.provider);
      const ids = (await pool.query('SELECT id FROM items WHERE id BETWEEN $1 AND $2 AND caption IS NULL ORDER BY id', [input.fromId, input.toId])).rows.map((r) => r.id as string);
      const items = await getItems(pool, ids);
      const source = `${agent.provider}:${PROMPTS.itemCaptioner.version}`;
      await inLanes(ids.length, CAPTIONS_IN_FLIGHT, async (k) => {
        const { description } = await agent.call('itemCaptioner', { item: items.get(ids[k])! }, { key: `caption:${ids[k]}` });
        await pool.query('UPDATE items SET caption = $2, caption_source = $3 WHERE id = $1 AND caption IS NULL', [ids[k], description, source]);
      });
      return ids.length;
    },

    /** Tags used by at least 5 items that the filter agent has not judged yet. */
    async planCategoryFilter(): Promise<string[]> {
      const r = await pool.query(
        `SELECT name FROM categories WHERE item_count >= $1 AND (verdict_source IS NULL OR verdict_source NOT LIKE '%:category-filter@%') ORDER BY name`,
        [MIN_ITEMS_PER_CATEGORY]);
      return r.rows.map((x) => x.name);
    },

    /** One tag to the filter agent, with a few item titles as examples; stores the verdict and the tag's items. */
    async filterCategory(input: { name: string; provider: string }): Promise<boolean> {
      const agent = llm(input.provider);
      const items = (await pool.query('SELECT id, title FROM items WHERE $1 = ANY (categories) ORDER BY id', [input.name])).rows;
      const examples = items.slice(0, 5).map((i) => i.title as string);
      const { is_product_type } = await agent.call('categoryFilter', { category: input.name, examples }, { key: `category:${input.name}` });
      await pool.query('UPDATE categories SET is_product_type = $2, verdict_source = $3, item_ids = $4, item_count = $5 WHERE name = $1',
        [input.name, is_product_type, `${agent.provider}:${PROMPTS.categoryFilter.version}`, items.map((i) => i.id), items.length]);
      return is_product_type;
    },
  };
}
