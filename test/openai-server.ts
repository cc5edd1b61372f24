import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Rng } from '../random';
import { FakeBatchApi, type BatchLine, type FakeBatchOptions } from './batch-api-server';

/** What the test server saw of one chat-completions request. */
export interface SeenRequest {
  at: number;
  agent: string;
  model: string;
  temperature: number;
  images: number;
  imageUrls: string[];
  responseFormat: string | undefined;
  lastUserText: string;
  auth: string;
}

/** How the server answers one request: normally, or with one of the failures a real endpoint has. */
export type Behaviour =
  | undefined
  | { status: number; retryAfter?: number; message?: string }
  | 'malformed'
  | 'schema-breaking'
  | 'hang'
  /** The connection is reset before any answer. */
  | 'reset'
  /** Headers and half the body, then the connection is cut. */
  | 'cut'
  /** A 200 whose `choices` is empty. */
  | 'empty';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minItems?: number;
  anyOf?: JsonSchema[];
};

/** A value that satisfies the schema, with words a product search can use; `tag` (when set) marks every text with the request it answers. */
function instance(s: JsonSchema, agent: string, key = '', tag = ''): unknown {
  const type = Array.isArray(s.type) ? s.type[0] : (s.type ?? (s.anyOf ? undefined : 'string'));
  if (!type && s.anyOf) return instance(s.anyOf[0], agent, key);
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, instance(v, agent, k, tag)]));
    case 'array':
      return Array.from(
        { length: s.minItems ?? 1 },
        (_, i) => `(${agent} ${i + 1}${tag}) a navy linen dress for a summer wedding`,
      );
    case 'boolean':
      return true;
    case 'number':
    case 'integer':
      return 1;
    default:
      return key === 'query' || key === 'description'
        ? 'navy linen dress'
        : key === 'scenario'
          ? story(agent)
          : `(${agent}${tag}) a navy linen dress would suit a summer wedding`;
  }
}

/** A backstory unlike every other one (as a real model's would be), so that stage 2's BLEU dedup lets it through. */
let stories = 0;
const SYLLABLES = 'ba ko ri mu sa te lo vi na de gu pe zo fa hi ju ke ly mo nu qa ro si tu'.split(' ');
function story(agent: string): string {
  // Words of two syllables from a seeded draw: 576 words, so four words rarely repeat across stories.
  const rng = new Rng('test-story', ++stories);
  const word = () => rng.pick(SYLLABLES) + rng.pick(SYLLABLES);
  return `(${agent}) ${Array.from({ length: 24 }, word).join(' ')}.`;
}

/** What `behave` is shown of a request's body. */
export interface RequestBody {
  model?: string;
  response_format?: { type: string };
}

/** Answers a request as a failing endpoint does: the status, an OpenAI-style error body, and Retry-After when given. */
function fail(res: http.ServerResponse, b: { status: number; retryAfter?: number; message?: string }): void {
  res.writeHead(b.status, {
    'content-type': 'application/json',
    ...(b.retryAfter !== undefined ? { 'retry-after': String(b.retryAfter) } : {}),
  });
  res.end(JSON.stringify({ error: { message: b.message ?? `test server says ${b.status}`, type: 'test' } }));
}

/**
 * A local OpenAI-compatible chat-completions and embeddings server on loopback. It answers every agent call with a
 * schema-valid reply built from the JSON schema the request carries (in response_format, or in the
 * system prompt when the client fell back to JSON mode or plain text), records what each request
 * carried, and lets `behave` pick a failure for any request.
 */
export async function startOpenAiTestServer(
  behave: (agent: string, n: number, body: RequestBody) => Behaviour = () => undefined,
  port = 0,
  o: {
    apiKey?: string;
    /** Replies depend on the request (like a model at temperature 0), so conversations differ. */ vary?: boolean;
    onAnswer?: (body: string, ok: boolean) => void;
    /** Every chat answer takes this long, as a model's would. */
    latencyMs?: number;
    /** At most this many chat requests are admitted in any second; the rest get 429 with Retry-After: 1. */
    admitPerSecond?: number;
    /** Sent as x-ratelimit-limit-requests on every answer, as OpenAI does. */
    statedRpm?: number;
    /**
     * Keep what each request carried (`seen`, images included) for the test to read; a benchmark of
     * thousands of requests turns it off, since the heap it grows stalls the server's clock with GC.
     */
    record?: boolean;
    /** How the fake Batch API behaves (see batch-api-server.ts). */
    batch?: FakeBatchOptions;
  } = {},
) {
  const seen: SeenRequest[] = [];
  /** Requests received, counted whether or not they are recorded. */
  let received = 0;
  /** Admission times within the last second, and the totals a benchmark reads. */
  const admittedAt: number[] = [];
  const counts = { admitted: 0, throttled: 0 };
  /** When each admitted chat request arrived (with admitPerSecond set). */
  const admissions: number[] = [];
  const hanging = new Set<http.ServerResponse>();
  const open = new Set<http.ServerResponse>();
  /** Every HTTP request, of any route. */
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    open.add(res);
    res.once('close', () => open.delete(res));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      // With apiKey set, any other key gets the 401 a real endpoint answers (GET /models included).
      if (o.apiKey !== undefined && req.headers.authorization !== `Bearer ${o.apiKey}`)
        return fail(res, { status: 401, message: 'Incorrect API key provided' });
      if (req.method === 'GET' && req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({ object: 'list', data: [{ id: 'test-model', object: 'model', owned_by: 'muse-test' }] }),
        );
      }
      if (req.url?.includes('/files') || req.url?.includes('/batches')) return batchApi.handle(req, res, raw);
      const r = JSON.parse(body);
      if (req.url?.endsWith('/embeddings')) return embeddings(r, req, res);
      const { schema, agent } = schemaOf(r);
      const parts = r.messages.flatMap((m: { content: unknown }) => (Array.isArray(m.content) ? m.content : []));
      const imageUrls = parts
        .filter((p: { type: string }) => p.type === 'image_url')
        .map((p: { image_url: { url: string } }) => p.image_url.url);
      const lastUser = [...r.messages].reverse().find((m: { role: string }) => m.role === 'user');
      received++;
      if (o.record !== false)
        seen.push({
          at: Date.now(),
          agent,
          model: r.model,
          temperature: r.temperature,
          images: imageUrls.length,
          imageUrls,
          responseFormat: r.response_format?.type,
          lastUserText: typeof lastUser?.content === 'string' ? lastUser.content : '',
          auth: req.headers.authorization ?? '',
        });
      if (o.admitPerSecond) {
        const now = Date.now();
        while (admittedAt.length && admittedAt[0] <= now - 1000) admittedAt.shift();
        if (admittedAt.length >= o.admitPerSecond) {
          counts.throttled++;
          return fail(res, { status: 429, retryAfter: 1, message: 'Rate limit reached for requests' });
        }
        admittedAt.push(now);
        admissions.push(now);
        counts.admitted++;
      }
      const b = behave(agent, received, r);
      if (b === 'hang') {
        hanging.add(res);
        return;
      }
      if (b && typeof b === 'object') return fail(res, b);
      if (b === 'reset') return req.socket.destroy();
      const reply = JSON.stringify(completion(r, body, schema, agent, b, received));
      if (b === 'cut') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(reply.length) });
        res.write(reply.slice(0, reply.length >> 1));
        return setTimeout(() => req.socket.destroy(), 20);
      }
      const answer = () => {
        res.writeHead(200, {
          'content-type': 'application/json',
          ...(o.statedRpm ? { 'x-ratelimit-limit-requests': String(o.statedRpm) } : {}),
        });
        res.end(reply, () => o.onAnswer?.(body, b === undefined));
      };
      if (o.latencyMs) setTimeout(answer, o.latencyMs);
      else answer();
    });
  });
  /** Word-hash vectors, of the length asked for (64 by default), unnormalised and listed last first, as a real server may. */
  function embeddings(
    r: { model: string; input: string | string[]; dimensions?: number },
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ) {
    const inputs = Array.isArray(r.input) ? r.input : [r.input];
    received++;
    if (o.record !== false)
      seen.push({
        at: Date.now(),
        agent: 'embeddings',
        model: r.model,
        temperature: 0,
        images: 0,
        imageUrls: [],
        responseFormat: undefined,
        lastUserText: inputs.join('\n'),
        auth: req.headers.authorization ?? '',
      });
    const b = behave('embeddings', received, r);
    if (b && typeof b === 'object') return fail(res, b);
    const dims = r.dimensions ?? 64;
    const data = inputs
      .map((text, index) => {
        const v = new Array<number>(dims).fill(0);
        for (const w of text.toLowerCase().match(/[a-z]{3,}/g) ?? [])
          v[[...w].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_003, 7) % dims] += 3;
        return { object: 'embedding', index, embedding: v };
      })
      .reverse();
    const tokens = Math.ceil(inputs.join(' ').length / 4);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ object: 'list', model: r.model, data, usage: { prompt_tokens: tokens, total_tokens: tokens } }),
    );
  }

  /** A chat completion as the endpoint answers it, online or as one line of a batch's output file. */
  function completion(r: { model: string }, body: string, schema: JsonSchema, agent: string, b: Behaviour, n: number) {
    const tag = o.vary ? ` #${createHash('sha256').update(body).digest('hex').slice(0, 8)}` : '';
    const content =
      b === 'malformed'
        ? 'Sure! Here is what you asked for: {"text": '
        : b === 'schema-breaking'
          ? JSON.stringify({ unexpected: true })
          : JSON.stringify(instance(schema, agent, '', tag));
    return {
      id: `chatcmpl-${n}`,
      object: 'chat.completion',
      created: 0,
      model: r.model,
      choices: b === 'empty' ? [] : [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
      usage: {
        prompt_tokens: Math.ceil(body.length / 4),
        completion_tokens: Math.ceil(content.length / 4),
        total_tokens: 0,
      },
    };
  }
  const batchApi = new FakeBatchApi(o.batch ?? {}, (line: BatchLine) => {
    const { schema, agent } = schemaOf(line.body);
    return { agent, reply: completion(line.body, JSON.stringify(line.body), schema, agent, undefined, 0) };
  });

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    seen,
    counts,
    admissions,
    /** The fake Batch API: its files, batches and what it was sent. */
    batches: batchApi,
    /** Requests received and not yet answered (or dropped). */
    active: () => open.size,
    /** Every HTTP request received so far, of any route (chat, files, batches). */
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        batchApi.close();
        for (const h of hanging) h.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The reply's JSON schema and the agent it is for: from response_format, or from the system prompt in JSON mode or plain text. */
function schemaOf(r: {
  messages: Array<{ role: string; content: unknown }>;
  response_format?: { json_schema?: { name?: string; schema?: JsonSchema } };
}) {
  const system = (r.messages.find((m) => m.role === 'system')?.content as string | undefined) ?? '';
  const schema: JsonSchema =
    r.response_format?.json_schema?.schema ?? JSON.parse(/fits this JSON schema:\n(.+)$/s.exec(system)?.[1] ?? '{}');
  const agent: string = r.response_format?.json_schema?.name ?? agentFromSchema(schema);
  return { schema, agent };
}

/** In JSON mode the schema has no name; the agents' output shapes are distinct enough to tell. */
function agentFromSchema(s: JsonSchema): string {
  return `unnamed(${Object.keys(s.properties ?? {}).join(',')})`;
}

// `npx tsx test/openai-server.ts [port]`: the same server on its own, to run the CLI against by hand
// (OPENAI_BASE_URL=<printed URL> OPENAI_API_KEY=any muse generate --provider openai ...).
if (require.main === module) {
  void startOpenAiTestServer(undefined, Number(process.argv[2] ?? 0)).then((s) =>
    console.log(`OpenAI-compatible test server at ${s.baseURL} (Ctrl-C stops it)`),
  );
}
