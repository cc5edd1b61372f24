import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { config } from './config';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';

export interface DevServerOptions {
  cli: string;
  port: number;
  uiPort: number;
  /** SQLite file; omit for an in-memory server (tests). */
  dbFile?: string;
  logFile: string;
}

/** Starts `temporal server start-dev` as a child process; the caller owns its lifetime. */
export function startDevServer(o: DevServerOptions): ChildProcess {
  fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
  if (o.dbFile) fs.mkdirSync(path.dirname(o.dbFile), { recursive: true });
  const out = fs.openSync(o.logFile, 'a');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--namespace',
    config.temporalNamespace,
    '--log-level',
    'warn',
    '--log-format',
    'pretty',
  ];
  // WAL with synchronous=normal: durable across a crash of the server, without an fsync per commit.
  if (o.dbFile)
    args.push(
      '--db-filename',
      o.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
    );
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  // An activity scheduled by a workflow task goes straight back to the worker that completed it, not
  // through the matching service: less server work per activity (its events are the same).
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  // The dev server needs nothing of ours from the environment: certainly not an LLM key.
  const env = Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']
      .filter((k) => process.env[k] !== undefined)
      .map((k) => [k, process.env[k]]),
  );
  return spawn(o.cli, args, { stdio: ['ignore', out, out], env });
}

export async function canConnect(to: string | ConnectionOptions, timeoutMs = 1000): Promise<boolean> {
  try {
    const c = await Connection.connect({
      ...(typeof to === 'string' ? { address: to } : to),
      connectTimeout: timeoutMs,
    });
    await c.workflowService.getSystemInfo({});
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether Temporal answers within `seconds`: tried again and again, each try given longer (1 s, then 2,
 * then 4, up to what is left), so a server slow to accept on a loaded machine is reached and one that is
 * down is named within the bound.
 */
export async function answersWithin(to: string | ConnectionOptions, seconds: number): Promise<boolean> {
  const until = Date.now() + seconds * 1000;
  for (let tryMs = 1000; ; tryMs *= 2) {
    const started = Date.now();
    if (await canConnect(to, Math.max(250, Math.min(tryMs, until - Date.now())))) return true;
    if (Date.now() >= until) return false;
    // A refused connection comes back at once: wait a little rather than spin.
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(250 - (Date.now() - started), until - Date.now()))));
    if (Date.now() >= until) return false;
  }
}

export async function waitForTemporal(
  to: string | ConnectionOptions,
  timeoutMs: number,
  child?: ChildProcess,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) throw new Error(`the Temporal server exited with code ${child.exitCode}`);
    if (await canConnect(to)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Temporal at ${typeof to === 'string' ? to : to.address} did not answer within ${timeoutMs} ms`);
}

/** Idempotent: an attached server started by someone else gets our search attributes too. */
export async function registerSearchAttributes(address: string, namespace = config.temporalNamespace): Promise<void> {
  const c = await Connection.connect({ address });
  try {
    await ensureSearchAttributes(c, namespace);
  } finally {
    await c.close();
  }
}

/**
 * Adds muse's search attributes the namespace lacks. Where the server does not let a client add them
 * (Temporal Cloud, a locked-down cluster), fails with the attributes to create and how.
 */
export async function ensureSearchAttributes(c: Connection, namespace: string): Promise<void> {
  let missing: Array<[string, 'Keyword']>;
  try {
    const existing = await c.operatorService.listSearchAttributes({ namespace });
    missing = Object.entries(SEARCH_ATTRIBUTES).filter(([n]) => !(n in (existing.customAttributes ?? {})));
    if (missing.length === 0) return;
    // Enum values of temporal.api.enums.v1.IndexedValueType.
    const code = { Keyword: 2 } as const;
    await c.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([n, t]) => [n, code[t]])),
    });
  } catch (e) {
    const names = Object.keys(SEARCH_ATTRIBUTES).join(', ');
    const create = Object.keys(SEARCH_ATTRIBUTES)
      .map((n) => `--name ${n} --type Keyword`)
      .join(' ');
    throw new Error(
      `namespace ${namespace} needs the Keyword search attributes ${names}, and this client may not add them ` +
        `(${(e as Error).message}): create them with \`temporal operator search-attribute create --namespace ${namespace} ${create}\`` +
        ` (Temporal Cloud: \`tcld namespace search-attributes add\` or the Cloud UI), then run this again`,
      { cause: e },
    );
  }
}
