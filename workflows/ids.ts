import { hashSeed } from '../random';

/** The workflow id and the database id of a conversation: readable in the Web UI, stable across resumes. */
export const conversationId = (batchId: string, idx: number) => `muse-${batchId}-${idx}`;
export const batchWorkflowId = (batchId: string) => `muse-batch-${batchId}`;
/** Each conversation's recorded seed: a function of the batch seed and its index, nothing else. */
export const conversationSeed = (batchSeed: number, idx: number) => hashSeed('conversation', batchSeed, idx);
