/**
 * Fault injection: a batch on the openai provider against a local OpenAI-compatible server that fails
 * about 30 % of requests the ways real endpoints do (429 with Retry-After, 500, 503, a reset connection,
 * a body cut short, malformed JSON, JSON that breaks the schema, empty choices, a request that hangs
 * past the timeout), while the `muse worker` processes doing the work are killed with SIGKILL several
 * times. It reports conversations completed, duplicate and missing utterances, and re-paid calls: the
 * endpoint answering a request it had already answered.
 *
 * Needs a stack (`muse up`, or TEMPORAL_ADDRESS and DATABASE_URL) whose database has a catalog with
 * stage 1 done (`npm run demo` leaves one).
 *
 *   npx tsx bench/faults.ts [-n 30] [--concurrency 10] [--fault-rate 0.3] [--kills 3] [--kill-every 25] [--workers 2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startOrAttachBatch } from '../client/batches';
import { connectionClosed, databaseTaskQueue, openSession } from '../client/connection';
import { checkStage1 } from '../client/preflight';
import { Rng } from '../random';
import { startOpenAiTestServer, type Behaviour } from '../test/openai-server';
import { taskQueueFor } from '../worker';
import { installExitGuard } from '../client/log';

// gRPC retry timers outlive a closed connection; one firing after the close must not turn a finished run into exit 1.
installExitGuard(connectionClosed);

const BIN = path.join(__dirname, '..', 'bin', 'muse.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '30' },
      concurrency: { type: 'string', default: '10' },
      'fault-rate': { type: 'string', default: '0.3' },
      kills: { type: 'string', default: '3' },
      'kill-every': { type: 'string', default: '25' },
      workers: { type: 'string', default: '2' },
    },
  });
  const n = Number(values.n);
  const rate = Number(values['fault-rate']);
  const s = await openSession();
  await checkStage1(s.pool);

  // The endpoint: a seeded draw per request picks a fault or a normal answer; replies depend on the request.
  const rng = new Rng('faults', 1);
  const kinds: Array<[string, Behaviour]> = [
    ['429', { status: 429, retryAfter: 1 }],
    ['500', { status: 500 }],
    ['503', { status: 503 }],
    ['reset', 'reset'],
    ['cut', 'cut'],
    ['malformed', 'malformed'],
    ['schema', 'schema-breaking'],
    ['empty', 'empty'],
    ['hang', 'hang'],
  ];
  const injected: Record<string, number> = Object.fromEntries(kinds.map(([k]) => [k, 0]));
  const answered = new Map<string, number>();
  let repaid = 0;
  const server = await startOpenAiTestServer(
    (agent) => {
      if (agent === 'embeddings' || !rng.chance(rate)) return undefined;
      const [name, b] = rng.pick(kinds);
      injected[name]++;
      return b;
    },
    0,
    {
      vary: true,
      onAnswer: (body, ok) => {
        if (!ok) return;
        const h = createHash('sha256').update(body).digest('hex');
        if (answered.has(h)) repaid++;
        answered.set(h, (answered.get(h) ?? 0) + 1);
      },
    },
  );

  const base = await databaseTaskQueue(s.pool, `faults-${randomUUID().slice(0, 8)}`);
  const env = {
    ...process.env,
    MUSE_TASK_QUEUE: base.split('@')[0],
    OPENAI_BASE_URL: server.baseURL,
    OPENAI_API_KEY: 'faults',
    MUSE_LLM_TIMEOUT_MS: '5000',
    DATABASE_URL: s.databaseUrl,
    TEMPORAL_ADDRESS: s.temporalAddress,
  };
  let workerLines = 0;
  const startWorker = (): ChildProcess => {
    const w = spawn(process.execPath, [BIN, 'worker'], { env });
    const count = (d: Buffer) => {
      workerLines += d
        .toString()
        .split('\n')
        .filter((l) => l.trim()).length;
    };
    w.stdout!.on('data', count);
    w.stderr!.on('data', count);
    return w;
  };
  const workers = Array.from({ length: Number(values.workers) }, startWorker);

  const session = { ...s, taskQueue: base, taskQueueFor: (p: string) => taskQueueFor(base, p) };
  const batchId = `faults-${n}-${Date.now().toString(36)}`;
  const t0 = Date.now();
  const { handle } = await startOrAttachBatch(session, {
    batchId,
    size: n,
    seed: 7,
    concurrency: Number(values.concurrency),
    provider: 'openai',
  });
  const result = handle.result();
  let ended = false;
  void result.finally(() => {
    ended = true;
  });

  // SIGKILL a worker every few seconds, counting the requests in flight at that moment, and start a new one.
  const inFlightAtKills: number[] = [];
  for (let k = 0; k < Number(values.kills) && !ended; k++) {
    for (let t = 0; t < Number(values['kill-every']) * 10 && !ended; t++) await sleep(100);
    if (ended) break;
    const victim = k % workers.length;
    inFlightAtKills.push(server.active());
    workers[victim].kill('SIGKILL');
    workers[victim] = startWorker();
  }
  const progress = await result;
  const wall = (Date.now() - t0) / 1000;

  const rows = (
    await s.pool.query(
      `SELECT c.id, c.status, count(u.idx)::int AS utterances, coalesce(max(u.idx), -1) AS last, count(DISTINCT u.idx)::int AS distinct_idx
     FROM conversations c LEFT JOIN utterances u ON u.conversation_id = c.id WHERE c.batch_id = $1 GROUP BY c.id, c.status`,
      [batchId],
    )
  ).rows;
  const completed = rows.filter((r) => r.status === 'completed');
  const report = {
    batchId,
    conversations: n,
    completed: completed.length,
    failed: progress.failed,
    wallSeconds: +wall.toFixed(1),
    requests: server.seen.length,
    faultsInjected: injected,
    faultShare: +(Object.values(injected).reduce((a, b) => a + b, 0) / server.seen.length).toFixed(3),
    duplicateUtterances: completed.reduce((a, r) => a + (r.utterances - r.distinct_idx), 0),
    missingUtterances: completed.reduce((a, r) => a + (r.last + 1 - r.distinct_idx), 0),
    repaidCalls: repaid,
    inFlightAtKills,
    kills: inFlightAtKills.length,
    workerOutputLines: workerLines,
  };
  console.log(JSON.stringify(report, null, 2));
  for (const w of workers) w.kill('SIGINT');
  await server.close();
  await s.close();
  const ok =
    report.completed === n &&
    report.duplicateUtterances === 0 &&
    report.missingUtterances === 0 &&
    report.repaidCalls <= inFlightAtKills.reduce((a, b) => a + b, 0);
  if (!ok) {
    console.error(
      'faults: a target was missed (100% complete, 0 duplicate, 0 missing, re-paid <= calls in flight at the kills)',
    );
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
