import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { Rng } from '../random';

/** One line of a request file, as the Batch API reads it. */
export interface BatchLine {
  custom_id: string;
  method: string;
  url: string;
  body: {
    model: string;
    messages: Array<{ role: string; content: unknown }>;
    response_format?: { json_schema?: { name?: string; schema?: object } };
  };
}

/** What the fake does with one line: answer it, or answer with an HTTP error (in the error file). */
export type LineBehaviour = undefined | { status: number; message?: string };

export interface FakeBatchOptions {
  /** A batch is answered this long after it was created (realistic batch latency, scaled down). */
  latencyMs?: number;
  /** The n-th batch created (from 1) expires with only this share of its lines answered. */
  expire?: (n: number) => number | undefined;
  /** Per line: the n-th line answered over all batches (from 1). */
  line?: (line: BatchLine, n: number, agent: string) => LineBehaviour;
  /** The n-th batch fails validation at this line (from 1). */
  invalidLine?: (n: number) => number | undefined;
  /** Refuses every request to a route ("POST /files", "POST /batches", …) with this HTTP error. */
  refuse?: (route: string) => { status: number; message: string } | undefined;
  /** The n-th batch create (from 1) is done, but its answer is lost: the connection drops before it. */
  loseCreate?: (n: number) => boolean;
  /** The provider's limits: a file past them fails validation, as OpenAI's does. */
  maxRequests?: number;
  maxBytes?: number;
  /**
   * The organisation's batch queue limit per model, in input tokens: a batch that would take the tokens
   * enqueued (its model's batches validating, in progress or finalizing) past it fails as a whole with
   * `token_limit_exceeded` and no line named, as OpenAI's does.
   */
  enqueuedTokenLimit?: number;
  /** The n-th batch fails as a whole (no line named) with this error once validated. */
  failBatch?: (n: number) => { code: string; message: string } | undefined;
  /** Forget a request file's text once its batch has run (a benchmark's hundreds of megabytes). */
  dropInputs?: boolean;
}

/** An HTTP error the fake answers with, as the provider would. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface BatchError {
  code: string;
  message: string;
  line: number | null;
  param: string | null;
}

interface FakeBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: string;
  created_at: number;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: { object: 'list'; data: BatchError[] } | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  /** Not part of the batch object: the model and input tokens it holds in the queue, and its outcomes. */
  model?: string;
  tokens?: number;
}

/** What the reference documents: the endpoints a batch may name, its one completion window, and a file's limits. */
const ENDPOINTS = ['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/completions', '/v1/moderations'];
const WINDOWS = ['24h'];
const MAX_REQUESTS = 50_000;
const MAX_BYTES = 200 * 1024 * 1024;
/** States in which a batch's tokens count against the queue limit. */
const ENQUEUED = ['validating', 'in_progress', 'finalizing'];
/** A low-detail image's input tokens, as OpenAI counts them. */
const IMAGE_TOKENS = 85;

/** A line's input tokens as the fake counts them against the queue limit: its text by four characters, its images by 85. */
function inputTokens(line: BatchLine): number {
  let chars = 0;
  let images = 0;
  for (const m of line.body.messages ?? [])
    if (typeof m.content === 'string') chars += m.content.length;
    else
      for (const p of (m.content as Array<{ type: string; text?: string }>) ?? [])
        if (p.type === 'text') chars += p.text?.length ?? 0;
        else images++;
  return Math.ceil(chars / 4) + images * IMAGE_TOKENS;
}

/**
 * A local fake of OpenAI's Batch API (files upload and content; batches create, retrieve, list and
 * cancel), answering each line the way the test server answers a chat request. It behaves as the
 * provider's reference says rather than as our client expects: a batch goes validating, in_progress
 * (its counts growing), finalizing and completed; its output and error files list lines in any order;
 * create refuses a wrong endpoint, completion window, file purpose or metadata with a 400; validation
 * fails a batch on a duplicate custom_id, a line whose method, url or model does not match, a file past
 * the limits, or the queue limit (`token_limit_exceeded`, no line named). It is a server the openai
 * client talks to over HTTP, not a mock of our own code: what it records is what was sent.
 */
export class FakeBatchApi {
  readonly files = new Map<string, { purpose: string; bytes: number; text: string }>();
  readonly batches: FakeBatch[] = [];
  /** Every upload, in order: the bytes and lines of each request file. */
  readonly uploads: Array<{ id: string; bytes: number; lines: number }> = [];
  /** Requests to each route, by "METHOD path-shape". */
  readonly calls = new Map<string, number>();
  /** The most input tokens ever enqueued at once, per model. */
  readonly peakEnqueued = new Map<string, number>();
  private lines = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    /** Read at each batch's creation: a test may change how the next batches behave. */
    readonly o: FakeBatchOptions,
    private readonly answer: (line: BatchLine) => { agent: string; reply: unknown },
  ) {}

  private count(key: string) {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const refused = this.o.refuse?.(key);
    if (refused) throw new Refused(refused.status, refused.message);
  }

  /** Routes under /v1/files and /v1/batches. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    void this.route(req, raw).then(
      ({ status, body, text, lost }) => {
        if (lost) return res.destroy();
        res.writeHead(status, { 'content-type': text === undefined ? 'application/json' : 'application/octet-stream' });
        res.end(text ?? JSON.stringify(body));
      },
      (e) => {
        const status = e instanceof Refused ? e.status : 500;
        res.writeHead(status, { 'content-type': 'application/json' });
        const message = e instanceof Refused ? e.message : String(e);
        res.end(
          JSON.stringify({ error: { message, type: status === 500 ? 'server_error' : 'invalid_request_error' } }),
        );
      },
    );
  }

  private async route(
    req: http.IncomingMessage,
    raw: Buffer,
  ): Promise<{ status: number; body?: unknown; text?: string; lost?: boolean }> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const parts = url.pathname.replace(/^\/v1\//, '').split('/');
    const notFound = {
      status: 404,
      body: { error: { message: `no such object: ${url.pathname}`, type: 'invalid_request_error' } },
    };
    if (parts[0] === 'files' && req.method === 'POST') {
      this.count('POST /files');
      const form = await new Response(new Uint8Array(raw), {
        headers: { 'content-type': req.headers['content-type'] ?? '' },
      }).formData();
      const file = form.get('file') as File | null;
      const purpose = String(form.get('purpose') ?? '');
      if (!file) throw new Refused(400, "Missing required parameter: 'file'.");
      if (!['batch', 'assistants', 'fine-tune', 'vision', 'user_data', 'evals'].includes(purpose))
        throw new Refused(400, `Invalid value for 'purpose': '${purpose}'.`);
      const text = await file.text();
      const id = `file-${this.files.size + 1}`;
      this.files.set(id, { purpose, bytes: Buffer.byteLength(text), text });
      this.uploads.push({ id, bytes: Buffer.byteLength(text), lines: text.split('\n').filter(Boolean).length });
      return {
        status: 200,
        body: { id, object: 'file', bytes: Buffer.byteLength(text), purpose, filename: file.name },
      };
    }
    if (parts[0] === 'files' && parts[2] === 'content' && req.method === 'GET') {
      this.count('GET /files/content');
      const f = this.files.get(parts[1]);
      return f ? { status: 200, text: f.text } : notFound;
    }
    if (parts[0] === 'batches' && parts.length === 1 && req.method === 'POST') {
      this.count('POST /batches');
      const body = this.create(JSON.parse(raw.toString('utf8')));
      return { status: 200, body: this.shown(body), lost: this.o.loseCreate?.(this.batches.length) };
    }
    if (parts[0] === 'batches' && parts.length === 1 && req.method === 'GET') {
      this.count('GET /batches');
      const limit = Number(url.searchParams.get('limit') ?? 20);
      if (!(limit >= 1 && limit <= 100)) throw new Refused(400, `Invalid 'limit': ${limit}; expected 1 to 100.`);
      const after = url.searchParams.get('after');
      const newest = [...this.batches].reverse();
      const from = after ? newest.findIndex((b) => b.id === after) + 1 : 0;
      const data = newest.slice(from, from + limit);
      return {
        status: 200,
        body: {
          object: 'list',
          data: data.map((b) => this.shown(b)),
          has_more: from + limit < newest.length,
          first_id: data[0]?.id,
          last_id: data.at(-1)?.id,
        },
      };
    }
    const batch = this.batches.find((b) => b.id === parts[1]);
    if (parts[0] === 'batches' && req.method === 'GET') {
      this.count('GET /batches/id');
      return batch ? { status: 200, body: this.shown(batch) } : notFound;
    }
    if (parts[0] === 'batches' && parts[2] === 'cancel' && req.method === 'POST') {
      this.count('POST /batches/cancel');
      if (!batch) return notFound;
      if (['validating', 'in_progress', 'finalizing'].includes(batch.status)) {
        batch.status = 'cancelling';
        this.later(50, () => this.finish(batch, 'cancelled'));
      }
      return { status: 200, body: this.shown(batch) };
    }
    return notFound;
  }

  /** The batch object as the API shows it (without the fake's own bookkeeping). */
  private shown(b: FakeBatch) {
    const { model: _model, tokens: _tokens, ...shown } = b;
    void _model;
    void _tokens;
    return { ...shown, request_counts: { ...b.request_counts } };
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Create's own checks, answered at once with a 400 as the API does; the file's lines are checked while validating. */
  private create(r: {
    input_file_id?: string;
    endpoint?: string;
    completion_window?: string;
    metadata?: Record<string, string>;
  }): FakeBatch {
    if (!r.input_file_id) throw new Refused(400, "Missing required parameter: 'input_file_id'.");
    if (!r.endpoint || !ENDPOINTS.includes(r.endpoint))
      throw new Refused(400, `Invalid value for 'endpoint': ${r.endpoint}; supported: ${ENDPOINTS.join(', ')}.`);
    if (!r.completion_window || !WINDOWS.includes(r.completion_window))
      throw new Refused(400, `Invalid value for 'completion_window': ${r.completion_window}; supported: 24h.`);
    const meta = Object.entries(r.metadata ?? {});
    if (meta.length > 16 || meta.some(([k, v]) => k.length > 64 || typeof v !== 'string' || v.length > 512))
      throw new Refused(400, 'Invalid metadata: at most 16 pairs, keys up to 64 and values up to 512 characters.');
    const input = this.files.get(r.input_file_id);
    if (!input) throw new Refused(400, `Could not find file with ID ${r.input_file_id}.`);
    if (input.purpose !== 'batch')
      throw new Refused(400, `The input file must have purpose 'batch'; ${r.input_file_id} has '${input.purpose}'.`);
    const n = this.batches.length + 1;
    const raw = input.text.split('\n').filter((l) => l.trim());
    const batch: FakeBatch = {
      // Ids unique across fakes, as a provider's are (a test may start a second fake on the same database).
      id: `batch_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
      object: 'batch',
      endpoint: r.endpoint,
      input_file_id: r.input_file_id,
      completion_window: r.completion_window,
      status: 'validating',
      created_at: Math.floor(Date.now() / 1000),
      output_file_id: null,
      error_file_id: null,
      errors: null,
      // Known once validated; the counts grow while in progress.
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: r.metadata ?? null,
    };
    this.batches.push(batch);
    this.later(20, () => this.validate(batch, n, raw, input.bytes));
    return batch;
  }

  /** Validation as the reference describes it: every line, then the file's limits, then the queue limit. */
  private validate(batch: FakeBatch, n: number, raw: string[], bytes: number) {
    if (batch.status !== 'validating') return;
    const errors: BatchError[] = [];
    const lines: BatchLine[] = [];
    const ids = new Set<string>();
    let model: string | undefined;
    raw.forEach((text, i) => {
      const at = i + 1;
      let line: BatchLine;
      try {
        line = JSON.parse(text);
      } catch {
        return errors.push({
          code: 'invalid_json_line',
          message: 'This line is not parseable as valid JSON.',
          line: at,
          param: null,
        });
      }
      if (typeof line.custom_id !== 'string' || !line.custom_id)
        return errors.push({
          code: 'missing_required_parameter',
          message: 'Missing custom_id.',
          line: at,
          param: 'custom_id',
        });
      if (ids.has(line.custom_id))
        errors.push({
          code: 'duplicate_custom_id',
          message:
            'The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.',
          line: at,
          param: 'custom_id',
        });
      ids.add(line.custom_id);
      if (line.method !== 'POST')
        errors.push({
          code: 'invalid_request',
          message: `Invalid method ${line.method}: only POST is supported.`,
          line: at,
          param: 'method',
        });
      if (line.url !== batch.endpoint)
        errors.push({
          code: 'url_mismatch',
          message: `The url ${line.url} does not match the batch's endpoint ${batch.endpoint}.`,
          line: at,
          param: 'url',
        });
      if (!line.body?.model)
        errors.push({
          code: 'missing_required_parameter',
          message: 'Missing body.model.',
          line: at,
          param: 'body.model',
        });
      else if (model !== undefined && line.body.model !== model)
        errors.push({
          code: 'model_mismatch',
          message: `The model ${line.body.model} differs from the file's ${model}: a batch is for one model.`,
          line: at,
          param: 'body.model',
        });
      model ??= line.body?.model;
      lines.push(line);
    });
    const invalid = this.o.invalidLine?.(n);
    if (invalid)
      errors.push({
        code: 'invalid_request',
        message: 'the body is not a valid chat completions request',
        line: invalid,
        param: 'body',
      });
    if (!raw.length)
      errors.push({ code: 'empty_batch', message: 'The input file has no request.', line: null, param: null });
    if (raw.length > (this.o.maxRequests ?? MAX_REQUESTS))
      errors.push({
        code: 'too_many_tasks',
        message: `The file has ${raw.length} requests; the limit is ${this.o.maxRequests ?? MAX_REQUESTS}.`,
        line: null,
        param: null,
      });
    if (bytes > (this.o.maxBytes ?? MAX_BYTES))
      errors.push({ code: 'file_too_large', message: 'the file is over the limit', line: null, param: null });
    if (errors.length) return this.fail(batch, errors);

    batch.model = model;
    batch.tokens = lines.reduce((t, l) => t + inputTokens(l), 0);
    batch.request_counts.total = lines.length;
    const limit = this.o.enqueuedTokenLimit;
    const enqueued = this.enqueued(model!);
    if (limit !== undefined && enqueued + batch.tokens > limit)
      return this.fail(batch, [
        {
          code: 'token_limit_exceeded',
          message: `Enqueued token limit reached for ${model} in organization org-fake. Limit: ${limit.toLocaleString('en-US')} enqueued tokens. Please try again once some in_progress batches have been completed.`,
          line: null,
          param: null,
        },
      ]);
    const whole = this.o.failBatch?.(n);
    if (whole) return this.fail(batch, [{ ...whole, line: null, param: null }]);
    batch.status = 'in_progress';
    this.peakEnqueued.set(model!, Math.max(this.peakEnqueued.get(model!) ?? 0, enqueued + batch.tokens));
    this.run(batch, n, lines);
  }

  /** Input tokens of a model's batches in the queue. */
  private enqueued(model: string): number {
    return this.batches
      .filter((b) => b.model === model && ENQUEUED.includes(b.status))
      .reduce((t, b) => t + (b.tokens ?? 0), 0);
  }

  private fail(batch: FakeBatch, errors: BatchError[]) {
    batch.status = 'failed';
    batch.errors = { object: 'list', data: errors };
    (batch as { failed_at?: number }).failed_at = Math.floor(Date.now() / 1000);
  }

  /** Results decided when the batch starts, revealed in four steps (the counts grow), then finalizing and the files. */
  private readonly results = new Map<
    string,
    { done: Array<{ ok: boolean; line: string }>; pending: BatchLine[]; revealed: number }
  >();

  private run(batch: FakeBatch, n: number, lines: BatchLine[]) {
    const share = this.o.expire?.(n);
    const answered = Math.floor(lines.length * (share ?? 1));
    const done = lines.slice(0, answered).map((line, i) => this.outcome(batch, line, i));
    this.results.set(batch.id, { done, pending: lines.slice(answered), revealed: 0 });
    const latency = this.o.latencyMs ?? 200;
    for (const step of [1, 2, 3])
      this.later((latency * step) / 4, () => {
        if (batch.status !== 'in_progress') return;
        this.reveal(batch, Math.floor((done.length * step) / 4));
      });
    this.later(latency, () => {
      if (batch.status !== 'in_progress') return;
      this.reveal(batch, done.length);
      if (share !== undefined) return this.finish(batch, 'expired');
      batch.status = 'finalizing';
      this.later(Math.min(100, latency / 10), () => this.finish(batch, 'completed'));
    });
  }

  /** One line's answer or HTTP error, as its output or error file line. */
  private outcome(batch: FakeBatch, line: BatchLine, i: number): { ok: boolean; line: string } {
    const rid = `batch_req_${batch.id}_${i}`;
    const { agent, reply } = this.answer(line);
    const b = this.o.line?.(line, ++this.lines, agent);
    if (b)
      return {
        ok: false,
        line: JSON.stringify({
          id: rid,
          custom_id: line.custom_id,
          response: {
            status_code: b.status,
            request_id: rid,
            body: {
              error: {
                message: b.message ?? `fake says ${b.status}`,
                type: 'invalid_request_error',
                param: null,
                code: null,
              },
            },
          },
          error: null,
        }),
      };
    return {
      ok: true,
      line: JSON.stringify({
        id: rid,
        custom_id: line.custom_id,
        response: { status_code: 200, request_id: rid, body: reply },
        error: null,
      }),
    };
  }

  /** The first `upTo` results are done: the counts say so. */
  private reveal(batch: FakeBatch, upTo: number) {
    const r = this.results.get(batch.id)!;
    r.revealed = Math.max(r.revealed, upTo);
    const shown = r.done.slice(0, r.revealed);
    batch.request_counts.completed = shown.filter((x) => x.ok).length;
    batch.request_counts.failed = shown.length - batch.request_counts.completed;
  }

  /** Writes the output and error files (lines in any order) of a batch that ended; what never ran is in the error file. */
  private finish(batch: FakeBatch, status: 'completed' | 'expired' | 'cancelled') {
    if (!['in_progress', 'finalizing', 'cancelling'].includes(batch.status)) return;
    const r = this.results.get(batch.id) ?? { done: [], pending: [], revealed: 0 };
    const ran = r.done.slice(0, r.revealed);
    const never = [...r.done.slice(r.revealed), ...r.pending].map((x) => {
      const line = 'line' in x ? (JSON.parse(x.line) as { custom_id: string }) : x;
      return JSON.stringify({
        id: `batch_req_${randomUUID().slice(0, 8)}`,
        custom_id: line.custom_id,
        response: null,
        error: {
          code: status === 'expired' ? 'batch_expired' : 'batch_cancelled',
          message:
            status === 'expired'
              ? 'This request could not be executed before the completion window expired.'
              : 'This request was not executed because the batch was cancelled.',
        },
      });
    });
    // Any order: the reference promises none, and a provider's workers finish lines as they come.
    const rng = new Rng('fake-batch-order', batch.id);
    const shuffle = (xs: string[]) => {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    };
    const save = (text: string[]) => {
      if (!text.length) return null;
      const id = `file-${this.files.size + 1}`;
      this.files.set(id, { purpose: 'batch_output', bytes: 0, text: shuffle(text).join('\n') + '\n' });
      return id;
    };
    batch.output_file_id = save(ran.filter((x) => x.ok).map((x) => x.line));
    batch.error_file_id = save([...ran.filter((x) => !x.ok).map((x) => x.line), ...never]);
    batch.status = status;
    this.results.delete(batch.id);
    if (this.o.dropInputs) this.files.get(batch.input_file_id)!.text = '';
  }

  /** Lines of every request file uploaded so far. */
  get linesUploaded(): number {
    return this.uploads.reduce((n, u) => n + u.lines, 0);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
  }
}
