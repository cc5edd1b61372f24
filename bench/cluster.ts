/**
 * `npm run test:cluster`: muse on a production-shaped Temporal server, beside the dev server, in one run.
 * It builds go.temporal.io/server and temporal-sql-tool (stack/cluster.ts, cached after the first time),
 * creates the persistence and visibility schemas on PostgreSQL, starts the server from our config,
 * registers the namespace, and runs one simulated batch with two `muse worker` processes and
 * `muse generate --no-worker`. Then it checks: every conversation completed, the export's records
 * valid, the batch found by its search attribute. The same batch on a fresh dev server gives the
 * conversations/s to compare.
 *
 *   npm run test:cluster -- [-n 100] [--pg postgres://postgres@127.0.0.1:5432/postgres]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { ensureClusterBinaries, setupSchemas, startCluster, SERVER_VERSION } from '../stack/cluster';
import { freePort } from '../stack/ports';
import { ensureTemporalCli, startDevServer, waitForTemporal } from '../stack/temporal';

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

/** Stage 1, two workers, one batch: conversations/s and what the checks found. */
async function runOn(label: string, address: string, dataUrl: string, home: string, n: number) {
  const env = {
    ...process.env,
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
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    let found = 0;
    for await (const _ of client.workflow.list({ query: `MuseBatchId="${batch}"` })) found++;
    await connection.close();
    return {
      server: label,
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
  const cluster = await startCluster(dbs, path.join(work, 'cluster', 'temporal.log'));
  const rows = [];
  try {
    await waitForTemporal(cluster.address, 120_000, cluster.process);
    // A server of this kind starts with no namespace: register muse's, as an operator would.
    const cli = ensureTemporalCli(console.log);
    const reg = spawn(cli, ['operator', 'namespace', 'create', '--namespace', 'default', '--address', cluster.address]);
    await new Promise((r) => reg.on('exit', r));
    for (let k = 0; k < 30; k++) {
      const c = await Connection.connect({ address: cluster.address });
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
      await runOn('cluster', cluster.address, dataUrl('muse_cluster_data'), path.join(work, 'home-cluster'), n),
    );
  } finally {
    await cluster.stop();
  }
  const port = await freePort();
  const dev = startDevServer({
    cli: ensureTemporalCli(console.log),
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
