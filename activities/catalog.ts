import { queuedAsResult } from '../common/queued';
import { FailureType, type UnitsLeft } from '../schemas/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { Mllm, ViaBatch } from '../agents/calls';
import { noEmbedder, type Embedder } from '../agents/embedder';
import {
  getItems,
  itemsTagged,
  staleIndexTexts,
  storeCaption,
  storeCategoryVerdict,
  storeEmbeddings,
  uncaptionedIds,
  uncaptionedRanges,
  unembeddedRanges,
  unjudgedCategories,
  type IdRange,
} from '../db/items';
import type { Pool } from '../db/pool';
import { PROMPTS } from '../prompts';
import { MIN_ITEMS_PER_CATEGORY } from '../profiles/method';
import { inLanes } from '../common/lanes';

/** Items captioned at once inside one activity. */
const CAPTIONS_IN_FLIGHT = 4;

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
  const embedderOf = (provider: string) => {
    const e = embedder(provider);
    if (!e) throw ApplicationFailure.nonRetryable(noEmbedder(provider), FailureType.Configuration);
    return e;
  };

  return {
    /** The items still without a caption. */
    planCaptions: (input: { size: number }) => uncaptionedRanges(pool, input.size),

    /** Captions the uncaptioned items of an id range from their text fields and image. */
    captionItems: queuedAsResult(async (input: IdRange & { provider: string } & ViaBatch): Promise<number> => {
      const agent = llm(input.provider);
      const ids = await uncaptionedIds(pool, input);
      const items = await getItems(pool, ids);
      const source = `${agent.provider}:${PROMPTS.itemCaptioner.version}`;
      try {
        await inLanes(ids.length, CAPTIONS_IN_FLIGHT, async (k) => {
          const { description } = await agent.call(
            'itemCaptioner',
            { item: items.get(ids[k])! },
            { key: `caption:${ids[k]}`, batchRoles: input.batchRoles },
          );
          await storeCaption(pool, ids[k], description, source);
        });
      } catch (e) {
        // A chunk that fails for good, or waits for a provider batch, says how many of its items are left,
        // so progress counts items (a waiting chunk's run may hand over to the next: workflows/catalog.ts).
        if (!(e instanceof ApplicationFailure) || !e.nonRetryable) throw e;
        const left: UnitsLeft = { unitsLeft: (await uncaptionedIds(pool, input)).length };
        throw ApplicationFailure.create({
          message: e.message,
          type: e.type ?? undefined,
          nonRetryable: true,
          details: [left],
          cause: e.cause,
        });
      }
      return ids.length;
    }),

    /** Tags used by at least 5 items that the filter agent has not judged yet. */
    async planCategoryFilter(): Promise<string[]> {
      return unjudgedCategories(pool, MIN_ITEMS_PER_CATEGORY);
    },

    /** One tag to the filter agent, with a few item titles as examples; stores the verdict and the tag's items. */
    filterCategory: queuedAsResult(async (input: { name: string; provider: string } & ViaBatch): Promise<boolean> => {
      const agent = llm(input.provider);
      const items = await itemsTagged(pool, input.name);
      const examples = items.slice(0, 5).map((i) => i.title);
      const { is_product_type } = await agent.call(
        'categoryFilter',
        { category: input.name, examples },
        { key: `category:${input.name}`, batchRoles: input.batchRoles },
      );
      await storeCategoryVerdict(pool, {
        name: input.name,
        isProductType: is_product_type,
        source: `${agent.provider}:${PROMPTS.categoryFilter.version}`,
        itemIds: items.map((i) => i.id),
      });
      return is_product_type;
    }),

    /** The items missing from the provider's dense index, or whose index text changed since (a new caption). */
    planEmbeddings: (input: { size: number; provider: string }) =>
      unembeddedRanges(pool, embedderOf(input.provider).model, input.size),

    /** Embeds the range's missing or stale items, a model's batch at a time, and stores each batch at once. */
    async embedItems(input: IdRange & { provider: string }): Promise<number> {
      const e = embedderOf(input.provider);
      const rows = await staleIndexTexts(pool, input, e.model);
      for (let k = 0; k < rows.length; k += e.batchSize) {
        const batch = rows.slice(k, k + e.batchSize);
        const vectors = await e.embed(batch.map((r) => r.text));
        await storeEmbeddings(
          pool,
          e.model,
          batch.map((r, j) => ({ itemId: r.id, textSha256: r.sha, vector: vectors[j] })),
        );
      }
      return rows.length;
    },
  };
}
