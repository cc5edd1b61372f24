import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { config } from './config';
import { isFree } from './ports';

/**
 * A production-shaped Temporal server (go.temporal.io/server, the four services in one process) on
 * PostgreSQL persistence and SQL visibility: what `npm run test:cluster` runs muse against. v1.30.4 is
 * the newest release whose go.mod this machine's Go (1.26.8) accepts without a replace directive.
 */
export const SERVER_VERSION = 'v1.30.4';
const BIN = path.join(config.cacheDir, 'cluster-bin');
const binary = (name: 'server' | 'sql') => path.join(BIN, name);

/** Builds the server and temporal-sql-tool with `go install` when they are not in the cache (~8 min on 2 cores). */
export function ensureClusterBinaries(log: (line: string) => void): void {
  const missing = (['server', 'sql'] as const).filter((b) => !fs.existsSync(binary(b)));
  if (missing.length === 0) return;
  log(`building the Temporal server ${SERVER_VERSION} with go install (several minutes on first use)`);
  const install = spawnSync('go', ['install', ...missing.map(modulePath)], {
    stdio: 'inherit',
    env: { ...process.env, GOBIN: BIN },
  });
  if (install.status !== 0) throw new Error(`go install of the Temporal server failed (exit ${install.status})`);
}

const modulePath = (b: 'server' | 'sql') =>
  `go.temporal.io/server/cmd/${b === 'server' ? 'server' : 'tools/sql'}@${SERVER_VERSION}`;

/** The module's own schema folders, from Go's module cache. */
function schemaDir(kind: 'temporal' | 'visibility'): string {
  const cache = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim();
  const dir = path.join(
    cache,
    `go.temporal.io/server@${SERVER_VERSION}`,
    'schema',
    'postgresql',
    'v12',
    kind,
    'versioned',
  );
  if (!fs.existsSync(dir)) throw new Error(`the schema folder ${dir} is missing: run the go install first`);
  return dir;
}

export interface ClusterDatabases {
  /** An admin URL of the PostgreSQL server the two databases are created on. */
  adminUrl: string;
  persistence: string;
  visibility: string;
}

/** Creates both databases and brings their schemas to the server's version with temporal-sql-tool. */
export function setupSchemas(db: ClusterDatabases): void {
  const u = new URL(db.adminUrl);
  const base = ['--plugin', 'postgres12', '--ep', u.hostname, '-p', u.port || '5432', '-u', u.username || 'postgres'];
  if (u.password) base.push('--pw', decodeURIComponent(u.password));
  for (const [name, kind] of [
    [db.persistence, 'temporal'],
    [db.visibility, 'visibility'],
  ] as const) {
    for (const args of [
      ['--db', name, 'create-database'],
      ['--db', name, 'setup-schema', '-v', '0.0'],
      ['--db', name, 'update-schema', '-d', schemaDir(kind)],
    ]) {
      const r = spawnSync(binary('sql'), [...base, ...args], { encoding: 'utf8' });
      if (r.status !== 0 && !/already exists/.test(r.stderr + r.stdout))
        throw new Error(
          `temporal-sql-tool ${args.slice(2).join(' ')} on ${name} failed: ${(r.stderr || r.stdout).trim()}`,
        );
    }
  }
}

/** PEM files for the frontend's mutual TLS: the server's certificate and key, and the CA its clients' certificates come from. */
export interface ClusterTls {
  ca: string;
  cert: string;
  key: string;
  /** A client certificate and key of that CA, for the server's own worker service. */
  clientCert: string;
  clientKey: string;
}

/** The global.tls section: the frontend serves TLS and requires a client certificate of the CA. */
function tlsSection(t: ClusterTls): string {
  return [
    '  tls:',
    '    frontend:',
    '      server:',
    `        certFile: '${t.cert}'`,
    `        keyFile: '${t.key}'`,
    '        requireClientAuth: true',
    `        clientCaFiles: ['${t.ca}']`,
    '      client:',
    "        serverName: 'localhost'",
    `        rootCaFiles: ['${t.ca}']`,
    // The worker service's system workflows reach the frontend as a client, with a certificate of their own.
    '    systemWorker:',
    `      certFile: '${t.clientCert}'`,
    `      keyFile: '${t.clientKey}'`,
    '      client:',
    "        serverName: 'localhost'",
    `        rootCaFiles: ['${t.ca}']`,
  ].join('\n');
}

export interface RunningCluster {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the server from our config (stack/cluster/temporal.yaml) on free ports; logs go to `logFile`. */
export async function startCluster(db: ClusterDatabases, logFile: string, tls?: ClusterTls): Promise<RunningCluster> {
  const u = new URL(db.adminUrl);
  // Membership ports are stored as smallint: every port stays under 32768 (the OS's picks do not).
  const names = [
    'FRONTEND_PORT',
    'FRONTEND_MEMBERSHIP_PORT',
    'FRONTEND_HTTP_PORT',
    'HISTORY_PORT',
    'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_PORT',
    'MATCHING_MEMBERSHIP_PORT',
    'WORKER_PORT',
    'WORKER_MEMBERSHIP_PORT',
    'METRICS_PORT',
  ];
  const ports: Record<string, string> = {};
  for (let port = 27300; Object.keys(ports).length < names.length && port < 32768; port++)
    if (await isFree(port)) ports[names[Object.keys(ports).length]] = String(port);
  const dir = path.dirname(logFile);
  fs.mkdirSync(dir, { recursive: true });
  const dynamic = path.join(dir, 'dynamicconfig.yaml');
  fs.copyFileSync(path.join(__dirname, 'cluster', 'dynamicconfig.yaml'), dynamic);
  const values: Record<string, string> = {
    ...ports,
    DB: db.persistence,
    VISIBILITY_DB: db.visibility,
    PG_ADDRESS: `${u.hostname}:${u.port || '5432'}`,
    PG_USER: u.username || 'postgres',
    PG_PASSWORD: decodeURIComponent(u.password),
    DYNAMIC_CONFIG: dynamic,
    TLS: tls ? tlsSection(tls) : '',
  };
  const template = fs.readFileSync(path.join(__dirname, 'cluster', 'temporal.yaml'), 'utf8');
  const file = path.join(dir, 'temporal.yaml');
  fs.writeFileSync(
    file,
    template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
      if (!(k in values)) throw new Error(`stack/cluster/temporal.yaml: no value for {{${k}}}`);
      return values[k];
    }),
  );
  const out = fs.openSync(logFile, 'a');
  const child = spawn(binary('server'), ['--config-file', file, '--allow-no-auth', 'start'], {
    stdio: ['ignore', out, out],
  });
  return {
    address: `127.0.0.1:${ports.FRONTEND_PORT}`,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 15_000);
        child.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    },
  };
}
