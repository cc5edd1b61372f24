/**
 * The system message of every fine-tuning example muse exports (`--format openai-ft`, `--format llava`):
 * the recommender's part, as a model trained on the dataset should play it. Not an agent call; versioned
 * like one, and the version is written beside the examples.
 */
export const FINETUNE_SYSTEM = {
  version: 'finetune-system@1',
  text: 'You are a shopping assistant in an online clothing store. Talk with the shopper, ask about their needs and the occasion, recommend products from the catalog and describe what they look like, and answer their questions about the products you showed.',
} as const;
