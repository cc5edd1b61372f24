import { randomUUID } from 'node:crypto';
import type http from 'node:http';

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
  errors: {
    object: 'list';
    data: Array<{ code: string; message: string; line: number | null; param: string | null }>;
  } | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

/**
 * A local fake of OpenAI's Batch API (files upload and content; batches create, retrieve, list and
 * cancel), answering each line the way the test server answers a chat request. It is a server the
 * openai client talks to over HTTP, not a mock of our own code: what it records is what was sent.
 */
export class FakeBatchApi {
  readonly files = new Map<string, { purpose: string; bytes: number; text: string }>();
  readonly batches: FakeBatch[] = [];
  /** Every upload, in order: the bytes and lines of each request file. */
  readonly uploads: Array<{ id: string; bytes: number; lines: number }> = [];
  /** Requests to each route, by "METHOD path-shape". */
  readonly calls = new Map<string, number>();
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
      const file = form.get('file') as File;
      const text = await file.text();
      const id = `file-${this.files.size + 1}`;
      this.files.set(id, { purpose: String(form.get('purpose')), bytes: Buffer.byteLength(text), text });
      this.uploads.push({ id, bytes: Buffer.byteLength(text), lines: text.split('\n').filter(Boolean).length });
      return {
        status: 200,
        body: { id, object: 'file', bytes: Buffer.byteLength(text), purpose: form.get('purpose'), filename: file.name },
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
      return { status: 200, body, lost: this.o.loseCreate?.(this.batches.length) };
    }
    if (parts[0] === 'batches' && parts.length === 1 && req.method === 'GET') {
      this.count('GET /batches');
      const limit = Number(url.searchParams.get('limit') ?? 20);
      const after = url.searchParams.get('after');
      const newest = [...this.batches].reverse();
      const from = after ? newest.findIndex((b) => b.id === after) + 1 : 0;
      const data = newest.slice(from, from + limit);
      return {
        status: 200,
        body: {
          object: 'list',
          data,
          has_more: from + limit < newest.length,
          first_id: data[0]?.id,
          last_id: data.at(-1)?.id,
        },
      };
    }
    const batch = this.batches.find((b) => b.id === parts[1]);
    if (parts[0] === 'batches' && req.method === 'GET') {
      this.count('GET /batches/id');
      return batch ? { status: 200, body: batch } : notFound;
    }
    if (parts[0] === 'batches' && parts[2] === 'cancel' && req.method === 'POST') {
      this.count('POST /batches/cancel');
      if (!batch) return notFound;
      if (['validating', 'in_progress', 'finalizing'].includes(batch.status)) {
        batch.status = 'cancelling';
        this.later(50, () => this.finish(batch, 0, 'cancelled'));
      }
      return { status: 200, body: batch };
    }
    return notFound;
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private create(r: {
    input_file_id: string;
    endpoint: string;
    completion_window: string;
    metadata?: Record<string, string>;
  }) {
    const n = this.batches.length + 1;
    const input = this.files.get(r.input_file_id);
    const lines = (input?.text ?? '').split('\n').filter(Boolean);
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
      request_counts: { total: lines.length, completed: 0, failed: 0 },
      metadata: r.metadata ?? null,
    };
    this.batches.push(batch);
    const invalid = this.o.invalidLine?.(n);
    const tooBig =
      (this.o.maxRequests && lines.length > this.o.maxRequests) ||
      (this.o.maxBytes && (input?.bytes ?? 0) > this.o.maxBytes);
    this.later(20, () => {
      if (!input || invalid || tooBig) {
        batch.status = 'failed';
        batch.errors = {
          object: 'list',
          data: [
            !input
              ? { code: 'invalid_file', message: `no file ${r.input_file_id}`, line: null, param: 'input_file_id' }
              : tooBig
                ? { code: 'file_too_large', message: 'the file is over the limit', line: null, param: null }
                : {
                    code: 'invalid_request',
                    message: 'the body is not a valid chat completions request',
                    line: invalid!,
                    param: 'body',
                  },
          ],
        };
        return;
      }
      batch.status = 'in_progress';
      const share = this.o.expire?.(n);
      this.later(this.o.latencyMs ?? 200, () =>
        this.finish(batch, share ?? 1, share === undefined ? 'completed' : 'expired'),
      );
    });
    return batch;
  }

  /** Answers the first `share` of the batch's lines and writes its output and error files. */
  private finish(batch: FakeBatch, share: number, status: string) {
    if (!['in_progress', 'cancelling'].includes(batch.status)) return;
    const lines = this.files
      .get(batch.input_file_id)!
      .text.split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as BatchLine);
    const answered = Math.floor(lines.length * share);
    const out: string[] = [];
    const errors: string[] = [];
    lines.forEach((line, i) => {
      const rid = `batch_req_${batch.id}_${i}`;
      if (i >= answered) {
        errors.push(
          JSON.stringify({
            id: rid,
            custom_id: line.custom_id,
            response: null,
            error: {
              code: status === 'expired' ? 'batch_expired' : 'batch_cancelled',
              message: `the batch was ${status} before this request ran`,
            },
          }),
        );
        return;
      }
      const { agent, reply } = this.answer(line);
      const b = this.o.line?.(line, ++this.lines, agent);
      if (b) {
        batch.request_counts.failed++;
        errors.push(
          JSON.stringify({
            id: rid,
            custom_id: line.custom_id,
            response: {
              status_code: b.status,
              request_id: rid,
              body: { error: { message: b.message ?? `fake says ${b.status}`, type: 'test' } },
            },
            error: null,
          }),
        );
        return;
      }
      batch.request_counts.completed++;
      out.push(
        JSON.stringify({
          id: rid,
          custom_id: line.custom_id,
          response: { status_code: 200, request_id: rid, body: reply },
          error: null,
        }),
      );
    });
    const save = (text: string[]) => {
      if (!text.length) return null;
      const id = `file-${this.files.size + 1}`;
      this.files.set(id, { purpose: 'batch_output', bytes: 0, text: text.join('\n') + '\n' });
      return id;
    };
    batch.output_file_id = save(out);
    batch.error_file_id = save(errors);
    batch.status = status;
  }

  /** Lines of every request file uploaded so far. */
  get linesUploaded(): number {
    return this.uploads.reduce((n, u) => n + u.lines, 0);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
  }
}
