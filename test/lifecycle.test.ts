import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelBatch, resumeBatch, startBatch } from '../client/batches';
import { batchStatus } from '../client/batch-status';
import { createBatch } from '../db/batches';
import { dropFreshDatabases, freshDatabase, rig, runMuse, type CliRun, type TestRig, uniqueBatch } from './helpers';
import { startOpenAiTestServer } from './openai-server';
import { createPool } from '../db/pool';
import { batchWorkflow, type BatchInput } from '../workflows/batch';
import { batchWorkflowId } from '../common/ids';

const BIN = path.join(__dirname, '..', 'bin', 'muse.js');
const queue = `life-${randomUUID()}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const muse = (env: Record<string, string>, ...args: string[]) =>
  runMuse({ ...process.env, MUSE_TASK_QUEUE: queue, ...env }, args);

/** A failed command: exit 1, quickly, one line on stderr that names a log file holding the details. */
function expectOneLineFailure(r: CliRun, why: RegExp) {
  expect(r.code, r.stderr + r.stdout).toBe(1);
  expect(r.ms).toBeLessThan(30_000);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(why);
  const log = /\(details: (.+\.log)\)$/.exec(lines[0])?.[1];
  expect(log && fs.existsSync(log), lines[0]).toBe(true);
  expect(fs.readFileSync(log!, 'utf8')).toContain('Error');
}

let noStage1: string;
beforeAll(async () => {
  noStage1 = await freshDatabase('nostage1', { stage1: false });
});
const rigs: TestRig[] = [];
afterAll(async () => {
  for (const r of rigs) await r.close();
  await dropFreshDatabases();
});

describe('setup mistakes fail in seconds, in one line, before anything starts', () => {
  it('stage 1 not run: profiles and generate say to run the catalog steps, and no batch is left behind', async () => {
    const env = { DATABASE_URL: noStage1 };
    expectOneLineFailure(await muse(env, 'profiles', '-n', '10'), /muse catalog caption.*muse catalog filter/);
    const batch = `nos1-${randomUUID().slice(0, 8)}`;
    expectOneLineFailure(await muse(env, 'generate', '-n', '5', '--batch', batch), /muse catalog caption/);
    const list = await muse(env, 'batches');
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(batch);
  });

  it('the openai provider without a key, or with a key the endpoint rejects, names the variable', async () => {
    const server = await startOpenAiTestServer(undefined, 0, { apiKey: 'the-right-key' });
    try {
      const base = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: '' };
      expectOneLineFailure(
        await muse(base, 'generate', '-n', '2', '--provider', 'openai'),
        /needs a key for the \w+ role: set OPENAI_API_KEY/,
      );
      expectOneLineFailure(
        await muse({ ...base, OPENAI_API_KEY: 'wrong' }, 'generate', '-n', '2', '--provider', 'openai'),
        /rejected the key in OPENAI_API_KEY \(HTTP 401\)/,
      );
      expectOneLineFailure(
        await muse(
          { ...base, OPENAI_API_KEY: 'the-right-key', MUSE_API_KEY_REWRITER: 'wrong' },
          'generate',
          '-n',
          '2',
          '--provider',
          'openai',
        ),
        /rejected the key in MUSE_API_KEY_REWRITER/,
      );
      expect(server.seen).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});

describe('a worker takes only work it can do, for its own database', () => {
  it('a worker of another database never sees a batch, and a worker without the openai key never takes an openai batch', async () => {
    const other = await freshDatabase('otherdb');
    const worker = spawn(process.execPath, [BIN, 'worker'], {
      env: { ...process.env, MUSE_TASK_QUEUE: queue, DATABASE_URL: other, OPENAI_API_KEY: '' },
    });
    let said = '';
    worker.stdout.on('data', (d) => (said += d));
    worker.stderr.on('data', (d) => (said += d));
    try {
      for (let k = 0; k < 600 && !said.includes('polling'); k++) await sleep(100);
      expect(said).toContain(
        'not serving the openai provider: the openai provider needs a key for the catalog role: set OPENAI_API_KEY',
      );
      // Started with no worker of its own on the main database: the other database's worker must leave it alone.
      const detachAfterStart = async (env: Record<string, string>, ...args: string[]) => {
        const child = spawn(process.execPath, [BIN, ...args, '--no-worker'], {
          env: { ...process.env, MUSE_TASK_QUEUE: queue, ...env },
        });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        for (let k = 0; k < 300 && !/batch \S+: http/.test(out); k++) await sleep(100);
        child.kill('SIGINT');
        await new Promise((r) => child.once('exit', r));
        return out;
      };
      const mine = `mydb-${randomUUID().slice(0, 8)}`;
      await detachAfterStart({}, 'generate', '-n', '2', '--batch', mine, '--seed', '61');
      // An openai batch on the worker's own database: it has no key, so it must not take it.
      const server = await startOpenAiTestServer();
      const paid = `oadb-${randomUUID().slice(0, 8)}`;
      try {
        await detachAfterStart(
          { DATABASE_URL: other, OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'k' },
          'generate',
          '-n',
          '2',
          '--batch',
          paid,
          '--provider',
          'openai',
        );
        await sleep(4000);
        const pool = createPool(other);
        try {
          expect((await pool.query('SELECT count(*)::int AS n FROM batches WHERE id = $1', [mine])).rows[0].n).toBe(0);
          expect(
            (await pool.query('SELECT count(*)::int AS n FROM conversations WHERE batch_id = $1', [paid])).rows[0].n,
          ).toBe(0);
        } finally {
          await pool.end();
        }
        expect(server.seen).toHaveLength(0);
        const st = await muse({ DATABASE_URL: other }, 'status', paid);
        expect(st.stdout).toMatch(
          /no worker is polling task queue \S+\/openai: start `muse worker` with the openai settings/,
        );
      } finally {
        await server.close();
      }
      expect((await muse({}, 'status', mine)).stdout).toContain('no worker is polling task queue');
      const done = await muse({}, 'resume', mine);
      expect(done.stdout).toContain(`batch ${mine}: 2 completed, 0 failed`);
    } finally {
      worker.kill('SIGINT');
      await new Promise((r) => worker.once('exit', r));
    }
  });
});

describe('a batch id is never a dead end', () => {
  it('a batch nobody works on is listed, status says why it waits, and generate again attaches to it and finishes', async () => {
    const batch = `nowk-${randomUUID().slice(0, 8)}`;
    // A queue of its own: the server lists a worker of another test as polling for a while after it stopped.
    const own = { MUSE_TASK_QUEUE: `${queue}-nowk` };
    // Started with no worker anywhere on the queue, then detached from.
    const child = spawn(
      process.execPath,
      [BIN, 'generate', '-n', '3', '--batch', batch, '--no-worker', '--seed', '5'],
      { env: { ...process.env, ...own } },
    );
    // Ctrl-C the moment the batch line shows, as a user would: from then on it detaches at once,
    // even though no worker answers the progress query.
    let out = '';
    let t0 = 0;
    child.stdout.on('data', (d) => {
      out += d;
      if (!t0 && out.includes(`batch ${batch}`)) {
        t0 = Date.now();
        child.kill('SIGINT');
      }
    });
    await new Promise((r) => child.once('exit', r));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(out).toContain(`detached from ${batch}`);

    const list = await muse(own, 'batches');
    expect(list.stdout).toMatch(new RegExp(`${batch}\\s+running\\s+0/3`));
    const status = await muse(own, 'status', batch);
    expect(status.stdout).toContain(`no worker is polling task queue ${own.MUSE_TASK_QUEUE}`);
    const again = await muse(own, 'generate', '-n', '3', '--batch', batch);
    expect(again.stdout).toContain(`batch ${batch} is already running: attached to it`);
    expect(again.stdout).toContain(`batch ${batch}: 3 completed, 0 failed`);
    expect(again.code).toBe(0);
    expect((await muse(own, 'batches')).stdout).toMatch(new RegExp(`${batch}\\s+complete\\s+3/3`));
  });

  it('a batch whose workflow failed in stage 2 resumes, profiles and all', async () => {
    const taskQueue = `life-fail-${randomUUID()}`;
    const broken = await rig({
      taskQueue,
      wrap: () => ({
        prepareBatch: async () => {
          throw ApplicationFailure.nonRetryable('injected: stage 2 is broken', 'ConfigurationError');
        },
      }),
    });
    const batchId = uniqueBatch('failed');
    const h = await startBatch(broken, { batchId, size: 3, seed: 31, concurrency: 3, provider: 'simulated' });
    await expect(broken.run(() => h.result())).rejects.toThrow();
    await broken.close();

    const t = await rig({ taskQueue });
    rigs.push(t);
    const resumed = await resumeBatch(t, batchId);
    expect(resumed).toMatchObject({ attached: false, conversations: 3 });
    expect(await t.run(() => resumed!.handle.result())).toMatchObject({ total: 3, done: 3, failed: 0 });
    const n = (
      await t.pool.query(`SELECT count(*)::int AS n FROM conversations WHERE batch_id = $1 AND status = 'completed'`, [
        batchId,
      ])
    ).rows[0].n;
    expect(n).toBe(3);
  });

  it('a batch whose workflow task keeps failing is stuck: generate says so, status says so, and resume restarts it', async () => {
    const t = await rig();
    rigs.push(t);
    const batchId = uniqueBatch('stuck');
    await createBatch(t.pool, { batchId, size: 2, seed: 71, concurrency: 2, provider: 'simulated' });
    // An input the workflow code cannot read: its workflow task throws, and Temporal retries it for ever.
    await t.client.workflow.start(batchWorkflow, {
      workflowId: batchWorkflowId(batchId),
      taskQueue: t.taskQueue,
      args: [null as unknown as BatchInput],
    });
    const attempts = async () =>
      (await t.client.workflow.getHandle(batchWorkflowId(batchId)).describe()).raw.pendingWorkflowTask?.attempt ?? 0;
    for (let k = 0; k < 600 && (await attempts()) < 3; k++) await sleep(100);
    await expect(startBatch(t, { batchId, size: 2, seed: 71, concurrency: 2, provider: 'simulated' })).rejects.toThrow(
      `batch ${batchId} is stuck`,
    );
    expect((await batchStatus(t, batchId)).problem).toMatch(/workflow task has failed \d+ times .*muse resume/);
    const resumed = await resumeBatch(t, batchId);
    expect(resumed?.restarted).toMatch(
      /stuck \(workflow task failed \d+ times\), so it was terminated and started again/,
    );
    expect(await t.run(() => resumed!.handle.result())).toMatchObject({ done: 2, failed: 0 });
  });

  it('cancel stops a running batch and keeps what it finished; resume completes the rest, nothing twice', async () => {
    const t = await rig({
      wrap: (real) => ({
        systemRecommends: async (input) => {
          await sleep(300);
          return real.systemRecommends(input);
        },
      }),
    });
    rigs.push(t);
    const batchId = uniqueBatch('cancel');
    const h = await startBatch(t, { batchId, size: 8, seed: 41, concurrency: 2, provider: 'simulated' });
    const done = async () =>
      (
        await t.pool.query(
          `SELECT count(*)::int AS n FROM conversations WHERE batch_id = $1 AND status = 'completed'`,
          [batchId],
        )
      ).rows[0].n as number;
    for (let k = 0; k < 600 && (await done()) < 2; k++) await sleep(100);
    expect(await cancelBatch(t, batchId)).toEqual([batchWorkflowId(batchId)]);
    await expect(t.run(() => h.result())).rejects.toThrow();
    expect((await t.client.workflow.getHandle(batchWorkflowId(batchId)).describe()).status.name).toBe('CANCELLED');
    // A conversation in its last step may still finish as the cancel lands: wait until none runs, then count.
    const ids = Array.from({ length: 8 }, (_, k) => `muse-${batchId}-${k}`);
    const running = async () =>
      (
        await Promise.all(
          ids.map((id) =>
            t.client.workflow
              .getHandle(id)
              .describe()
              .then(
                (d) => d.status.name,
                () => 'none',
              ),
          ),
        )
      ).filter((st) => st === 'RUNNING').length;
    for (let k = 0; k < 100 && (await running()) > 0; k++) await sleep(100);
    const kept = await done();
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(8);
    expect(await cancelBatch(t, batchId)).toEqual([]);

    const resumed = await resumeBatch(t, batchId);
    expect(resumed?.conversations).toBe(8 - kept);
    expect(await t.run(() => resumed!.handle.result())).toMatchObject({ done: 8 - kept, failed: 0 });
    expect(await done()).toBe(8);
    const dup = await t.pool.query(
      `SELECT 1 FROM utterances WHERE conversation_id LIKE $1 GROUP BY conversation_id, idx HAVING count(*) > 1`,
      [`muse-${batchId}-%`],
    );
    expect(dup.rowCount).toBe(0);
  });
});
