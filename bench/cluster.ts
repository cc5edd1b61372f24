/**
 * `npm run test:cluster`: muse on a production-shaped Temporal server, beside the dev server, in one run.
 * It builds go.temporal.io/server and temporal-sql-tool (stack/cluster.ts, cached after the first time),
 * creates the persistence and visibility schemas on PostgreSQL, starts the server from our config,
 * registers the namespace, and runs one simulated batch with two `muse worker` processes and
 * `muse generate --no-worker`. Then it checks: every conversation completed, the export's records
 * valid, the batch found by its search attribute. The same batch on a fresh dev server gives the
 * conversations/s to compare.
 *
 * With --tls the cluster's frontend serves mutual TLS (a CA, server and client certificates made with
 * openssl for the run) and every muse command and worker connects through Temporal's own settings:
 * TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH, TEMPORAL_TLS_SERVER_NAME.
 *
 *   npm run test:cluster -- [-n 100] [--pg postgres://postgres@127.0.0.1:5432/postgres] [--tls]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import pg from 'pg';
import { ensureClusterBinaries, setupSchemas, startCluster, SERVER_VERSION, type ClusterTls } from '../stack/cluster';
import { freePort } from '../stack/ports';
import { startDevServer, waitForTemporal } from '../stack/temporal';
import { ensureTemporalCli } from '../stack/temporal-cli';

const BIN = path.join(__dirname, '..', 'bin', 'muse.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function muse(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

async function recreate(adminUrl: string, name: string) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await c.end();
}

/** A CA, and a server (localhost, 127.0.0.1) and a client certificate it signed, for one run. */
function makeCertificates(dir: string): ClusterTls {
  fs.mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
  };
  const ca = ['-subj', '/CN=muse test CA', '-keyout', f('ca.key'), '-out', f('ca.pem')];
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', ...ca);
  for (const [name, ext] of [
    ['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ]) {
    fs.writeFileSync(f(`${name}.ext`), `${ext}\n`);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=muse ${name}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.pem`),
    );
  }
  return {
    ca: f('ca.pem'),
    cert: f('server.pem'),
    key: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
  };
}

/** How this script's own connections reach the server (muse's commands get the same from TEMPORAL_TLS_*). */
const connectOptions = (address: string, tls?: ClusterTls): ConnectionOptions => ({
  address,
  ...(tls
    ? {
        tls: {
          serverNameOverride: 'localhost',
          serverRootCACertificate: fs.readFileSync(tls.ca),
          clientCertPair: { crt: fs.readFileSync(tls.clientCert), key: fs.readFileSync(tls.clientKey) },
        },
      }
    : {}),
});

/** Stage 1, two workers, one batch: conversations/s and what the checks found. */
async function runOn(label: string, address: string, dataUrl: string, home: string, n: number, tls?: ClusterTls) {
  const env = {
    ...process.env,
    ...(tls
      ? {
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.ca,
          TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCert,
          TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKey,
          TEMPORAL_TLS_SERVER_NAME: 'localhost',
        }
      : {}),
    TEMPORAL_ADDRESS: address,
    DATABASE_URL: dataUrl,
    MUSE_HOME: home,
    MUSE_TASK_QUEUE: `cluster-${label}`,
  };
  for (const step of [
    ['catalog', 'demo'],
    ['catalog', 'caption'],
    ['catalog', 'filter'],
  ]) {
    const r = await muse(env, step);
    if (r.code !== 0) throw new Error(`${label}: muse ${step.join(' ')} failed: ${r.out.trim().split('\n').at(-1)}`);
  }
  const workers: ChildProcess[] = [0, 1].map(() => spawn(process.execPath, [BIN, 'worker'], { env, stdio: 'ignore' }));
  try {
    await sleep(8_000); // both workers polling before the batch starts
    const batch = `cluster-${label}-${Date.now().toString(36)}`;
    const t0 = Date.now();
    const gen = await muse(env, ['generate', '-n', String(n), '--batch', batch, '--no-worker']);
    const seconds = (Date.now() - t0) / 1000;
    const completed = Number(/(\d+) completed, (\d+) failed/.exec(gen.out)?.[1] ?? 0);
    const out = path.join(home, 'export', batch);
    const exported = await muse(env, ['export', batch, '--out', out]);
    const records = fs.existsSync(path.join(out, 'dataset.jsonl'))
      ? fs.readFileSync(path.join(out, 'dataset.jsonl'), 'utf8').split('\n').filter(Boolean).length
      : 0;
    const connection = await Connection.connect(connectOptions(address, tls));
    const client = new Client({ connection });
    let found = 0;
    for await (const _ of client.workflow.list({ query: `MuseBatchId="${batch}"` })) found++;
    await connection.close();
    return {
      server: label,
      tls: !!tls,
      conversations: n,
      completed,
      seconds: +seconds.toFixed(1),
      conversationsPerSecond: +(completed / seconds).toFixed(2),
      exportExit: exported.code,
      recordsExported: records,
      runsFoundBySearchAttribute: found,
    };
  } finally {
    for (const w of workers) w.kill('SIGINT');
    await sleep(2_000);
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '100' },
      pg: { type: 'string', default: process.env.MUSE_CLUSTER_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      tls: { type: 'boolean', default: false },
    },
  });
  const n = Number(values.n);
  const adminUrl = values.pg!;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-cluster-'));
  fs.chmodSync(work, 0o755);
  const dataUrl = (name: string) => {
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    return u.toString();
  };

  ensureClusterBinaries(console.log);
  const dbs = { adminUrl, persistence: 'muse_cluster_temporal', visibility: 'muse_cluster_visibility' };
  for (const d of [dbs.persistence, dbs.visibility, 'muse_cluster_data', 'muse_devserver_data'])
    await recreate(adminUrl, d);
  setupSchemas(dbs);
  const tls = values.tls ? makeCertificates(path.join(work, 'certs')) : undefined;
  const cluster = await startCluster(dbs, path.join(work, 'cluster', 'temporal.log'), tls);
  const rows = [];
  try {
    await waitForTemporal(connectOptions(cluster.address, tls), 120_000, cluster.process);
    // A server of this kind starts with no namespace: register muse's, as an operator would.
    const cli = await ensureTemporalCli(console.log);
    const tlsFlags = tls
      ? ['--tls-ca-path', tls.ca, '--tls-cert-path', tls.clientCert, '--tls-key-path', tls.clientKey]
      : [];
    if (tls) tlsFlags.push('--tls-server-name', 'localhost');
    const reg = spawn(cli, [
      'operator',
      'namespace',
      'create',
      '--namespace',
      'default',
      '--address',
      cluster.address,
      ...tlsFlags,
    ]);
    await new Promise((r) => reg.on('exit', r));
    for (let k = 0; k < 30; k++) {
      const c = await Connection.connect(connectOptions(cluster.address, tls));
      const ok = await c.workflowService
        .describeNamespace({ namespace: 'default' })
        .then(() => true)
        .catch(() => false);
      await c.close();
      if (ok) break;
      await sleep(1000);
    }
    await sleep(10_000); // the namespace reaches every service's cache
    rows.push(
      await runOn('cluster', cluster.address, dataUrl('muse_cluster_data'), path.join(work, 'home-cluster'), n, tls),
    );
  } finally {
    await cluster.stop();
  }
  const port = await freePort();
  const dev = startDevServer({
    cli: await ensureTemporalCli(console.log),
    port,
    uiPort: await freePort(),
    logFile: path.join(work, 'dev', 'temporal.log'),
  });
  try {
    await waitForTemporal(`127.0.0.1:${port}`, 60_000, dev);
    rows.push(
      await runOn('dev-server', `127.0.0.1:${port}`, dataUrl('muse_devserver_data'), path.join(work, 'home-dev'), n),
    );
  } finally {
    dev.kill('SIGTERM');
  }
  console.log(JSON.stringify({ temporalServer: SERVER_VERSION, persistence: 'postgres12', rows }, null, 2));
  const bad = rows.filter((r) => r.completed !== n || r.runsFoundBySearchAttribute < n || r.exportExit !== 0);
  if (bad.length) {
    console.error(
      `cluster: ${bad.map((r) => r.server).join(', ')} missed a check (all complete, export valid, search attribute finds every run)`,
    );
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
