import type { BatchSettings } from './config';

/**
 * What the provider's Batch API documents and muse acts on: how many input tokens an organisation may
 * hold in the queue per model, and what each whole-batch error code means for the batch's requests.
 */

/**
 * Batch queue limits of OpenAI's usage tier 1 (its rate-limits page: the "batch queue limit" column), the
 * lowest tier that can use the Batch API: a safe default for an organisation whose tier muse cannot know.
 * Higher tiers allow more (set `batch.maxEnqueuedTokens`). Matched by the longest prefix of the model name
 * (gpt-4o-mini-2024-07-18 is gpt-4o-mini).
 */
export const TIER_1_QUEUE_LIMITS: Record<string, number> = {
  'gpt-4o-mini': 2_000_000,
  'gpt-4o': 90_000,
  'gpt-4-turbo': 90_000,
  'gpt-4': 100_000,
  'gpt-3.5-turbo': 2_000_000,
  'o1-mini': 2_000_000,
  'o1-preview': 90_000,
};
/** For a model the table does not name: the smallest figure of it, for a chat model. */
export const UNKNOWN_MODEL_QUEUE_LIMIT = 90_000;

/** The queue limit muse keeps to for a model: the configuration's, else tier 1's, else the smallest. */
export function enqueuedTokenLimit(settings: Pick<BatchSettings, 'maxEnqueuedTokens'>, model: string): number {
  const set = settings.maxEnqueuedTokens;
  if (set[model] !== undefined) return set[model];
  if (set['*'] !== undefined) return set['*'];
  const known = Object.keys(TIER_1_QUEUE_LIMITS)
    .filter((m) => model === m || model.startsWith(`${m}-`))
    .sort((a, b) => b.length - a.length)[0];
  return known ? TIER_1_QUEUE_LIMITS[known] : UNKNOWN_MODEL_QUEUE_LIMIT;
}

/**
 * What a whole-batch failure means for its requests:
 * - `later`: not now (the queue or a rate limit is full): the batch is sent again, unchanged, once there is room;
 * - `line`: the line it names is wrong: that request fails, the others go into a new batch;
 * - `file`: the file or its settings are wrong as a whole: every request fails with the provider's message.
 */
export type BatchFailureKind = 'later' | 'line' | 'file';

/**
 * Every whole-batch error code the Batch API documents (the batch object's `errors.data[].code`; OpenAI's
 * reference gives the shape, the Azure OpenAI batch guide lists the codes of the same API), with what muse
 * does and what the user can change. A code not here fails the batch's requests with the provider's message.
 */
export const BATCH_ERROR_CODES: Record<string, { kind: BatchFailureKind; fix?: string }> = {
  token_limit_exceeded: { kind: 'later' },
  rate_limit_exceeded: { kind: 'later' },
  invalid_json_line: { kind: 'line' },
  duplicate_custom_id: { kind: 'line' },
  url_mismatch: { kind: 'line' },
  model_mismatch: { kind: 'line' },
  invalid_request: { kind: 'line' },
  missing_required_parameter: { kind: 'line' },
  too_many_tasks: { kind: 'file', fix: 'lower batch.maxRequestsPerFile to the provider’s limit' },
  file_too_large: { kind: 'file', fix: 'lower batch.maxBytesPerFile to the provider’s limit' },
  empty_batch: { kind: 'file' },
  model_not_found: { kind: 'file', fix: 'check the role’s model name and that the Batch API serves it' },
  invalid_file: { kind: 'file' },
};

export interface BatchError {
  code?: string;
  message?: string;
  line?: number | null;
  param?: string | null;
}

/** How a failed batch's errors are read: `later` when any says "not now", `line` for one naming a line, else `file`. */
export function classifyBatchFailure(errors: BatchError[]): { kind: BatchFailureKind; error?: BatchError } {
  const later = errors.find((e) => e.code && BATCH_ERROR_CODES[e.code]?.kind === 'later');
  if (later) return { kind: 'later', error: later };
  const line = errors.find((e) => e.line && (!e.code || BATCH_ERROR_CODES[e.code]?.kind !== 'file'));
  if (line) return { kind: 'line', error: line };
  return { kind: 'file', error: errors[0] };
}

/** The wait before sending a deferred batch again when no batch of its model is in the queue to wake it. */
export function deferWaitSeconds(settings: Pick<BatchSettings, 'deferSeconds' | 'deferMaxSeconds'>, deferrals: number) {
  return Math.min(settings.deferSeconds * 2 ** Math.max(0, deferrals - 1), settings.deferMaxSeconds);
}
