import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Workflow,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { batchWorkflow, type BatchInput } from '../workflows/batch';
import { batchWorkflowId, evalWorkflowId, optimizeBatchWorkflowId, providerBatchWorkflowId } from '../common/ids';
import { batchRoomSignal } from '../common/signals';
import { stage4Pass } from '../activities/stage4';
import * as SA from '../common/search-attributes';
import { shapeAttribute } from '../common/shape';
import { instanceId, redact } from '../db/pool';
import { createBatch, findBatch, requireBatch, setBatchBudget, setBatchRoles } from '../db/batches';
import { requestCancel, requestCounts, unpauseRequests, type ProviderBatchRow } from '../db/provider-batches';
import type { Role } from '../prompts/prompt';
import { conversationStates, resetConversations, statusCounts, unreviewedConversations } from '../db/conversations';
import type { Session } from './connection';
import { describeOrUndefined, batchRunning, stuckAttempts } from './batch-status';

/** A batch's lifecycle: started (or attached to), resumed, cancelled, optimised again. */

export interface GenerateOptions {
  batchId: string;
  size: number;
  seed: number;
  concurrency: number;
  provider: string;
  /** Budget cap in USD on what the batch spends in all (`--max-cost`); absent: none, or the one it has. */
  maxCost?: number;
  /** Roles whose calls go through the provider's Batch API (see client/api.ts). */
  batchRoles?: Role[];
}

/**
 * The window's ceiling when --concurrency is not given. The simulated provider answers at once, so the
 * orchestration is the limit and 20 is where its throughput peaks (docs/BENCHMARKS.md); an endpoint's
 * calls take seconds, so the window may grow to 200 while the pace can use them (suggestWindow).
 */
export const defaultConcurrency = (provider: string) => (provider === 'simulated' ? 20 : 200);

/** Sets a batch's budget cap: no paid call starts once its spend reaches it (see Ledger.checkBudget). */
async function setBudget(s: Session, batchId: string, maxCost: number | undefined): Promise<void> {
  if (maxCost !== undefined) await setBatchBudget(s.pool, batchId, maxCost);
}

/**
 * Starts a workflow under a fixed id on its provider's task queue, or attaches to the run of it that is
 * still going (a second command while it runs). Typed by the workflow function, as Temporal's samples do.
 */
export async function startOrAttach<W extends Workflow>(
  s: Session,
  workflow: W,
  workflowId: string,
  input: Parameters<W>[0],
  o: { provider: string; memo?: Record<string, unknown> },
): Promise<{ handle: WorkflowHandle<W>; attached: boolean }> {
  try {
    const options = {
      workflowId,
      taskQueue: s.taskQueueFor(o.provider),
      args: [input],
      memo: o.memo ?? {},
      typedSearchAttributes: [shapeAttribute],
    };
    const handle = await s.client.workflow.start(workflow, options as unknown as WorkflowStartOptions<W>);
    return { handle, attached: false };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    return { handle: s.client.workflow.getHandle<W>(workflowId), attached: true };
  }
}

function startBatchWorkflow(
  s: Session,
  input: BatchInput,
  memo: Record<string, unknown>,
  workflowId = batchWorkflowId(input.batchId),
): Promise<WorkflowHandle> {
  return s.client.workflow.start(batchWorkflow, {
    workflowId,
    taskQueue: s.taskQueueFor(input.provider),
    args: [input],
    typedSearchAttributes: [{ key: SA.BatchId, value: input.batchId }, shapeAttribute],
    memo,
  });
}

/**
 * Starts a batch, or attaches to it while it runs. Its row is written first, so a batch that was never
 * picked up by a worker (no worker, Ctrl-C at once) is still listed, resumable, never a dead end. A batch
 * id that already has a stopped run must be resumed instead.
 */
export async function startOrAttachBatch(
  s: Session,
  o: GenerateOptions,
): Promise<{ handle: WorkflowHandle; attached: boolean }> {
  if (!/^[A-Za-z0-9_.-]+$/.test(o.batchId))
    throw new Error(`--batch ${o.batchId}: use letters, digits, '.', '_' and '-' only`);
  const running = await describeOrUndefined(s, batchWorkflowId(o.batchId));
  if (running?.status.name === 'RUNNING') {
    const stuck = stuckAttempts(running);
    if (stuck)
      throw new Error(
        `batch ${o.batchId} is stuck (its workflow task failed ${stuck} times): \`muse resume ${o.batchId}\` restarts it`,
      );
    return { handle: s.client.workflow.getHandle(batchWorkflowId(o.batchId)), attached: true };
  }
  const existing = await findBatch(s.pool, o.batchId);
  if (existing) {
    const done = (await statusCounts(s.pool, o.batchId)).completed ?? 0;
    throw new Error(
      done >= existing.size
        ? `batch ${o.batchId} already exists and is complete (${done} conversations): \`muse export ${o.batchId}\` writes it, or choose another --batch`
        : `batch ${o.batchId} already exists (${done} of ${existing.size} completed) and is not running: \`muse resume ${o.batchId}\` continues it`,
    );
  }
  const input: BatchInput = {
    batchId: o.batchId,
    size: o.size,
    seed: o.seed,
    concurrency: o.concurrency,
    provider: o.provider,
    ...(o.batchRoles?.length ? { batchRoles: o.batchRoles } : {}),
  };
  await createBatch(s.pool, { ...input, maxCostUsd: o.maxCost });
  try {
    return {
      handle: await startBatchWorkflow(s, input, {
        size: o.size,
        seed: o.seed,
        provider: o.provider,
        concurrency: o.concurrency,
      }),
      attached: false,
    };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError)
      return { handle: s.client.workflow.getHandle(batchWorkflowId(o.batchId)), attached: true };
    throw e;
  }
}

export async function startBatch(s: Session, o: GenerateOptions): Promise<WorkflowHandle> {
  return (await startOrAttachBatch(s, o)).handle;
}

/** Conversations of a batch that did not complete and are not running in Temporal now (unless adopted), and those never created. */
export async function conversationsToResume(
  s: Session,
  batchId: string,
  size: number,
  /** Through the Batch API a conversation outlives its batch's run: one still running is taken over, not skipped. */
  adoptRunning = false,
): Promise<{ indices: number[]; missing: number }> {
  const rows = await conversationStates(s.pool, batchId);
  const indices: number[] = [];
  for (const row of rows) {
    if (row.status === 'completed') continue;
    if (!adoptRunning && (await describeOrUndefined(s, row.conversationId))?.status.name === 'RUNNING') continue;
    indices.push(row.idx);
  }
  const have = new Set(rows.map((row) => row.idx));
  const missing = Array.from({ length: size }, (_, i) => i).filter((i) => !have.has(i));
  return { indices: [...indices, ...missing].sort((a, b) => a - b), missing: missing.length };
}

export type Resumed =
  { handle: WorkflowHandle; attached: boolean; restarted?: string; conversations: number } | undefined;

/**
 * Continues any batch that is not complete: one whose batch workflow failed, was terminated or cancelled,
 * one that was never picked up, and one still running (attached to; restarted when its workflow task keeps
 * failing). Failed, interrupted and never-started conversations run again under their own workflow ids,
 * reusing every stored utterance. With fromScratch, every conversation's stored utterances are dropped
 * first and all are generated again: calls whose prompts did not change are answered from the ledger.
 */
export async function resumeBatch(
  s: Session,
  batchId: string,
  o: { fromScratch?: boolean; maxCost?: number; batchRoles?: Role[] } = {},
): Promise<Resumed> {
  const b = await requireBatch(s.pool, batchId, redact(s.databaseUrl));
  await setBudget(s, batchId, o.maxCost);
  // A resume goes on through the API its batch was started with, unless it is given another.
  const batchRoles = o.batchRoles ?? b.batchRoles;
  if (o.batchRoles) await setBatchRoles(s.pool, batchId, o.batchRoles);
  const d = await describeOrUndefined(s, batchWorkflowId(batchId));
  let restarted: string | undefined;
  // A run on a queue no worker of this database polls (started before queues named their database) waits for ever.
  const elsewhere =
    d?.status.name === 'RUNNING' && d.taskQueue !== s.taskQueueFor(b.provider) ? d.taskQueue : undefined;
  if (elsewhere) {
    restarted = `its run was on task queue ${elsewhere}, which no worker of this database polls, so it was terminated and started again`;
    await s.client.workflow
      .getHandle(batchWorkflowId(batchId))
      .terminate(`muse resume: moved from task queue ${elsewhere} to ${s.taskQueueFor(b.provider)}`);
  } else if (d?.status.name === 'RUNNING') {
    const stuck = stuckAttempts(d);
    if (!stuck) {
      if (o.fromScratch)
        throw new Error(`batch ${batchId} is running: \`muse cancel ${batchId}\` first, then resume it --from-scratch`);
      return { handle: s.client.workflow.getHandle(batchWorkflowId(batchId)), attached: true, conversations: 0 };
    }
    restarted = `its run was stuck (workflow task failed ${stuck} times), so it was terminated and started again`;
    await s.client.workflow
      .getHandle(batchWorkflowId(batchId))
      .terminate(`muse resume: workflow task failed ${stuck} times`);
  }
  if (o.fromScratch) {
    await resetConversations(s.pool, batchId);
  }
  const { indices, missing } = await conversationsToResume(s, batchId, b.size, batchRoles.length > 0);
  if (indices.length === 0) return undefined;
  const input: BatchInput = {
    batchId,
    size: b.size,
    seed: Number(b.seed),
    concurrency: b.concurrency,
    provider: b.provider,
    indices,
    ...(missing ? { prepare: true } : {}),
    ...(batchRoles.length ? { batchRoles } : {}),
  };
  // Requests paused at the budget cap go back to the queue: the activities that asked for them queue them again.
  await unpauseRequests(s.pool, batchId);
  return {
    handle: await startBatchWorkflow(s, input, { resume: indices.length }),
    attached: false,
    restarted,
    conversations: indices.length,
  };
}

/**
 * Stops a running batch (and its `muse optimize` run): Temporal cancels the conversations in flight,
 * every finished conversation and every stored utterance stays, and `muse resume` continues from there.
 */
export async function cancelBatch(
  s: Session,
  batchId: string,
  cancelAtProvider: (row: ProviderBatchRow) => Promise<void> = async () => {},
): Promise<string[]> {
  // Not a batch: a stage-1, stage-2 or eval run that sent provider batches (its id is its workflow's,
  // an evaluation's workflow is named by it).
  const batch = await findBatch(s.pool, batchId);
  if (!batch && !Object.keys(await requestCounts(s.pool, batchId)).length)
    await requireBatch(s.pool, batchId, redact(s.databaseUrl));
  const cancelled: string[] = [];
  // Its provider batches too: marked first (their workflows pass the cancel on at the next poll and keep
  // what was answered), then told to the provider at once.
  const open = await requestCancel(s.pool, batchId);
  for (const row of open.filter((r) => r.provider_batch_id)) {
    await cancelAtProvider(row);
    cancelled.push(`provider batch ${row.provider_batch_id}`);
  }
  // Those still waiting for their place in the provider's queue hear it now, not at their next look.
  const database = await instanceId(s.pool);
  for (const row of open.filter((r) => !r.provider_batch_id && r.status === 'planned'))
    await s.client.workflow
      .getHandle(providerBatchWorkflowId(database, row.id))
      .signal(batchRoomSignal)
      .catch((e) => {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
      });
  const workflows = batch
    ? [batchWorkflowId(batchId), optimizeBatchWorkflowId(batchId)]
    : [batchId, evalWorkflowId(batchId)];
  for (const id of workflows) {
    if (!(await batchRunning(s, batchId, id))) continue;
    await s.client.workflow.getHandle(id).cancel();
    cancelled.push(id);
  }
  return cancelled;
}

/**
 * Stage 4 again for every completed conversation of a batch that has no review from the current prompt
 * versions (the pass): `muse optimize` after a prompt's version was bumped. Stored rewrites and reviews
 * of this pass are reused, so a second run, or a run with unchanged prompts, calls no agent.
 */
export async function optimizeBatch(
  s: Session,
  batchId: string,
  o: { concurrency?: number; maxCost?: number; batchRoles?: Role[] } = {},
): Promise<{ handle?: WorkflowHandle; pass: string; todo: number }> {
  const b = await requireBatch(s.pool, batchId, redact(s.databaseUrl));
  await setBudget(s, batchId, o.maxCost);
  if (await batchRunning(s, batchId))
    throw new Error(
      `batch ${batchId} is still generating: optimise it once it has ended (\`muse status ${batchId}\` shows how far it is)`,
    );
  const pass = stage4Pass();
  const workflowId = optimizeBatchWorkflowId(batchId);
  if (await batchRunning(s, batchId, workflowId))
    return { handle: s.client.workflow.getHandle(workflowId), pass, todo: -1 };
  const indices = await unreviewedConversations(s.pool, batchId, pass);
  if (indices.length === 0) return { pass, todo: 0 };
  const input: BatchInput = {
    batchId,
    size: b.size,
    seed: Number(b.seed),
    concurrency: o.concurrency ?? b.concurrency,
    provider: b.provider,
    indices,
    job: 'optimize',
    ...(o.batchRoles?.length ? { batchRoles: o.batchRoles } : {}),
  };
  const handle = await startBatchWorkflow(s, input, { optimize: indices.length, pass }, workflowId);
  return { handle, pass, todo: indices.length };
}
