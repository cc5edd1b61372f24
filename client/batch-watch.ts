import { CancelledFailure, type WorkflowHandle } from '@temporalio/client';
import { progressQuery, type BatchProgress } from '../workflows/batch';
import { findCause, innermostMessage } from '../common/failures';
import { batchTokens, findBatch } from '../db/batches';
import { providerBatchesOf } from '../db/provider-batches';
import type { Session } from './connection';
import { ProgressLine } from './progress';
import { summarizeProviderBatches } from './batch-status';

/** Watching a run: its progress line until it ends, and what it has spent. */

/** "12,345 tokens · $0.0123 of $1.00": for the progress line, from the batch row and the ledger. */
export async function batchSpend(s: Session, batchId: string): Promise<string> {
  const b = await findBatch(s.pool, batchId);
  const tokens = b ? await batchTokens(s.pool, batchId) : 0;
  const api = summarizeProviderBatches(await providerBatchesOf(s.pool, batchId));
  if (!b || (tokens === 0 && !api)) return api;
  return [
    `${tokens.toLocaleString('en')} tokens · $${b.spentUsd.toFixed(4)}${b.maxCostUsd === null ? '' : ` of $${b.maxCostUsd.toFixed(2)}`}`,
    api,
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * Shows progress until the batch ends, or until `detach` resolves (Ctrl-C): the batch itself runs in
 * Temporal and does not notice either way.
 */
export async function watchBatch(
  handle: WorkflowHandle,
  label: string,
  detach: Promise<void> = new Promise(() => {}),
  next?: string,
  spend?: () => Promise<string>,
): Promise<BatchProgress | 'detached'> {
  const line = new ProgressLine(label);
  let spentAt = 0;
  let detached = false;
  void detach.then(() => {
    detached = true;
  });
  const result = handle.result() as Promise<BatchProgress>;
  let finished: BatchProgress | undefined;
  let failed: unknown;
  void result.then(
    (r) => {
      finished = r;
    },
    (e) => {
      failed = e ?? new Error('the batch workflow failed');
    },
  );
  // A query waits for a worker to answer it: with none running it would hold Ctrl-C for its whole
  // timeout, so at most one is in flight and the loop never waits on it.
  let asking: Promise<void> | undefined;
  let watching = true;
  try {
    while (!finished && !failed && !detached) {
      asking ??= handle
        .query(progressQuery)
        .then(
          (p) => {
            if (watching) line.update(p);
          },
          () => {
            // The query fails while the batch hands over to its next run (continue-as-new): ask again.
          },
        )
        .finally(() => {
          asking = undefined;
        });
      if (spend && Date.now() - spentAt > 5000) {
        spentAt = Date.now();
        line.spend = await spend().catch(() => line.spend);
      }
      await Promise.race([new Promise((r) => setTimeout(r, 500)), result.catch(() => {}), detach]);
    }
    if (failed && isCancellation(failed))
      throw new Error(`${handle.workflowId} was cancelled; what it finished is kept`);
    if (failed) throw new Error(`${handle.workflowId} failed: ${innermostMessage(failed)}${next ? `; ${next}` : ''}`);
    if (detached) return 'detached';
    line.update(finished!);
    return finished!;
  } finally {
    watching = false;
    line.end();
  }
}

const isCancellation = (e: unknown) => !!findCause(e, (c): c is CancelledFailure => c instanceof CancelledFailure);
