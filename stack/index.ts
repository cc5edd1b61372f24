import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { config, paths, uiUrl } from './config';
import { canConnect, registerSearchAttributes } from './temporal';
import { ensureTemporalCli } from './temporal-cli';
import { ensureDatabase, waitForPostgres } from './postgres';
import { migrate, redact } from '../db/pool';
import { alive } from './processes';

export const StackState = z.object({
  pid: z.number().int(),
  temporalAddress: z.string(),
  uiUrl: z.string(),
  databaseUrl: z.string(),
  startedTemporal: z.boolean(),
  startedPostgres: z.boolean(),
});
export type StackState = z.infer<typeof StackState>;

export function readStackState(): StackState | undefined {
  try {
    const s = StackState.parse(JSON.parse(fs.readFileSync(paths.stackState(), 'utf8')));
    return alive(s.pid) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Where the other commands connect: the running stack's addresses, else the environment's. */
export function stackEndpoints(): { temporalAddress: string; databaseUrl: string; uiUrl: string } {
  const s = readStackState();
  // DATABASE_URL, when set, names the database even with a stack running (a second database on its server).
  if (s) return { ...s, databaseUrl: config.databaseUrl ?? s.databaseUrl };
  if (!config.databaseUrl) throw new Error('No stack is running and DATABASE_URL is not set: run `muse up` first.');
  return { temporalAddress: config.temporalAddress, databaseUrl: config.databaseUrl, uiUrl: uiUrl() };
}

/**
 * What the stack daemon and the servers it starts are given of the caller's environment: where things
 * are and how to reach them, never an LLM key (they make no LLM call).
 */
const STACK_ENV =
  /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|XDG_[A-Z_]+|NODE_EXTRA_CA_CERTS|DATABASE_URL|MUSE_(HOME|PG_PORT|CACHE_DIR|IMAGE_DIR|PG_CONNECT_TIMEOUT_MS)|TEMPORAL_(ADDRESS|NAMESPACE|UI_PORT|CLI_PATH))$/;
export const stackEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(env).filter(([k]) => STACK_ENV.test(k)));

/**
 * Starts (or attaches to) Temporal and PostgreSQL, then applies the migrations. Servers muse must start
 * are owned by a detached daemon, so they outlive this command. When both already run (a cluster, and
 * DATABASE_URL), there is nothing to own: no daemon is started, and `muse down` has nothing to stop.
 */
export async function up(log: (m: string) => void = console.log): Promise<StackState | Omit<StackState, 'pid'>> {
  let state: StackState | Omit<StackState, 'pid'> | undefined = readStackState();
  if (!state) {
    const temporalUp = await canConnect(config.temporalAddress);
    if (temporalUp && config.databaseUrl) {
      await registerSearchAttributes(config.temporalAddress);
      await ensureDatabase(config.databaseUrl);
      state = {
        temporalAddress: config.temporalAddress,
        uiUrl: uiUrl(),
        databaseUrl: config.databaseUrl,
        startedTemporal: false,
        startedPostgres: false,
      };
      log('attached to a running Temporal and to DATABASE_URL: nothing to start');
    } else {
      // Built here, not in the daemon, so a first build's progress shows on the user's terminal.
      const cli = temporalUp ? undefined : await ensureTemporalCli(log);
      fs.mkdirSync(paths.logs(), { recursive: true });
      const logFile = path.join(paths.logs(), 'stack.log');
      const out = fs.openSync(logFile, 'a');
      const daemon = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'muse.js'), 'stack-daemon'], {
        detached: true,
        stdio: ['ignore', out, out],
        env: { ...stackEnv(process.env), ...(cli ? { TEMPORAL_CLI_PATH: cli } : {}) },
      });
      daemon.unref();
      state = await waitForDaemon(daemon.pid!, logFile, 120_000);
    }
  }
  await waitForPostgres(state.databaseUrl, 30_000);
  const applied = await migrate(state.databaseUrl);
  if (applied.length) log(`migrations applied: ${applied.join(', ')}`);
  return state;
}

async function waitForDaemon(pid: number, logFile: string, timeoutMs: number): Promise<StackState> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const s = readStackState();
    if (s && s.pid === pid) return s;
    if (!alive(pid)) {
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`the stack daemon exited before it was ready; the end of ${logFile}:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the stack was not ready after ${timeoutMs} ms; see ${logFile}`);
}

/** Stops what `up` started; servers it only attached to are left running. */
export async function down(log: (m: string) => void = console.log): Promise<void> {
  const s = readStackState();
  if (!s) {
    log('no stack started by muse is running');
    return;
  }
  process.kill(s.pid, 'SIGTERM');
  // The daemon stops each server within a bound of its own (PostgreSQL 20 s, Temporal 10 s).
  const until = Date.now() + 45_000;
  while (alive(s.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  if (alive(s.pid))
    throw new Error(
      `the stack daemon (pid ${s.pid}) did not stop within 45 s; its log: ${path.join(paths.logs(), 'stack.log')}`,
    );
  log(
    `stopped ${[s.startedTemporal && 'Temporal', s.startedPostgres && 'PostgreSQL'].filter(Boolean).join(' and ') || 'nothing (attached only)'}`,
  );
}

export function describeStack(s: { temporalAddress: string; uiUrl: string; databaseUrl: string }): string {
  return [`Temporal:   ${s.temporalAddress}`, `Web UI:     ${s.uiUrl}`, `PostgreSQL: ${redact(s.databaseUrl)}`].join(
    '\n',
  );
}
