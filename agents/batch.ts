import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { FailureType } from '../schemas/failures';
import { instanceId, type Pool } from '../db/pool';
import { budgetOf, type LedgerRow } from '../db/ledger';
import {
  admitProviderBatch,
  committedWorstCase,
  deferProviderBatch,
  enqueueBatchRequest,
  inProviderBatch,
  providerBatch,
  reopenAbandonedBatch,
  requestFileOf,
  requestsOf,
  settleRequests,
  storeAnswers,
  CLOSED,
  TERMINAL,
  triesOf,
  updateProviderBatch,
  type ProviderBatchRow,
  type RequestLine,
} from '../db/provider-batches';
import { answeredOutput } from '../db/ledger';
import { PROMPTS } from '../prompts';
import type { Role } from '../prompts/prompt';
import type { BatchSettings } from './config';
import { costUsd, type PriceTable } from './prices';
import { estimateTokens, parseReply, type ImageRef, type RoleEndpoint } from './wire';
import { classify, retryableStatus } from './transport';
import {
  BATCH_ERROR_CODES,
  classifyBatchFailure,
  deferWaitSeconds,
  enqueuedTokenLimit,
  type BatchError,
} from './batch-policy';
import type { AgentName } from '../schemas/agent-calls';

/**
 * Tells the run's collector (started if it is not running) that requests were queued. The worker hands
 * it in (activities/collector.ts): starting a workflow is the layer above's business, not an agent's.
 */
export type StartCollector = (activity: Context, runId: string, settings: BatchSettings) => Promise<void>;

/** A reply's allowance in the worst case --max-cost counts before a batch is sent (no max_tokens is set). */
export const WORST_CASE_REPLY_TOKENS = 1_000;

type ImagePart = (ref: ImageRef) => Promise<OpenAI.Chat.Completions.ChatCompletionContentPartImage>;

/** What the provider answered for one line of the request file, as its output and error files give it. */
interface ResultLine {
  custom_id: string;
  response?: { status_code: number; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

/**
 * The provider's Batch API (OpenAI's /v1/files and /v1/batches) inside the durable workflows: an activity's
 * call is queued here (`ask`), a collector plans the queue into provider batches, and each batch's workflow
 * submits, polls and ingests it through the methods below, each idempotent over what PostgreSQL holds.
 */
export class BatchApi {
  private readonly nudges = new Map<string, Promise<void>>();
  constructor(
    private readonly o: {
      endpoints: Record<Role, RoleEndpoint>;
      clients: Map<Role, OpenAI>;
      pool?: Pool;
      prices: PriceTable;
      settings: BatchSettings;
      image: ImagePart;
      startCollector?: StartCollector;
    },
  ) {}

  get settings(): BatchSettings {
    return this.o.settings;
  }

  private get pool(): Pool {
    if (!this.o.pool)
      throw ApplicationFailure.nonRetryable(
        'the Batch API needs the database (the worker was built without a pool)',
        FailureType.Configuration,
      );
    return this.o.pool;
  }

  /**
   * Queues one request for a provider batch and throws AwaitingBatch, or returns its answer when the
   * ledger has it. Called inside an activity: the workflow that ran it waits for the answer, and the
   * collector of the run is signalled (once per burst of requests) to plan a batch.
   */
  async ask(a: {
    base: Omit<LedgerRow, 'status' | 'ask' | 'latencyMs'>;
    body: { messages: Array<{ role: string; content: unknown }> } & Record<string, unknown>;
    agent: AgentName;
    activity: Context | undefined;
  }): Promise<unknown> {
    if (!a.activity)
      throw ApplicationFailure.nonRetryable(
        `${a.agent}: the Batch API is used from a workflow's activity only`,
        FailureType.Configuration,
      );
    const requester = a.activity.info.workflowExecution?.workflowId ?? a.base.callKey;
    const runId = a.base.batchId ?? requester;
    // Asked again while its batch is at the provider (every signal wakes all of a workflow's waiting
    // units): nothing to write, and no image to read for the request's size.
    if (await inProviderBatch(this.pool, a.base.contentHash, requester)) throw this.awaiting(a.agent, runId);
    const line = await this.line(a.base.contentHash, a.body);
    const requesterRun = a.activity.info.workflowExecution?.runId ?? requester;
    const reopened = await reopenAbandonedBatch(this.pool, a.base.contentHash, requesterRun);
    const r = await enqueueBatchRequest(this.pool, {
      contentHash: a.base.contentHash,
      runId,
      requester,
      conversationId: a.base.conversationId,
      batchId: a.base.batchId,
      callKey: a.base.callKey,
      agent: a.agent,
      role: a.base.role,
      baseUrl: a.base.baseUrl,
      model: a.base.model,
      promptVersion: a.base.promptVersion,
      body: a.body,
      bytes: Buffer.byteLength(line) + 1,
      estimateTokens: estimateTokens(a.body.messages as OpenAI.Chat.Completions.ChatCompletionMessageParam[]),
      requesterRun,
    });
    if (r.status === 'answered') {
      const stored = await answeredOutput(this.pool, a.base.contentHash);
      if (stored !== undefined) return stored;
    }
    if (r.status === 'failed')
      throw ApplicationFailure.nonRetryable(
        `${a.agent}: the Batch API could not answer it: ${r.error}`,
        FailureType.BatchRequestFailed,
      );
    if (r.status === 'paused')
      throw ApplicationFailure.nonRetryable(
        r.error ?? `run ${runId} is paused at its budget cap`,
        FailureType.BudgetExceeded,
      );
    if (r.status === 'queued') await this.nudge(a.activity, runId);
    // The collector of the batch's own run starts its workflow again (the run may have another id now).
    if (reopened) await this.nudge(a.activity, reopened.runId);
    throw this.awaiting(a.agent, runId);
  }

  private awaiting(agent: AgentName, runId: string): ApplicationFailure {
    return ApplicationFailure.nonRetryable(
      `${agent}: queued for the Batch API (run ${runId}); the workflow waits for its provider batch`,
      FailureType.AwaitingBatch,
    );
  }

  /** One signal to the run's collector for every request queued within 100 ms, awaited by each of them. */
  private nudge(activity: Context, runId: string): Promise<void> {
    let p = this.nudges.get(runId);
    if (!p) {
      p = new Promise<void>((r) => setTimeout(r, 100)).then(async () => {
        this.nudges.delete(runId);
        if (!this.o.startCollector)
          throw ApplicationFailure.nonRetryable(
            'the Batch API needs a worker that starts collectors (this provider was built without one)',
            FailureType.Configuration,
          );
        await this.o.startCollector(activity, runId, this.o.settings);
      });
      this.nudges.set(runId, p);
      p.catch(() => this.nudges.delete(runId));
    }
    return p;
  }

  /** A request as a line of the request file: images as data URLs (or their http(s) URLs), read now. */
  private async line(
    customId: string,
    body: Record<string, unknown>,
    images?: Map<string, ReturnType<ImagePart>>,
  ): Promise<string> {
    const image = (ref: ImageRef) => {
      if (!images) return this.o.image(ref);
      const key = JSON.stringify(ref);
      if (!images.has(key)) images.set(key, this.o.image(ref));
      return images.get(key)!;
    };
    const messages = await Promise.all(
      (body.messages as Array<{ role: string; content: unknown }>).map(async (m) => ({
        ...m,
        content: Array.isArray(m.content)
          ? await Promise.all(
              m.content.map((p: { type: string; image_url?: ImageRef }) =>
                p.type === 'image_url' ? image(p.image_url!) : p,
              ),
            )
          : m.content,
      })),
    );
    return JSON.stringify({
      custom_id: customId,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { ...body, messages },
    });
  }

  /**
   * A call to the provider for this batch, failing as Temporal reads it: a 4xx other than 408, 409 and
   * 429 at once, with what to fix (a key, the endpoint); the rest are retried.
   */
  private async atProvider<T>(row: ProviderBatchRow, call: (client: OpenAI) => Promise<T>): Promise<T> {
    const endpoint = this.o.endpoints[row.role as Role];
    try {
      return await call(this.o.clients.get(row.role as Role)!);
    } catch (e) {
      throw classify(e, `the Batch API (provider batch ${row.id})`, {
        baseURL: row.base_url ?? undefined,
        model: row.model,
        keySource: endpoint?.keySource,
      });
    }
  }

  /**
   * A provider batch whose workflow failed for good (the provider refused it, or retries ran out): its
   * requests still waiting fail with why, so their units fail with it instead of waiting for ever. A later
   * run reads a sent batch again once (it is paid for, and the provider may still answer it), and sends
   * the requests of any other anew.
   */
  async abandon(id: number, error: string): Promise<void> {
    const row = await providerBatch(this.pool, id);
    if (CLOSED.includes(row.status)) return;
    const next = !row.provider_batch_id
      ? ''
      : row.reopened_at
        ? '; read again once already, the next run sends its requests anew'
        : '; the next run reads it again before sending anything anew';
    const message = `provider batch ${id}${row.provider_batch_id ? ` (${row.provider_batch_id})` : ''} was abandoned: ${error}${next}`;
    await settleRequests(this.pool, id, 'failed', 'all', message);
    await updateProviderBatch(this.pool, id, { status: 'abandoned', error });
  }

  /** The batch's mark at the provider: which database, which row and which sending, so a lost create is found again. */
  private async mark(row: ProviderBatchRow): Promise<string> {
    return `${await instanceId(this.pool)}:${row.id}${row.deferrals ? `:${row.deferrals}` : ''}`;
  }

  /**
   * A planned batch takes its place under its model's queue limit, or learns it must wait for one (a
   * batch of the model ending wakes it; `recheckSeconds` bounds the wait). A cancelled run's batch is
   * settled instead.
   */
  async admit(id: number): Promise<{ admitted: boolean; cancelled: boolean; recheckSeconds: number }> {
    const row = await providerBatch(this.pool, id);
    const r = await admitProviderBatch(this.pool, id, enqueuedTokenLimit(this.o.settings, row.model));
    return { admitted: r.admitted, cancelled: !!r.cancelled, recheckSeconds: this.o.settings.deferMaxSeconds };
  }

  /**
   * Checks a planned batch's worst case against the run's --max-cost (pausing it if it would pass) and
   * writes and uploads its request file, unless it is uploaded already: done before the batch waits for
   * its place in the provider's queue, so that place is never spent writing. Returns the file, or why
   * there is none to send (sent already, paused, nothing left).
   */
  async prepare(id: number, heartbeat: () => void): Promise<{ fileId?: string; submitted: boolean; status: string }> {
    const row = await providerBatch(this.pool, id);
    if (row.provider_batch_id) return { submitted: true, status: row.status };
    if (row.status !== 'planned') return { submitted: false, status: row.status };
    const requests = await requestsOf(this.pool, id);
    if (!requests.length) {
      await updateProviderBatch(this.pool, id, { status: 'ingested', error: 'no request left to send' });
      return { submitted: false, status: 'ingested' };
    }
    const worst = requests.reduce(
      (n, r) => n + (costUsd(this.o.prices, row.model, r.estimate_tokens, WORST_CASE_REPLY_TOKENS, 'batch') ?? 0),
      0,
    );
    const budget = await budgetOf(this.pool, row.run_id);
    if (budget?.cap != null) {
      const committed = await committedWorstCase(this.pool, row.run_id, id);
      if (budget.spent + committed + worst > budget.cap) {
        const error = `${budget.kind} ${row.run_id} would pass its budget cap of $${budget.cap.toFixed(2)} with provider batch ${id} ($${budget.spent.toFixed(4)} spent, $${(committed + worst).toFixed(4)} at worst in batches): \`muse resume ${row.run_id} --max-cost USD\` with a higher cap sends it`;
        await settleRequests(this.pool, id, 'paused', 'all', error);
        await updateProviderBatch(this.pool, id, { status: 'paused', error, worstCaseUsd: worst });
        return { submitted: false, status: 'paused' };
      }
    }
    await updateProviderBatch(this.pool, id, { worstCaseUsd: worst });
    if (row.input_file_id) return { fileId: row.input_file_id, submitted: false, status: row.status };
    // A folder of its own: two databases' batch 1 (or a retry beside an attempt still writing) never share a file.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-batch-'));
    const file = path.join(dir, `muse-batch-${id}.jsonl`);
    try {
      const out = fs.createWriteStream(file);
      // An image several requests show (look-alike items share one) is read and encoded once per file.
      const images = new Map<string, ReturnType<ImagePart>>();
      for (const r of requests) {
        if (!out.write(`${await this.line(r.content_hash, r.body, images)}\n`)) await once(out, 'drain');
        heartbeat();
      }
      out.end();
      await once(out, 'finish');
      const uploaded = await this.atProvider(row, (c) =>
        c.files.create({ file: fs.createReadStream(file), purpose: 'batch' }),
      );
      await updateProviderBatch(this.pool, id, { inputFileId: uploaded.id, bytes: fs.statSync(file).size });
      return { fileId: uploaded.id, submitted: false, status: row.status };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Sends a planned batch: checks its worst case against the run's --max-cost, writes the request file,
   * uploads it and creates the batch, storing each id the moment the provider gives it. Run again after a
   * crash it reuses the stored file, and finds a batch created but not stored by the mark in its metadata.
   */
  async submit(id: number, heartbeat: () => void): Promise<{ submitted: boolean; status: string }> {
    const ready = await this.prepare(id, heartbeat);
    if (!ready.fileId) return { submitted: ready.submitted, status: ready.status };
    const row = await providerBatch(this.pool, id);
    const fileId = ready.fileId;
    const mark = await this.mark(row);
    const existing = await this.atProvider(row, (c) => this.findByMark(c, mark, row.created_at));
    const batch =
      existing ??
      (await this.atProvider(row, (c) =>
        c.batches.create({
          input_file_id: fileId,
          endpoint: '/v1/chat/completions',
          completion_window: this.o.settings.completionWindow as '24h',
          metadata: { muse: mark, run: row.run_id.slice(0, 512) },
        }),
      ));
    await updateProviderBatch(this.pool, id, {
      providerBatchId: batch.id,
      status: batch.status,
      counts: batch.request_counts,
    });
    return { submitted: true, status: batch.status };
  }

  /** A batch created with this mark and not stored (the worker died in between): listed newest first, back to the row's creation. */
  private async findByMark(client: OpenAI, mark: string, since: Date): Promise<OpenAI.Batches.Batch | undefined> {
    const after = Math.floor(since.getTime() / 1000) - 60;
    for await (const b of client.batches.list({ limit: 100 })) {
      if (b.metadata?.muse === mark) return b;
      if (b.created_at < after) return undefined;
    }
    return undefined;
  }

  /** The provider's state of a sent batch, stored with its counts; a cancel asked for by `muse cancel` is passed on. */
  async poll(id: number): Promise<{ status: string; terminal: boolean }> {
    const row = await providerBatch(this.pool, id);
    if (!row.provider_batch_id) return { status: row.status, terminal: true };
    const batchId = row.provider_batch_id;
    let b = await this.atProvider(row, (c) => c.batches.retrieve(batchId));
    if (row.cancel_requested && !['cancelling', ...TERMINAL].includes(b.status))
      b = await this.atProvider(row, (c) => c.batches.cancel(batchId));
    const errors = b.errors?.data?.length ? JSON.stringify(b.errors.data) : undefined;
    await updateProviderBatch(this.pool, id, {
      status: b.status,
      counts: b.request_counts,
      outputFileId: b.output_file_id ?? null,
      errorFileId: b.error_file_id ?? null,
      ...(errors ? { error: errors } : {}),
    });
    return { status: b.status, terminal: (TERMINAL as readonly string[]).includes(b.status) };
  }

  /** Asks the provider to cancel a sent batch (`muse cancel`); its workflow ingests what was answered. */
  async cancel(row: ProviderBatchRow): Promise<void> {
    const batchId = row.provider_batch_id;
    if (batchId) await this.atProvider(row, (c) => c.batches.cancel(batchId));
  }

  /**
   * Stores a finished batch's answers in the ledger at the batch price, and settles every other request:
   * retryable errors, expired and cancelled batches go back to the queue (up to maxTries sends), other
   * errors fail their unit with the provider's message, a batch that failed validation fails the request
   * it names. Returns how many went back to the queue.
   */
  async ingest(
    id: number,
  ): Promise<{ answered: number; requeued: number; failed: number; deferred?: { waitSeconds: number } }> {
    const row = await providerBatch(this.pool, id);
    const out = { answered: 0, requeued: 0, failed: 0 };
    if (CLOSED.includes(row.status) || !row.provider_batch_id) return out;
    const failure = row.status === 'failed' ? classifyBatchFailure(this.errorsOf(row)) : undefined;
    if (failure?.kind === 'later' && !row.cancel_requested) {
      const why = `${row.provider_batch_id}: ${failure.error?.code}: ${failure.error?.message ?? 'no message'}`;
      if (row.deferrals < this.o.settings.maxDeferrals) {
        // Not now: the same requests go again once there is room, none refused and no try counted.
        await deferProviderBatch(this.pool, id, why);
        return { ...out, deferred: { waitSeconds: deferWaitSeconds(this.o.settings, row.deferrals + 1) } };
      }
    }
    const requests = new Map((await requestsOf(this.pool, id)).map((r) => [r.content_hash, r]));
    const tries = await triesOf(this.pool, id);
    const read = async (fileId: string | null) =>
      fileId
        ? (await this.atProvider(row, async (c) => (await c.files.content(fileId)).text()))
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l) as ResultLine)
        : [];
    const results = [...(await read(row.output_file_id)), ...(await read(row.error_file_id))];
    const latencyMs = row.ended_at ? Math.max(0, row.ended_at.getTime() - row.created_at.getTime()) : 0;
    const answers: Array<{ contentHash: string; row: LedgerRow }> = [];
    const retry: string[] = [];
    const fatal = new Map<string, string>();
    for (const res of results) {
      const req = requests.get(res.custom_id);
      if (!req) continue; // answered already (an ingest that ran before), or not ours
      // Never run (the batch expired or was cancelled first): settled with the rest that got no answer, below.
      if (!res.response && res.error) continue;
      const status = res.response?.status_code ?? 0;
      const body = res.response?.body as
        | {
            choices?: Array<{ message?: { content?: string } }>;
            usage?: { prompt_tokens?: number; completion_tokens?: number };
            error?: { message?: string };
          }
        | undefined;
      if (status === 200 && body?.choices) {
        const raw = body.choices[0]?.message?.content ?? '';
        const parsed = parseReply(raw, PROMPTS[req.agent as AgentName].output);
        if (!parsed.ok) {
          // An invalid reply is asked again in the next batch, as an online call asks again.
          if ((tries.get(req.content_hash) ?? 0) + 1 >= this.o.settings.maxTries)
            fatal.set(
              req.content_hash,
              `${this.o.settings.maxTries} replies failed validation; the last: ${parsed.problem}`,
            );
          else retry.push(req.content_hash);
          continue;
        }
        const prompt = PROMPTS[req.agent as AgentName];
        const input = body.usage?.prompt_tokens;
        const output = body.usage?.completion_tokens;
        answers.push({
          contentHash: req.content_hash,
          row: {
            contentHash: req.content_hash,
            conversationId: req.conversation_id ?? undefined,
            batchId: req.batch_id ?? undefined,
            callKey: req.call_key,
            agent: req.agent,
            role: prompt.role,
            baseUrl: row.base_url ?? undefined,
            model: row.model,
            promptVersion: prompt.version,
            ask: (tries.get(req.content_hash) ?? 0) + 1,
            status: 'ok',
            responseMode: (req.body.response_format as { type?: string } | undefined)?.type ?? 'text',
            latencyMs,
            inputTokens: input,
            outputTokens: output,
            costUsd: costUsd(this.o.prices, row.model, input, output, 'batch'),
            rawReply: raw,
            output: parsed.value,
            api: 'batch',
            providerBatchId: id,
          },
        });
        continue;
      }
      const message = body?.error?.message ?? res.error?.message ?? `status ${status}`;
      if (
        (status === 0 || retryableStatus(status)) &&
        (tries.get(req.content_hash) ?? 0) + 1 < this.o.settings.maxTries
      )
        retry.push(req.content_hash);
      else fatal.set(req.content_hash, `HTTP ${status || 'error'}: ${message}`);
    }
    out.answered = (await storeAnswers(this.pool, id, answers)).length;
    for (const [hash, error] of fatal) out.failed += await settleRequests(this.pool, id, 'failed', [hash], error);
    out.requeued += await settleRequests(this.pool, id, 'queued', retry);
    if (failure?.kind === 'line') {
      // Validation failed at a line: its request fails its unit, the others go back to the queue.
      const bad = this.badLine(row, failure.error!, await requestFileOf(this.pool, id));
      if (bad) out.failed += await settleRequests(this.pool, id, 'failed', [bad.hash], bad.message);
      else out.failed += await settleRequests(this.pool, id, 'failed', 'all', this.validationMessage(row, failure));
    } else if (failure && !(failure.kind === 'later' && row.cancel_requested))
      out.failed += await settleRequests(this.pool, id, 'failed', 'all', this.validationMessage(row, failure));
    // What is left got no answer: an expired or cancelled batch (or one that failed on other lines).
    const left = row.cancel_requested ? 'cancelled' : 'queued';
    out.requeued += left === 'queued' ? await this.requeueOrFail(id) : 0;
    if (left === 'cancelled') await settleRequests(this.pool, id, 'cancelled', 'all');
    await updateProviderBatch(this.pool, id, { status: 'ingested' });
    return out;
  }

  /** Unanswered requests go back to the queue, except those sent maxTries times already, which fail. */
  private async requeueOrFail(id: number): Promise<number> {
    const tries = await triesOf(this.pool, id);
    const spent = [...tries].filter(([, n]) => n + 1 >= this.o.settings.maxTries).map(([h]) => h);
    if (spent.length)
      await settleRequests(
        this.pool,
        id,
        'failed',
        spent,
        `no answer after ${this.o.settings.maxTries} provider batches`,
      );
    return settleRequests(this.pool, id, 'queued', 'all');
  }

  /** The provider's errors of a failed batch, as poll stored them. */
  private errorsOf(row: ProviderBatchRow): BatchError[] {
    try {
      const errors = JSON.parse(row.error ?? '[]');
      return Array.isArray(errors) ? errors : [];
    } catch {
      return [];
    }
  }

  /** Why every request of a batch that failed as a whole fails: the provider's word, and what to change where muse knows it. */
  private validationMessage(row: ProviderBatchRow, failure: ReturnType<typeof classifyBatchFailure>): string {
    const e = failure.error;
    if (failure.kind === 'later')
      return `provider batch ${row.provider_batch_id} was refused for its queue limit ${row.deferrals + 1} times (${e?.code}: ${e?.message}); raise the limit at the provider or lower batch.maxEnqueuedTokens, then run the command again`;
    const code = e?.code ? BATCH_ERROR_CODES[e.code] : undefined;
    const reason = e ? `${e.code ?? 'error'}: ${e.message ?? 'no message'}` : (row.error ?? 'no reason given');
    return `provider batch ${row.provider_batch_id} failed validation: ${code ? reason : `${reason} (a code muse does not know)`}${code?.fix ? `; ${code.fix}` : ''}`;
  }

  /** The request a failed validation names, by its line of the request file, with what it was asked for. */
  private badLine(
    row: ProviderBatchRow,
    e: BatchError,
    file: RequestLine[],
  ): { hash: string; message: string } | undefined {
    const bad = e.line ? file[e.line - 1] : undefined;
    if (!bad) return undefined;
    return {
      hash: bad.content_hash,
      message: `provider batch ${row.provider_batch_id} failed validation at line ${e.line} of its request file (${bad.agent} ${bad.call_key}, custom_id ${bad.content_hash.slice(0, 12)}…${e.param ? `, ${e.param}` : ''}): ${e.message ?? e.code}`,
    };
  }
}
