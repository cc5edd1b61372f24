import {
  CancelledFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Workflow,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { batchWorkflow, progressQuery, type BatchInput, type BatchProgress } from '../workflows/batch';
import { batchWorkflowId, evalWorkflowId, optimizeBatchWorkflowId, providerBatchWorkflowId } from '../common/ids';
import { batchRoomSignal } from '../common/signals';
import { findCause } from '../common/failures';
import { stage4Pass } from '../activities/stage4';
import * as SA from '../common/search-attributes';
import { shapeAttribute } from '../common/shape';
import { instanceId, redact } from '../db/pool';
import {
  batchTokens,
  createBatch,
  findBatch,
  newestBatches,
  requireBatch,
  setBatchBudget,
  setBatchRoles,
} from '../db/batches';
import {
  CLOSED,
  providerBatchesOf,
  refusedRequests,
  requestCancel,
  requestCounts,
  requestsSentOnFrom,
  unpauseRequests,
  type ProviderBatchRow,
} from '../db/provider-batches';
import type { Role } from '../prompts/prompt';
import {
  conversationStates,
  failedConversations,
  resetConversations,
  statusCounts,
  unreviewedConversations,
} from '../db/conversations';
import type { Session } from './connection';
import { ProgressLine } from './progress';

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
 * A run's provider batches in a few words, with the provider's own counts for those still open:
 * "API batches: 1 in_progress 40/120 (2 failed), 3 done".
 */
export function summarizeProviderBatches(rows: ProviderBatchRow[]): string {
  if (!rows.length) return '';
  const open = rows.filter((r) => !CLOSED.includes(r.status));
  const parts = open.map((r) => {
    const c = r.counts ?? {};
    const state = r.status === 'planned' && !r.admitted_at ? 'waiting for queue room' : r.status;
    return `${state}${c.total ? ` ${c.completed ?? 0}/${c.total}` : ''}${c.failed ? ` (${c.failed} failed)` : ''}`;
  });
  const done = rows.filter((r) => r.status === 'ingested').length;
  const paused = rows.filter((r) => r.status === 'paused').length;
  const abandoned = rows.filter((r) => r.status === 'abandoned').length;
  if (done) parts.push(`${done} done`);
  if (paused) parts.push(`${paused} paused at the budget cap`);
  if (abandoned) parts.push(`${abandoned} abandoned`);
  return `API batches: ${parts.join(', ')}`;
}

/** One line per provider batch of a run, for `muse status`. */
export function describeProviderBatch(r: ProviderBatchRow, sentOn: SentOn = []): string {
  const c = r.counts ?? {};
  // Once ingested, the provider's last word on it (expired, cancelled, failed) is what a reader needs.
  const state =
    r.status === 'ingested' && r.final_status && r.final_status !== 'completed'
      ? `${r.final_status} (ingested)`
      : r.status === 'planned' && !r.provider_batch_id
        ? r.admitted_at
          ? `being sent (its place in the provider's queue taken: ${Math.round(r.tokens).toLocaleString('en-US')} tokens)`
          : `waiting for room in the provider's queue (${Math.round(r.tokens).toLocaleString('en-US')} tokens)`
        : r.status;
  const again = sentOn.length
    ? `${sentOn.reduce((n, x) => n + x.n, 0)} of its requests sent again: ${sentOn
        .map((x) => (x.batch === null ? `${x.n} ${x.status}` : `${x.n} ${x.status} in provider batch ${x.batch}`))
        .join(', ')}`
    : '';
  return [
    `provider batch ${r.id}${r.provider_batch_id ? ` (${r.provider_batch_id})` : ''}: ${state}`,
    `${r.requests} requests, ${(r.bytes / 1e6).toFixed(1)} MB, ${r.model}`,
    c.total ? `${c.completed ?? 0}/${c.total} completed, ${c.failed ?? 0} failed` : '',
    again,
    r.deferrals
      ? `refused ${r.deferrals} time${r.deferrals > 1 ? 's' : ''} for the provider's queue limit and sent again (last: ${r.deferred_error})`
      : '',
    r.cancel_requested ? 'cancel asked for' : '',
    r.error ? `error: ${r.error}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** What the Batch API did for a run: a batch, an evaluation, or a stage-1 or stage-2 workflow. */
export interface ApiRunStatus {
  /** Its provider batches, newest first. */
  providerBatches: ProviderBatchRow[];
  /** Its requests by status. */
  requests: Record<string, number>;
  /** The first requests the Batch API could not answer, with the error their unit failed with. */
  refused: Array<{ agent: string; call_key: string; error: string }>;
  /** For each expired, cancelled or failed provider batch, where its requests went after it. */
  sentOn: Map<number, SentOn>;
}

/** Refused requests `muse status` lists. */
const REFUSED_LISTED = 10;

/** Where the requests of an expired, cancelled or failed provider batch went: the batches that sent them again. */
type SentOn = Awaited<ReturnType<typeof requestsSentOnFrom>>;

export async function apiRunStatus(s: Session, runId: string): Promise<ApiRunStatus> {
  const providerBatches = await providerBatchesOf(s.pool, runId);
  const sentOn = new Map<number, SentOn>();
  for (const b of providerBatches)
    if (b.final_status && b.final_status !== 'completed') sentOn.set(b.id, await requestsSentOnFrom(s.pool, b.id));
  return {
    providerBatches,
    sentOn,
    requests: await requestCounts(s.pool, runId),
    refused: await refusedRequests(s.pool, runId, REFUSED_LISTED),
  };
}

/** `muse status`'s lines for a run's Batch API requests ([] when it sent none). */
export function describeApiRun(a: ApiRunStatus): string[] {
  if (!Object.keys(a.requests).length) return [];
  const failed = a.requests.failed ?? 0;
  return [
    `Batch API requests: ${Object.entries(a.requests)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    ...a.providerBatches.map((b) => `  ${describeProviderBatch(b, a.sentOn.get(b.id))}`),
    ...a.refused.map((r) => `  refused ${r.agent} ${r.call_key}: ${r.error}`),
    ...(failed > a.refused.length ? [`  … and ${failed - a.refused.length} more refused`] : []),
  ];
}

async function describeOrUndefined(s: Session, workflowId: string) {
  try {
    return await s.client.workflow.getHandle(workflowId).describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

async function batchRunning(s: Session, batchId: string, workflowId = batchWorkflowId(batchId)): Promise<boolean> {
  return (await describeOrUndefined(s, workflowId))?.status.name === 'RUNNING';
}

/** A running workflow whose workflow task keeps failing makes no progress: only a fresh run helps. */
const STUCK_TASK_ATTEMPTS = 3;
const stuckAttempts = (d: Awaited<ReturnType<typeof describeOrUndefined>>) => {
  const attempt = d?.status.name === 'RUNNING' ? (d.raw.pendingWorkflowTask?.attempt ?? 0) : 0;
  return attempt >= STUCK_TASK_ATTEMPTS ? attempt : 0;
};

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
    if (failed) throw new Error(`${handle.workflowId} failed: ${rootCause(failed)}${next ? `; ${next}` : ''}`);
    if (detached) return 'detached';
    line.update(finished!);
    return finished!;
  } finally {
    watching = false;
    line.end();
  }
}

const isCancellation = (e: unknown) => !!findCause(e, (c): c is CancelledFailure => c instanceof CancelledFailure);

function rootCause(e: unknown): string {
  let c = e as { message?: string; cause?: unknown };
  while (c.cause) c = c.cause as typeof c;
  return c.message ?? String(e);
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

export interface BatchStatus extends ApiRunStatus {
  batchId: string;
  size: number;
  provider: string;
  seed: number;
  workflow: string;
  /** Why the batch workflow is not getting on: its failure, a stuck workflow task, no worker polling. */
  problem?: string;
  counts: Record<string, number>;
  failures: Array<{ conversationId: string; reason: string }>;
}

/** Whether any worker polled the task queue lately: a running batch with none waits for ever. */
async function hasPollers(s: Session, taskQueue: string): Promise<boolean> {
  const r = await s.client.workflowService.describeTaskQueue({
    namespace: s.client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1,
  });
  // The server lists a poller for minutes after it last polled; a live one long-polls at least every ~70 s.
  const recent = (p: (typeof r.pollers)[number]) => Date.now() - Number(p.lastAccessTime?.seconds ?? 0) * 1000 < 90_000;
  return (r.pollers ?? []).some(recent);
}

/** What keeps a batch workflow from getting on, in one line with what to run, or undefined when nothing does. */
async function problemOf(
  s: Session,
  batchId: string,
  provider: string,
  d: Awaited<ReturnType<typeof describeOrUndefined>>,
): Promise<string | undefined> {
  if (!d) return `no batch workflow was ever started: \`muse resume ${batchId}\` starts it`;
  const status = d.status.name;
  if (status === 'RUNNING') {
    const stuck = stuckAttempts(d);
    if (stuck)
      return `its workflow task has failed ${stuck} times (see the Web UI): \`muse resume ${batchId}\` restarts it`;
    if (d.taskQueue !== s.taskQueueFor(provider))
      return `it runs on task queue ${d.taskQueue}, which no worker of this database polls: \`muse resume ${batchId}\` moves it`;
    if (!(await hasPollers(s, d.taskQueue))) {
      return `no worker is polling task queue ${d.taskQueue}: start \`muse worker\`${provider === 'openai' ? ' with the openai settings' : ''}, or \`muse resume ${batchId}\` runs one`;
    }
    return undefined;
  }
  if (status === 'FAILED') {
    const why = await s.client.workflow
      .getHandle(batchWorkflowId(batchId))
      .result()
      .then(() => 'unknown', rootCause);
    return `the batch workflow failed: ${why}; fix that, then \`muse resume ${batchId}\``;
  }
  if (status === 'COMPLETED') {
    const r = (await s.client.workflow.getHandle(batchWorkflowId(batchId)).result()) as BatchProgress;
    return r.paused ? `paused: ${r.paused}` : undefined;
  }
  return `the batch workflow was ${status.toLowerCase().replace('_', ' ')}: \`muse resume ${batchId}\` continues it`;
}

export async function batchStatus(s: Session, batchId: string): Promise<BatchStatus> {
  const b = await requireBatch(s.pool, batchId, redact(s.databaseUrl));
  const counts: Record<string, number> = await statusCounts(s.pool, batchId);
  const failures = await failedConversations(s.pool, batchId);
  const d = await describeOrUndefined(s, batchWorkflowId(batchId));
  const made = Object.values(counts).reduce((a, n) => a + n, 0);
  if (made < b.size) counts['not created'] = b.size - made;
  return {
    batchId,
    size: b.size,
    provider: b.provider,
    seed: Number(b.seed),
    workflow: d?.status.name ?? 'not found',
    problem: await problemOf(s, batchId, b.provider, d),
    counts,
    failures,
    ...(await apiRunStatus(s, batchId)),
  };
}

export interface BatchRow {
  batchId: string;
  state: string;
  size: number;
  completed: number;
  failed: number;
  createdAt: Date;
  provider: string;
  /** Its provider batches in a few words ('' when it has none). */
  apiBatches: string;
}

/** The newest batches with their state: the batch workflow's status, or complete / resumable once it has ended. */
export async function listBatches(s: Session, limit = 50): Promise<BatchRow[]> {
  const rows = await newestBatches(s.pool, limit);
  return Promise.all(
    rows.map(async (r) => {
      const d = await describeOrUndefined(s, batchWorkflowId(r.batchId));
      const wf = d?.status.name;
      const paused =
        wf === 'COMPLETED' &&
        r.completed < r.size &&
        ((await s.client.workflow.getHandle(batchWorkflowId(r.batchId)).result()) as BatchProgress).paused;
      const state =
        wf === 'RUNNING'
          ? stuckAttempts(d)
            ? 'stuck'
            : 'running'
          : r.completed >= r.size
            ? 'complete'
            : paused
              ? 'paused (budget cap)'
              : `resumable (${wf ? wf.toLowerCase() : 'never started'})`;
      return { ...r, state, apiBatches: summarizeProviderBatches(await providerBatchesOf(s.pool, r.batchId)) };
    }),
  );
}
