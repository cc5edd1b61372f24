import { describe, expect, it } from 'vitest';
import {
  BATCH_ERROR_CODES,
  classifyBatchFailure,
  deferWaitSeconds,
  enqueuedTokenLimit,
  UNKNOWN_MODEL_QUEUE_LIMIT,
} from '../../agents/batch-policy';
import { BatchSettings } from '../../agents/config';

describe("the Batch API's queue limits and error codes", () => {
  it('a model gets the configured limit, else "*", else its tier-1 figure by the longest prefix, else the smallest', () => {
    const none = BatchSettings.parse({});
    expect(enqueuedTokenLimit(none, 'gpt-4o-mini')).toBe(2_000_000);
    expect(enqueuedTokenLimit(none, 'gpt-4o-mini-2024-07-18')).toBe(2_000_000);
    expect(enqueuedTokenLimit(none, 'gpt-4o-2024-08-06')).toBe(90_000);
    expect(enqueuedTokenLimit(none, 'qwen2.5-vl-7b')).toBe(UNKNOWN_MODEL_QUEUE_LIMIT);
    const set = BatchSettings.parse({ maxEnqueuedTokens: { 'gpt-4o-mini': 40_000_000, '*': 5_000_000 } });
    expect(enqueuedTokenLimit(set, 'gpt-4o-mini')).toBe(40_000_000);
    expect(enqueuedTokenLimit(set, 'gpt-4o')).toBe(5_000_000);
    expect(() => BatchSettings.parse({ maxEnqueuedTokens: { 'gpt-4o': -1 } })).toThrow();
  });

  it('"not now" wins over the rest; a line named is that line; a whole-file or unknown code is the whole file', () => {
    const full = { code: 'token_limit_exceeded', message: 'Enqueued token limit reached', line: null };
    expect(classifyBatchFailure([full]).kind).toBe('later');
    expect(classifyBatchFailure([{ code: 'duplicate_custom_id', line: 4 }, full]).kind).toBe('later');
    expect(classifyBatchFailure([{ code: 'duplicate_custom_id', line: 4 }])).toEqual({
      kind: 'line',
      error: { code: 'duplicate_custom_id', line: 4 },
    });
    expect(classifyBatchFailure([{ code: 'too_many_tasks', line: null }]).kind).toBe('file');
    expect(classifyBatchFailure([{ code: 'organization_suspended', message: 'no' }]).kind).toBe('file');
    expect(classifyBatchFailure([]).kind).toBe('file');
    // Every code the fake of the API can answer with is in the table.
    for (const code of [
      'invalid_json_line',
      'missing_required_parameter',
      'duplicate_custom_id',
      'invalid_request',
      'url_mismatch',
      'model_mismatch',
      'empty_batch',
      'too_many_tasks',
      'file_too_large',
      'token_limit_exceeded',
    ])
      expect(BATCH_ERROR_CODES[code], code).toBeDefined();
  });

  it('a deferred batch waits deferSeconds, doubling per refusal up to deferMaxSeconds', () => {
    const s = BatchSettings.parse({ deferSeconds: 60, deferMaxSeconds: 1_800 });
    expect([1, 2, 3, 6, 20].map((n) => deferWaitSeconds(s, n))).toEqual([60, 120, 240, 1_800, 1_800]);
  });
});
