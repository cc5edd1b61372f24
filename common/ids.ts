import { hashSeed } from '../random';

/** The workflow id and the database id of a conversation: readable in the Web UI, stable across resumes. */
export const conversationId = (batchId: string, idx: number) => `muse-${batchId}-${idx}`;
/** `muse optimize` runs stage 4 again for a conversation beside, not over, its generation workflow. */
export const optimizeWorkflowId = (conversationId: string) => `${conversationId}-optimize`;
export const optimizeBatchWorkflowId = (batchId: string) => `muse-optimize-${batchId}`;
export const profilesWorkflowId = (batchId: string) => `muse-profiles-${batchId}`;
export const batchWorkflowId = (batchId: string) => `muse-batch-${batchId}`;
/** `muse profiles` runs one stage-2 workflow per seed, so a second command while it runs attaches to it. */
export const seedProfilesWorkflowId = (seed: number) => `muse-profiles-s${seed}`;
export const evalWorkflowId = (evalId: string) => `muse-eval-${evalId}`;
/** Stage 1: one caption and one filter workflow for the catalog, one index workflow per provider's embedding model. */
export const catalogWorkflowId = (step: 'caption' | 'filter' | 'index', provider: string) =>
  step === 'index' ? `muse-index-${provider}` : `muse-${step}`;
/**
 * The collector of a run's Batch API requests (the run: a batch, an evaluation, or a stage-1/2 workflow),
 * named by its database too: two databases' runs may share a name on one Temporal server.
 */
/** The collector's workflow type (workflows/provider-batches.ts), by name: activities start it without importing workflows. */
export const COLLECTOR_WORKFLOW = 'batchCollectorWorkflow';
export const collectorWorkflowId = (database: string, runId: string) => `muse-batcher-${database}-${runId}`;
/** The workflow that owns one provider batch (a row of provider_batches, numbered from 1 in every database). */
export const providerBatchWorkflowId = (database: string, id: number) => `muse-provider-batch-${database}-${id}`;
/** Each conversation's recorded seed: a function of the batch seed and its index, nothing else. */
export const conversationSeed = (batchSeed: number, idx: number) => hashSeed('conversation', batchSeed, idx);
