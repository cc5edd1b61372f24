import { z } from 'zod';

/** What a batch is asked to be: its id, size, seed, lanes and provider (table batches). */
/** The agent roles (prompts/prompt.ts's Role): each has its own endpoint and model. */
export const RoleName = z.enum(['catalog', 'profile', 'manager', 'user', 'recommender', 'rewriter', 'reviewer']);

/** Part of a workflow's or an activity's input: the roles whose calls go through the Batch API (none when absent). */
export const ViaBatch = z.object({ batchRoles: z.array(RoleName).optional() });
export type ViaBatch = z.infer<typeof ViaBatch>;

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
  /** Roles whose calls this batch sends through the Batch API (`--api batch`). */
  batchRoles: z.array(RoleName),
  createdAt: z.date(),
});
export type Batch = z.infer<typeof Batch>;

export const ConversationStatus = z.enum(['pending', 'running', 'completed', 'failed']);
export type ConversationStatus = z.infer<typeof ConversationStatus>;
