/**
 * Restarts under a batch: `muse up` on a fresh MUSE_HOME (dev server on SQLite, embedded PostgreSQL),
 * stage 1 on the demo catalog, then `muse generate` (with its own worker) and one `muse worker`. At 30 %
 * of the batch the dev server is killed with SIGKILL; at 65 % the embedded PostgreSQL is restarted with
 * `pg_ctl restart -m fast`, as an operator would. It reports whether the batch completed, how long each
 * restart stalled progress, whether every muse process survived, and which manual steps were needed
 * (the target is none; `muse resume` would be one).
 *
 *   npx tsx bench/restart.ts [-n 300] [--concurrency 20]
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPool } from '../db/pool';
import { alive, childrenOf } from '../stack/processes';
import { freePort } from '../test/global-setup';
import { pgCtlRestart } from '../test/helpers';

const BIN = path.join(__dirname, '..', 'bin', 'muse.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { values } = parseArgs({
    options: { n: { type: 'string', default: '300' }, concurrency: { type: 'string', default: '20' } },
  });
  const n = Number(values.n);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-restart-'));
  fs.chmodSync(home, 0o755);
  const pgPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MUSE_HOME: home,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    MUSE_PG_PORT: String(pgPort),
  };
  delete env.DATABASE_URL;
  const muse = (...args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [BIN, ...args], { env, cwd: home, timeout: 600_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
  const step = async (...args: string[]) => {
    const r = await muse(...args);
    if (r.code !== 0) throw new Error(`muse ${args.join(' ')} failed:\n${r.out}`);
  };
  const t0 = Date.now();
  await step('up');
  for (const args of [
    ['catalog', 'demo'],
    ['catalog', 'caption'],
    ['catalog', 'filter'],
  ])
    await step(...args);
  const daemon = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')).pid as number;
  const pool = createPool(`postgres://postgres:postgres@127.0.0.1:${pgPort}/muse`, 2);

  const worker = spawn(process.execPath, [BIN, 'worker'], { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
  let workerExit: { code: number | null; signal: string | null; at: number } | undefined;
  const workerGone = new Promise<void>((r) =>
    worker.once('exit', (code, signal) => {
      workerExit = { code, signal, at: Date.now() - t0 };
      r();
    }),
  );
  let workerOut = '';
  worker.stdout.on('data', (d) => (workerOut += d));
  worker.stderr.on('data', (d) => (workerOut += d));
  const batchId = `restart-${n}`;
  const gen = spawn(
    process.execPath,
    [BIN, 'generate', '-n', String(n), '--batch', batchId, '--concurrency', String(values.concurrency)],
    { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let genOut = '';
  gen.stdout.on('data', (d) => (genOut += d));
  gen.stderr.on('data', (d) => (genOut += d));
  const genExit = new Promise<number>((r) => gen.once('exit', (c) => r(c ?? 1)));
  let genCode: number | undefined;
  void genExit.then((c) => {
    genCode = c;
  });

  const completed = async () => {
    try {
      return (
        await pool.query(`SELECT count(*)::int AS n FROM conversations WHERE batch_id = $1 AND status = 'completed'`, [
          batchId,
        ])
      ).rows[0].n as number;
    } catch {
      return undefined; // PostgreSQL is restarting
    }
  };
  /** Seconds from `at` until the completed count first grows past `from`. */
  const stallAfter = async (from: number, at: number) => {
    for (;;) {
      const c = await completed();
      if (c !== undefined && c > from) return +((Date.now() - at) / 1000).toFixed(1);
      if (Date.now() - at > 300_000) return undefined;
      await sleep(200);
    }
  };
  const waitFor = async (share: number) => {
    for (;;) {
      const c = await completed();
      if ((c ?? 0) >= share * n || genCode !== undefined) return c ?? 0;
      await sleep(200);
    }
  };

  const events: Record<string, unknown> = {};
  // 1. SIGKILL of the dev server.
  const at30 = await waitFor(0.3);
  const devServer = childrenOf(daemon).find((c) => c.cmd.includes('start-dev'))?.pid;
  if (!devServer) throw new Error('no dev server found under the stack daemon');
  const killedAt = Date.now();
  process.kill(devServer, 'SIGKILL');
  console.error(`restart: killed the dev server at ${at30} of ${n} completed`);
  events.devServerKill = { completedAtKill: at30, stallSeconds: await stallAfter(at30, killedAt) };

  // 2. pg_ctl restart -m fast of the embedded PostgreSQL, as its own user.
  const at65 = await waitFor(0.65);
  const restartedAt = Date.now();
  pgCtlRestart(path.join(home, 'pg'));
  console.error(`restart: restarted PostgreSQL at ${at65} of ${n} completed`);
  events.postgresRestart = {
    completedAtRestart: at65,
    restartSeconds: +((Date.now() - restartedAt) / 1000).toFixed(1),
    stallSeconds: await stallAfter(at65, restartedAt),
  };

  const code = await Promise.race([genExit, sleep(1_200_000).then(() => -1)]);
  const manualSteps: string[] = [];
  let done = await completed();
  if (done !== n) {
    manualSteps.push(`muse resume ${batchId}`);
    await muse('resume', batchId);
    done = await completed();
  }
  const workerSurvived = !workerExit;
  worker.kill('SIGINT');
  await workerGone;
  await pool.end();
  const downAt = Date.now();
  const down = await muse('down');
  const report = {
    conversations: n,
    completed: done,
    generateExit: code,
    generateOutputLines: genOut.trim().split('\n').length,
    ...(code === 0 ? {} : { generateOutput: genOut.trim().split('\n').slice(-20) }),
    workerSurvived,
    ...(workerSurvived ? {} : { workerExit, workerOutput: workerOut.trim().split('\n').slice(-5) }),
    ...events,
    manualSteps,
    downExit: down.code,
    downSeconds: +((Date.now() - downAt) / 1000).toFixed(1),
    daemonGone: !alive(daemon),
    wallSeconds: +((Date.now() - t0) / 1000).toFixed(1),
    home,
  };
  console.log(JSON.stringify(report, null, 2));
  if (done !== n || manualSteps.length || !workerSurvived || code !== 0 || down.code !== 0) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
