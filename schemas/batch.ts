import { z } from 'zod';

/** What a batch is asked to be: its id, size, seed, lanes and provider (table batches). */
export const BatchSpec = z.object({
  batchId: z.string(),
  size: z.number().int().positive(),
  seed: z.number().int(),
  concurrency: z.number().int().positive(),
  provider: z.string(),
});
export type BatchSpec = z.infer<typeof BatchSpec>;

/** A batch as stored: its spec, its budget cap and what it has spent so far. */
export const Batch = BatchSpec.extend({
  maxCostUsd: z.coerce.number().nullable(),
  spentUsd: z.coerce.number(),
  createdAt: z.date(),
});
export type Batch = z.infer<typeof Batch>;

export const ConversationStatus = z.enum(['pending', 'running', 'completed', 'failed']);
export type ConversationStatus = z.infer<typeof ConversationStatus>;
