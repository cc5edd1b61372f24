import type { Schema } from './parquet';
import type { Split } from './splits';

/** The Hugging Face folder's columns and file names: what hf.ts writes and card.ts describes. */

const provenance = { struct: { provider: 'string', models: { list: 'string' } } } as const;

/** One row per conversation. Images are named by path (`images/<item>.<ext>`): the bytes are in items.parquet. */
export const CONVERSATION_COLUMNS: Schema = {
  conversation_id: 'string',
  batch_id: 'string',
  persona: { struct: { name: 'string', gender: 'string', age: 'int64', profession: 'string' } },
  scenario_group: 'string',
  seed_scenario: 'string',
  scenario: 'string',
  requirement: 'string',
  target_item_id: 'string',
  target_category: 'string',
  opening: 'string',
  outcome: 'string',
  utterances: {
    list: {
      struct: {
        speaker: 'string',
        text: 'string',
        original_text: 'string',
        action: 'string',
        mentioned_items: { list: 'string' },
        images: { list: 'string' },
      },
    },
  },
  mentioned_items: { list: 'string' },
  review: {
    struct: {
      pass: 'string',
      content_quality: 'int64',
      logical_fluency: 'int64',
      user_consistency: 'int64',
      total: 'int64',
      fits_context: 'bool',
    },
  },
  provenance: { struct: { profile: provenance, conversation: provenance, rewrite: provenance, review: provenance } },
  provider: 'string',
  simulated: 'bool',
};

/** Every item a conversation names, once, with its image as a Hugging Face Image (bytes and path). */
export const ITEM_COLUMNS: Schema = {
  id: 'string',
  title: 'string',
  caption: 'string',
  description: 'string',
  features: { list: 'string' },
  categories: { list: 'string' },
  price: 'float64',
  store: 'string',
  details: 'string',
  image: 'image',
};

export const shardName = (split: Split, k: number, n: number) =>
  `data/${split}-${String(k).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.parquet`;
