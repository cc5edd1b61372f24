import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../stack/ports';
import { runMuse } from './helpers';
import { startOpenAiTestServer } from './openai-server';

const BIN = path.join(__dirname, '..', 'bin', 'muse.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe('a worker with --metrics-port', () => {
  it("serves Prometheus metrics: muse's agent calls, tokens and cost, and the Temporal worker's own", async () => {
    const server = await startOpenAiTestServer(undefined, 0, { vary: true });
    closers.push(server.close);
    const port = await freePort();
    const env = {
      ...process.env,
      MUSE_TASK_QUEUE: `metrics-${randomUUID().slice(0, 8)}`,
      OPENAI_BASE_URL: server.baseURL,
      OPENAI_API_KEY: 'k',
    };
    const worker = spawn(process.execPath, [BIN, 'worker', '--metrics-port', String(port)], { env });
    closers.push(() => worker.kill('SIGINT'));
    let said = '';
    worker.stdout.on('data', (d) => (said += d));
    worker.stderr.on('data', (d) => (said += d));
    for (let k = 0; k < 600 && !said.includes('Ctrl-C'); k++) await sleep(100);
    expect(said).toContain(`metrics on http://127.0.0.1:${port}/metrics`);

    const batch = `metrics-${randomUUID().slice(0, 8)}`;
    const run = await runMuse(
      env,
      ['generate', '-n', '2', '--batch', batch, '--provider', 'openai', '--no-worker'],
      110_000,
    );
    expect(run.stdout + run.stderr).toContain('2 completed, 0 failed');

    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const calls = /^muse_agent_calls_total\{agent="recommendation",model="[^"]+",status="ok"\} (\d+)$/m.exec(body);
    expect(Number(calls?.[1])).toBeGreaterThan(0);
    expect(body).toMatch(/^muse_agent_tokens_total\{agent="recommendation",model="[^"]+",kind="input"\} \d+/m);
    expect(body).toContain('# TYPE muse_rate_limited_total counter');
    // The runtime's: activity slots and latencies, per task queue.
    expect(body).toMatch(/^temporal_worker_task_slots_available\{/m);
    expect(body).toMatch(/^temporal_activity_execution_latency_bucket\{/m);
  });
});

/** An OTLP/HTTP trace receiver: the JSON bodies an OpenTelemetry exporter posts to /v1/traces. */
async function otlpReceiver() {
  const spans: Array<{ name: string; traceId: string; parentSpanId?: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/traces')
        for (const rs of JSON.parse(body).resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('a worker with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('sends OpenTelemetry spans of the workflows and their activities to the OTLP endpoint', async () => {
    const otlp = await otlpReceiver();
    closers.push(otlp.close);
    const env = {
      ...process.env,
      MUSE_TASK_QUEUE: `traces-${randomUUID().slice(0, 8)}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_SERVICE_NAME: 'muse-test',
    };
    const worker = spawn(process.execPath, [BIN, 'worker'], { env });
    const stopped = new Promise((r) => worker.once('exit', r));
    closers.push(() => worker.kill('SIGINT'));
    let said = '';
    worker.stdout.on('data', (d) => (said += d));
    worker.stderr.on('data', (d) => (said += d));
    for (let k = 0; k < 600 && !said.includes('Ctrl-C'); k++) await sleep(100);
    expect(said).toContain(`traces to ${otlp.url}`);

    const batch = `traces-${randomUUID().slice(0, 8)}`;
    const run = await runMuse(env, ['generate', '-n', '1', '--batch', batch, '--no-worker'], 110_000);
    expect(run.stdout + run.stderr).toContain('1 completed, 0 failed');
    // Stopping the worker flushes what the batch processor still holds.
    worker.kill('SIGINT');
    await stopped;
    const names = new Set(otlp.spans.map((s) => s.name));
    expect(names).toContain('RunWorkflow:batchWorkflow');
    expect(names).toContain('RunWorkflow:conversationWorkflow');
    expect([...names].some((n) => n.startsWith('RunActivity:'))).toBe(true);
    // One trace for the batch: its children, their activities' starts and the activities' runs all in it.
    const root = otlp.spans.find((s) => s.name === 'RunWorkflow:batchWorkflow')!;
    expect(otlp.spans.filter((s) => s.traceId !== root.traceId).map((s) => s.name)).toEqual([]);
    expect(otlp.spans.filter((s) => s.name.startsWith('RunActivity:') && !s.parentSpanId)).toEqual([]);
  });
});
