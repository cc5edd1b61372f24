import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the test server saw of one chat-completions request. */
export interface SeenRequest {
  agent: string;
  model: string;
  temperature: number;
  images: number;
  imageUrls: string[];
  hasSchema: boolean;
  auth: string;
}

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; items?: JsonSchema; minItems?: number; anyOf?: JsonSchema[] };

/** A value that satisfies the schema, with words a product search can use. */
function instance(s: JsonSchema, agent: string, key = ''): unknown {
  const type = Array.isArray(s.type) ? s.type[0] : s.type ?? (s.anyOf ? undefined : 'string');
  if (!type && s.anyOf) return instance(s.anyOf[0], agent, key);
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, instance(v, agent, k)]));
    case 'array':
      return Array.from({ length: s.minItems ?? 1 }, (_, i) => `(${agent} ${i + 1}) a navy linen dress for a summer wedding`);
    case 'boolean':
      return true;
    case 'number':
    case 'integer':
      return 1;
    default:
      return key === 'query' || key === 'description' ? 'navy linen dress' : `(${agent}) a navy linen dress would suit a summer wedding`;
  }
}

/**
 * A local OpenAI-compatible chat-completions server on loopback: answers every agent call with a
 * schema-valid reply built from the request's own json_schema, and records what each request carried.
 * `fail` returns an HTTP status for a request instead (429, 401...).
 */
export async function startOpenAiTestServer(fail: (agent: string, n: number) => number | undefined = () => undefined) {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const r = JSON.parse(body);
      const format = r.response_format?.json_schema;
      const agent: string = format?.name ?? 'unknown';
      const parts = r.messages.flatMap((m: { content: unknown }) => (Array.isArray(m.content) ? m.content : []));
      const imageUrls = parts.filter((p: { type: string }) => p.type === 'image_url').map((p: { image_url: { url: string } }) => p.image_url.url);
      seen.push({ agent, model: r.model, temperature: r.temperature, images: imageUrls.length, imageUrls, hasSchema: r.response_format?.type === 'json_schema' && !!format?.schema, auth: req.headers.authorization ?? '' });
      const status = fail(agent, seen.length);
      if (status) {
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '0' } : {}) });
        res.end(JSON.stringify({ error: { message: `test server says ${status}`, type: 'test' } }));
        return;
      }
      const content = JSON.stringify(instance(format.schema, agent));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id: `chatcmpl-${seen.length}`, object: 'chat.completion', created: 0, model: r.model,
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
        usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseURL: `http://127.0.0.1:${port}/v1`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}
