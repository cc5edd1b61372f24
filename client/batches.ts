import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { BatchInput, BatchProgress } from '../workflows/batch';
import { batchWorkflowId, optimizeBatchWorkflowId } from '../workflows/ids';
import { stage4Pass } from '../activities/stage4';
import * as SA from '../workflows/search-attributes';
import { inTransaction } from '../db/pool';
import type { Session } from './connection';
import { ProgressLine } from './progress';

export interface GenerateOptions {
  batchId: string;
  size: number;
  seed: number;
  concurrency: number;
  provider: string;
}

async function batchRunning(s: Session, batchId: string, workflowId = batchWorkflowId(batchId)): Promise<boolean> {
  try {
    return (await s.client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    throw e;
  }
}

/** Starts a workflow under a fixed id, or attaches to the run of it that is still going (a second command while it runs). */
export async function startOrAttach(s: Session, type: string, workflowId: string, input: unknown, memo: Record<string, unknown> = {}): Promise<{ handle: WorkflowHandle; attached: boolean }> {
  try {
    return { handle: await s.client.workflow.start(type, { workflowId, taskQueue: s.taskQueue, args: [input], memo }), attached: false };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    return { handle: s.client.workflow.getHandle(workflowId), attached: true };
  }
}

/** Starts a batch; a batch id that already has conversations must be resumed instead. */
export async function startBatch(s: Session, o: GenerateOptions): Promise<WorkflowHandle> {
  if (!/^[A-Za-z0-9_.-]+$/.test(o.batchId)) throw new Error(`--batch ${o.batchId}: use letters, digits, '.', '_' and '-' only`);
  if (await batchRunning(s, o.batchId)) return s.client.workflow.getHandle(batchWorkflowId(o.batchId));
  const existing = (await s.pool.query('SELECT size FROM batches WHERE id = $1', [o.batchId])).rows[0];
  if (existing) throw new Error(`batch ${o.batchId} already exists (${existing.size} conversations): see \`muse status ${o.batchId}\` or \`muse resume ${o.batchId}\``);
  const input: BatchInput = { batchId: o.batchId, size: o.size, seed: o.seed, concurrency: o.concurrency, provider: o.provider };
  try {
    return await s.client.workflow.start('batchWorkflow', {
      workflowId: batchWorkflowId(o.batchId),
      taskQueue: s.taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: SA.BatchId, value: o.batchId }],
      memo: { size: o.size, seed: o.seed, provider: o.provider, concurrency: o.concurrency },
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return s.client.workflow.getHandle(batchWorkflowId(o.batchId));
    throw e;
  }
}

/**
 * Shows progress until the batch ends, or until `detach` resolves (Ctrl-C): the batch itself runs in
 * Temporal and does not notice either way.
 */
export async function watchBatch(handle: WorkflowHandle, label: string, detach: Promise<void> = new Promise(() => {})): Promise<BatchProgress | 'detached'> {
  const line = new ProgressLine(label);
  let detached = false;
  void detach.then(() => { detached = true; });
  const result = handle.result() as Promise<BatchProgress>;
  let finished: BatchProgress | undefined;
  let failed: unknown;
  void result.then((r) => { finished = r; }, (e) => { failed = e ?? new Error('the batch workflow failed'); });
  try {
    while (!finished && !failed && !detached) {
      try {
        line.update(await handle.query<BatchProgress>('progress'));
      } catch {
        // The query fails while the batch hands over to its next run (continue-as-new): try again.
      }
      await Promise.race([new Promise((r) => setTimeout(r, 500)), result.catch(() => {}), detach]);
    }
    if (failed) throw new Error(`batch workflow ${handle.workflowId} failed: ${rootCause(failed)}`);
    if (detached) return 'detached';
    line.update(finished!);
    return finished!;
  } finally {
    line.end();
  }
}

function rootCause(e: unknown): string {
  let c = e as { message?: string; cause?: unknown };
  while (c.cause) c = c.cause as typeof c;
  return c.message ?? String(e);
}

/** Conversations of a batch that did not complete and are not running in Temporal now. */
export async function conversationsToResume(s: Session, batchId: string): Promise<number[]> {
  const r = await s.pool.query(`SELECT idx, id FROM conversations WHERE batch_id = $1 AND status <> 'completed' ORDER BY idx`, [batchId]);
  const out: number[] = [];
  for (const row of r.rows) {
    try {
      if ((await s.client.workflow.getHandle(row.id).describe()).status.name === 'RUNNING') continue;
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
    out.push(row.idx);
  }
  return out;
}

/**
 * Restarts every failed, terminated, timed-out or never-started conversation under its own workflow id.
 * With fromScratch, every conversation's stored utterances are dropped first and all are generated
 * again: calls whose prompts did not change are answered from the ledger, so only changes cost.
 */
export async function resumeBatch(s: Session, batchId: string, o: { fromScratch?: boolean } = {}): Promise<WorkflowHandle | undefined> {
  const b = (await s.pool.query('SELECT id, seed, size, concurrency, provider FROM batches WHERE id = $1', [batchId])).rows[0];
  if (!b) throw new Error(`no batch ${batchId} in the database`);
  if (await batchRunning(s, batchId)) throw new Error(`batch ${batchId} is still running; resume it once it has ended (or terminate it in the Web UI)`);
  if (o.fromScratch) {
    await inTransaction(s.pool, async (c) => {
      // Rewrites go with their utterances (ON DELETE CASCADE); reviews are per conversation.
      await c.query('DELETE FROM utterances WHERE conversation_id IN (SELECT id FROM conversations WHERE batch_id = $1)', [batchId]);
      await c.query('DELETE FROM reviews WHERE conversation_id IN (SELECT id FROM conversations WHERE batch_id = $1)', [batchId]);
      await c.query(`UPDATE conversations SET status = 'pending', image_opening = NULL, opening = NULL, outcome = NULL, failure = NULL,
        started_at = NULL, finished_at = NULL, review_pass = NULL WHERE batch_id = $1`, [batchId]);
    });
  }
  const indices = await conversationsToResume(s, batchId);
  if (indices.length === 0) return undefined;
  const input: BatchInput = { batchId, size: b.size, seed: Number(b.seed), concurrency: b.concurrency, provider: b.provider, indices };
  return s.client.workflow.start('batchWorkflow', {
    workflowId: batchWorkflowId(batchId),
    taskQueue: s.taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: SA.BatchId, value: batchId }],
    memo: { resume: indices.length },
  });
}

/**
 * Stage 4 again for every completed conversation of a batch that has no review from the current prompt
 * versions (the pass): `muse optimize` after a prompt's version was bumped. Stored rewrites and reviews
 * of this pass are reused, so a second run, or a run with unchanged prompts, calls no agent.
 */
export async function optimizeBatch(s: Session, batchId: string, o: { concurrency?: number } = {}): Promise<{ handle?: WorkflowHandle; pass: string; todo: number }> {
  const b = (await s.pool.query('SELECT id, seed, size, concurrency, provider FROM batches WHERE id = $1', [batchId])).rows[0];
  if (!b) throw new Error(`no batch ${batchId} in the database`);
  if (await batchRunning(s, batchId)) throw new Error(`batch ${batchId} is still generating; optimise it once it has ended`);
  const pass = stage4Pass();
  const workflowId = optimizeBatchWorkflowId(batchId);
  if (await batchRunning(s, batchId, workflowId)) return { handle: s.client.workflow.getHandle(workflowId), pass, todo: -1 };
  const indices = (await s.pool.query(
    `SELECT idx FROM conversations c WHERE batch_id = $1 AND status = 'completed'
       AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.conversation_id = c.id AND r.pass = $2 AND c.review_pass = $2) ORDER BY idx`,
    [batchId, pass])).rows.map((r) => r.idx as number);
  if (indices.length === 0) return { pass, todo: 0 };
  const input: BatchInput = { batchId, size: b.size, seed: Number(b.seed), concurrency: o.concurrency ?? b.concurrency, provider: b.provider, indices, job: 'optimize' };
  const handle = await s.client.workflow.start('batchWorkflow', {
    workflowId,
    taskQueue: s.taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: SA.BatchId, value: batchId }],
    memo: { optimize: indices.length, pass },
  });
  return { handle, pass, todo: indices.length };
}

export interface BatchStatus {
  batchId: string;
  size: number;
  provider: string;
  seed: number;
  workflow: string;
  counts: Record<string, number>;
  failures: Array<{ conversationId: string; reason: string }>;
}

export async function batchStatus(s: Session, batchId: string): Promise<BatchStatus> {
  const b = (await s.pool.query('SELECT size, provider, seed FROM batches WHERE id = $1', [batchId])).rows[0];
  if (!b) throw new Error(`no batch ${batchId} in the database`);
  const counts = Object.fromEntries(
    (await s.pool.query('SELECT status, count(*)::int AS n FROM conversations WHERE batch_id = $1 GROUP BY status', [batchId])).rows.map((r) => [r.status, r.n]),
  );
  const failures = (await s.pool.query(
    `SELECT id, failure FROM conversations WHERE batch_id = $1 AND status = 'failed' ORDER BY idx`, [batchId])).rows.map((r) => ({ conversationId: r.id, reason: r.failure ?? '(no reason recorded)' }));
  let workflow = 'not found';
  try {
    workflow = (await s.client.workflow.getHandle(batchWorkflowId(batchId)).describe()).status.name;
  } catch (e) {
    if (!(e instanceof WorkflowNotFoundError)) throw e;
  }
  return { batchId, size: b.size, provider: b.provider, seed: Number(b.seed), workflow, counts, failures };
}
