import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPostgresCanEnter, waitForPostgres } from '../stack/postgres';
import { alive, childrenOf as children } from '../stack/processes';
import { canConnect, startDevServer, waitForTemporal } from '../stack/temporal';
import { ensureTemporalCli } from '../stack/temporal-cli';
import { freePort } from './global-setup';
import { env, pgCtlRestart, runMuse } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const muse = (e: NodeJS.ProcessEnv, ...args: string[]) => runMuse(e, args, 120_000);

const environ = (pid: number) => fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
async function until(what: string, ok: () => Promise<boolean> | boolean, ms: number) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what} within ${ms} ms`);
    await sleep(250);
  }
}

describe('muse up and the stack daemon', () => {
  it('attaching to a running Temporal and DATABASE_URL starts no daemon and succeeds every time', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-attach-'));
    const e = {
      ...process.env,
      MUSE_HOME: home,
      TEMPORAL_ADDRESS: env().temporalAddress,
      DATABASE_URL: env().databaseUrl,
    };
    for (let k = 0; k < 5; k++) {
      const r = await muse(e, 'up');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('nothing to start');
      expect(r.stdout).toContain(`Temporal:   ${env().temporalAddress}`);
    }
    expect(fs.existsSync(path.join(home, 'stack.json'))).toBe(false);
    expect((await muse(e, 'down')).stdout).toContain('no stack started by muse is running');
  });

  it('restarts a dev server that died without stopping PostgreSQL, rides out a PostgreSQL restart, stops cleanly, and is given no LLM key', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-stack-'));
    fs.chmodSync(home, 0o755);
    const address = `127.0.0.1:${await freePort()}`;
    const pgPort = await freePort();
    const e: NodeJS.ProcessEnv = {
      ...process.env,
      MUSE_HOME: home,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_UI_PORT: String(await freePort()),
      MUSE_PG_PORT: String(pgPort),
      OPENAI_API_KEY: 'sk-secret-openai',
      MUSE_API_KEY_USER: 'sk-secret-user',
    };
    delete e.DATABASE_URL;
    const url = `postgres://postgres:postgres@127.0.0.1:${pgPort}/muse`;
    let daemon = 0;
    try {
      const r = await muse(e, 'up');
      expect(r.code, r.stderr + r.stdout).toBe(0);
      daemon = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')).pid;
      const devServer = () => children(daemon).find((c) => c.cmd.includes('start-dev'));
      const postmaster = () => Number(fs.readFileSync(path.join(home, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      // Keys stay with the commands that call models: not the daemon, not the servers it starts.
      for (const pid of [daemon, devServer()!.pid, postmaster()])
        expect(environ(pid), `pid ${pid}`).not.toMatch(/sk-secret/);

      // kill -9 of the dev server: the daemon starts it again (same SQLite file) and PostgreSQL stays up.
      const first = devServer()!.pid;
      const pgBefore = postmaster();
      process.kill(first, 'SIGKILL');
      await until(
        'a new dev server',
        async () => {
          // One look at the process table: between two looks the old server may vanish before the new one shows.
          const now = devServer();
          return !!now && now.pid !== first && (await canConnect(address));
        },
        60_000,
      );
      expect(alive(daemon)).toBe(true);
      expect(postmaster()).toBe(pgBefore);
      await waitForPostgres(url, 5_000);

      // pg_ctl restart -m fast, as an operator would: the daemon keeps running and watches the new server.
      pgCtlRestart(path.join(home, 'pg'));
      expect(postmaster()).not.toBe(pgBefore);
      await waitForPostgres(url, 10_000);
      await sleep(3000);
      expect(alive(daemon)).toBe(true);
      expect(fs.readFileSync(path.join(home, 'logs', 'stack.log'), 'utf8')).toMatch(/answers again/);

      const pgAfter = postmaster();
      const dev = devServer()!.pid;
      const down = await muse(e, 'down');
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toContain('stopped Temporal and PostgreSQL');
      for (const pid of [daemon, dev, pgAfter]) expect(alive(pid), `pid ${pid} still running`).toBe(false);
    } finally {
      if (daemon && alive(daemon)) process.kill(daemon, 'SIGTERM');
    }
  });

  it('as root, a folder the postgres user cannot enter is named with what to run', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-0700-'));
    const closed = path.join(root, 'private');
    fs.mkdirSync(path.join(closed, 'clone', '.muse'), { recursive: true });
    fs.chmodSync(root, 0o755);
    fs.chmodSync(closed, 0o700);
    expect(() => checkPostgresCanEnter([path.join(closed, 'clone', '.muse')])).toThrow(
      `embedded PostgreSQL runs as the user postgres, who cannot enter ${closed} (mode 0700): run \`chmod o+x ${closed}\`, or set DATABASE_URL to a PostgreSQL server of yours`,
    );
    fs.chmodSync(closed, 0o711);
    expect(() => checkPostgresCanEnter([path.join(closed, 'clone', '.muse')])).not.toThrow();
  });
  it("muse worker keeps the SDK's own warnings in its log: a dev server that goes away puts nothing on the terminal", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-quiet-'));
    const port = await freePort();
    const dev = startDevServer({
      cli: await ensureTemporalCli(),
      port,
      uiPort: await freePort(),
      logFile: path.join(home, 'temporal.log'),
    });
    const worker = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'muse.js'), 'worker'], {
      env: { ...process.env, MUSE_HOME: home, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, DATABASE_URL: env().databaseUrl },
    });
    let out = '';
    worker.stdout.on('data', (d) => (out += d));
    worker.stderr.on('data', (d) => (out += d));
    try {
      await waitForTemporal(`127.0.0.1:${port}`, 60_000, dev);
      await until('the worker polling', () => out.includes('polling'), 60_000);
      const started = out;
      dev.kill('SIGKILL');
      // The SDK retries its polls and says so at WARN: into worker.log, not onto the terminal.
      const log = path.join(home, 'logs', 'worker.log');
      const logged = () => fs.existsSync(log) && /retried/.test(fs.readFileSync(log, 'utf8'));
      await until('a retried poll said somewhere', () => logged() || /retried/.test(out), 60_000);
      await sleep(1000);
      expect(logged()).toBe(true);
      expect(out).toBe(started);
    } finally {
      worker.kill('SIGKILL');
      dev.kill('SIGKILL');
    }
  });
});
