import { WorkflowNotFoundError } from '@temporalio/client';
import { type BatchProgress } from '../workflows/batch';
import { batchWorkflowId } from '../common/ids';
import { innermostMessage } from '../common/failures';
import { redact } from '../db/pool';
import { newestBatches, requireBatch } from '../db/batches';
import {
  CLOSED,
  providerBatchesOf,
  refusedRequests,
  requestCounts,
  requestsSentOnFrom,
  type ProviderBatchRow,
} from '../db/provider-batches';
import { failedConversations, statusCounts } from '../db/conversations';
import type { Session } from './connection';

/** What a batch or run is doing and why: `muse status`, `muse batches`, and the provider batches' lines. */

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

export async function describeOrUndefined(s: Session, workflowId: string) {
  try {
    return await s.client.workflow.getHandle(workflowId).describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

export async function batchRunning(
  s: Session,
  batchId: string,
  workflowId = batchWorkflowId(batchId),
): Promise<boolean> {
  return (await describeOrUndefined(s, workflowId))?.status.name === 'RUNNING';
}

/** A running workflow whose workflow task keeps failing makes no progress: only a fresh run helps. */
const STUCK_TASK_ATTEMPTS = 3;
export const stuckAttempts = (d: Awaited<ReturnType<typeof describeOrUndefined>>) => {
  const attempt = d?.status.name === 'RUNNING' ? (d.raw.pendingWorkflowTask?.attempt ?? 0) : 0;
  return attempt >= STUCK_TASK_ATTEMPTS ? attempt : 0;
};

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
      .then(() => 'unknown', innermostMessage);
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
