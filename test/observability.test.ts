import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
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
