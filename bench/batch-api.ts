/**
 * Benchmark: stage 1's captions and a batch's stage 4 through the Batch API, against the local fake of it
 * (test/batch-api-server.ts) answering each batch after a realistic delay, with the worker in this
 * process. It reports requests per provider batch, batches, bytes uploaded, this process's CPU while
 * every unit waits for its batch (it should be near zero: waiting holds no worker slot and polls by
 * durable timer), and the cost of the same calls online and by batch at gpt-4o-mini's prices.
 *
 * Needs the Temporal server `muse up` starts (or TEMPORAL_ADDRESS) and a PostgreSQL server
 * (DATABASE_URL's, else 127.0.0.1:5432); it makes a database of its own there with the demo catalog.
 *
 * At a real provider's scale, the organisation's batch queue limit: `--queue-limit T` gives muse and the
 * fake the same limit of T enqueued input tokens for gpt-4o-mini, and `--refuse-first N` has the fake
 * refuse the first N batches as a whole with token_limit_exceeded (another job of the organisation
 * filling the queue). Past the demo catalog's 20,800 items, `--captions` copies its items (sharing their
 * images) until there are enough.
 *
 *   npx tsx bench/batch-api.ts [--captions 20800] [--conversations 1000] [--latency 60] [--concurrency 200]
 *     [--queue-limit TOKENS] [--refuse-first N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startOpenAiTestServer } from '../test/openai-server';
import { openSession } from '../client/connection';
import { installWorkerLogging } from '../client/log';
import { createMuseWorker } from '../worker';
import { startBatch } from '../client/batches';
import { watchBatch } from '../client/batch-watch';
import { batchWorkflowId } from '../common/ids';
import { importDemoCatalog } from '../catalog/demo';
import { captionWorkflow } from '../workflows/catalog';
import { costUsd, priceTable } from '../agents/prices';
import { config as stackConfig } from '../stack/config';

async function main() {
  const { values } = parseArgs({
    options: {
      captions: { type: 'string', default: '20800' },
      conversations: { type: 'string', default: '1000' },
      /** Seconds from a batch's creation to its answers. */
      latency: { type: 'string', default: '60' },
      concurrency: { type: 'string', default: '200' },
      'queue-limit': { type: 'string' },
      'refuse-first': { type: 'string', default: '0' },
    },
  });
  const queueLimit = values['queue-limit'] === undefined ? undefined : Number(values['queue-limit']);
  const refuseFirst = Number(values['refuse-first']);
  const captions = Number(values.captions);
  const conversations = Number(values.conversations);
  const latencyMs = Number(values.latency) * 1000;
  const fake = await startOpenAiTestServer(undefined, 0, {
    vary: true,
    record: false,
    batch: {
      latencyMs,
      enqueuedTokenLimit: queueLimit,
      failBatch: (n) =>
        n <= refuseFirst
          ? {
              code: 'token_limit_exceeded',
              message: `Enqueued token limit reached for gpt-4o-mini in organization org-bench. Limit: ${queueLimit ?? 'n/a'} enqueued tokens. Please try again once some in_progress batches have been completed.`,
            }
          : undefined,
      // Hundreds of megabytes of request files: the fake keeps none once read.
      dropInputs: true,
    },
  });

  // Every role on gpt-4o-mini (priced in the built-in table); short flush and poll windows for a fake that answers in a minute.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-bench-batch-'));
  const config = path.join(home, 'muse.config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      batch: {
        flushSeconds: 5,
        maxWaitSeconds: 60,
        pollSeconds: 5,
        pollMaxSeconds: 30,
        deferSeconds: 5,
        deferMaxSeconds: 30,
        ...(queueLimit ? { maxEnqueuedTokens: { 'gpt-4o-mini': queueLimit } } : {}),
      },
    }),
  );
  const server = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  server.pathname = `/muse_bench_batch_${Date.now().toString(36)}`;
  // The LLM settings are read when the provider is made; the database and queue were read at import.
  Object.assign(process.env, { MUSE_CONFIG: config, OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'bench' });
  stackConfig.databaseUrl = server.toString();
  stackConfig.taskQueue = `bench-batch-${Date.now().toString(36)}`;

  // The worker logs to a file, as a command's inline worker does (the runtime is installed before any connection).
  installWorkerLogging({ shutdownSignals: [] });
  const s = await openSession();
  const prices = priceTable();
  try {
    let t = Date.now();
    await importDemoCatalog(s.pool);
    console.error(`demo catalog stored in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    const phases: Record<string, unknown> = {};

    /** CPU of this process per second, tagged with whether every unit was waiting for a provider batch. */
    const sampleCpu = () => {
      const samples: Array<{ waiting: boolean; cpuMs: number }> = [];
      let last = process.cpuUsage();
      // Requests other than a poll of a batch's state.
      const working = () => fake.requests() - (fake.batches.calls.get('GET /batches/id') ?? 0);
      let requests = working();
      const timer = setInterval(() => {
        const now = process.cpuUsage();
        const cpuMs = (now.user - last.user + now.system - last.system) / 1000;
        last = now;
        // Waiting: a provider batch is at the provider, no activity runs in this process's worker, and no
        // request but polls (no stage-3 call, no file written or read) reached the endpoint in this second.
        const open = fake.batches.batches.filter((b) => ['validating', 'in_progress'].includes(b.status)).length;
        const sent = working() - requests;
        requests += sent;
        samples.push({ waiting: open > 0 && sent === 0 && worker.activitiesInFlight() === 0, cpuMs });
      }, 1000);
      return {
        stop: () => clearInterval(timer),
        waitingShare: () => {
          // The first second of a wait still ends the submit; the steady state is what the claim is about.
          const w = samples.filter((x, i) => x.waiting && samples[i - 1]?.waiting);
          return {
            seconds: w.length,
            cpuPercentOfACore: w.length
              ? +((100 * w.reduce((n, x) => n + x.cpuMs, 0)) / (w.length * 1000)).toFixed(2)
              : null,
          };
        },
      };
    };

    const report = async (runId: string, wall: number, cpu: ReturnType<typeof sampleCpu>, calledFor: string) => {
      const b = (
        await s.pool.query(
          `SELECT count(*)::int AS batches, sum(requests)::int AS requests, min(requests)::int AS min, max(requests)::int AS max,
             sum(bytes)::float8 AS bytes FROM provider_batches WHERE run_id = $1 AND provider_batch_id IS NOT NULL`,
          [runId],
        )
      ).rows[0];
      const calls = (
        await s.pool.query(
          `SELECT model, sum(input_tokens)::float8 AS i, sum(output_tokens)::float8 AS o, sum(cost_usd)::float8 AS cost, api,
             count(*)::int AS n FROM llm_calls WHERE status = 'ok' AND ${calledFor} GROUP BY model, api`,
          calledFor.includes('$2') ? [runId, `muse-${runId}-%`] : [],
        )
      ).rows;
      type Calls = { model: string; i: number; o: number; cost: number | null; api: string; n: number };
      const rows = calls as Calls[];
      const batchRows = rows.filter((c) => c.api === 'batch');
      return {
        wallSeconds: +wall.toFixed(1),
        providerBatches: b.batches,
        requestsSent: b.requests,
        requestsPerBatch: { min: b.min, mean: +(b.requests / b.batches).toFixed(1), max: b.max },
        megabytesUploaded: +(b.bytes / 1e6).toFixed(1),
        cpuWhileWaiting: cpu.waitingShare(),
        batchCalls: batchRows.reduce((n, c) => n + c.n, 0),
        onlineCalls: rows.filter((c) => c.api === 'online').reduce((n, c) => n + c.n, 0),
        costOfTheBatchCallsUsd: {
          online: +batchRows.reduce((n, c) => n + (costUsd(prices, c.model, c.i, c.o) ?? 0), 0).toFixed(4),
          batch: +batchRows.reduce((n, c) => n + (c.cost ?? 0), 0).toFixed(4),
        },
      };
    };

    /**
     * The run against its queue limit: the tokens it asked for, the most enqueued at once by muse's estimate
     * (batches from their place to their end) and by the provider's count, and the whole-batch refusals.
     */
    const queueOf = async (runId: string) => {
      const rows = (
        await s.pool.query(
          `SELECT tokens::float8 AS tokens, admitted_at, ended_at, deferrals FROM provider_batches WHERE run_id = $1`,
          [runId],
        )
      ).rows as Array<{ tokens: number; admitted_at: Date; ended_at: Date; deferrals: number }>;
      const mostAtOnce = Math.max(
        0,
        ...rows.map((b) =>
          rows
            .filter((o) => o.admitted_at <= b.admitted_at && o.ended_at > b.admitted_at)
            .reduce((n, o) => n + o.tokens, 0),
        ),
      );
      return {
        limit: queueLimit ?? null,
        estimatedTokens: rows.reduce((n, b) => n + b.tokens, 0),
        mostEnqueuedByEstimate: mostAtOnce,
        mostEnqueuedByProvider: fake.batches.peakEnqueued.get('gpt-4o-mini') ?? 0,
        refusalsRecovered: rows.reduce((n, b) => n + b.deferrals, 0),
        refusedAtProvider: fake.batches.batches.filter((b) => b.status === 'failed').length,
      };
    };

    /** The workflow's runs: their history events, and workflow tasks that failed or timed out (each a replay). */
    const historyOf = async (workflowId: string) => {
      const out = { runs: 0, events: 0, failedWorkflowTasks: 0 };
      for await (const w of s.client.workflow.list({ query: `WorkflowId="${workflowId}"` })) {
        const events = (await s.client.workflow.getHandle(workflowId, w.runId).fetchHistory()).events ?? [];
        out.runs++;
        out.events += events.length;
        out.failedWorkflowTasks += events.filter(
          (e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes,
        ).length;
      }
      return out;
    };

    const worker = await createMuseWorker({ temporal: s.temporal, databaseUrl: s.databaseUrl, taskQueue: s.taskQueue });
    await worker.runUntil(
      (async () => {
        if (captions > 0) {
          // Copies of the demo catalog's items (their images shared) until there are N.
          const have = (await s.pool.query(`SELECT count(*)::int AS n FROM items`)).rows[0].n;
          for (let copy = 1; copy * have < captions; copy++)
            await s.pool.query(
              `INSERT INTO items (id, source, title, description, features, categories, price, store, details, image_sha256)
               SELECT id || '-copy' || $1, source, title, description, features, categories, price, store, details, image_sha256
               FROM items WHERE id NOT LIKE '%-copy%' LIMIT $2`,
              [copy, captions - copy * have],
            );
          // The demo catalog is stored uncaptioned: items past the first N are marked captioned, so only N are asked.
          await s.pool.query(
            `UPDATE items SET caption = '(left out by the benchmark)', caption_source = 'bench'
           WHERE caption IS NULL AND id IN (SELECT id FROM items ORDER BY id OFFSET $1)`,
            [captions],
          );
          const workflowId = `bench-caption-${Date.now().toString(36)}`;
          const cpu = sampleCpu();
          t = Date.now();
          const h = await s.client.workflow.start(captionWorkflow, {
            workflowId,
            taskQueue: s.taskQueueFor('openai'),
            args: [{ provider: 'openai', concurrency: 10, batchRoles: ['catalog'] }],
          });
          const r = await h.result();
          cpu.stop();
          phases.captions = {
            done: r.done,
            failed: r.failed,
            ...(await report(workflowId, (Date.now() - t) / 1000, cpu, `call_key LIKE 'caption:%'`)),
            queue: await queueOf(workflowId),
            workflow: await historyOf(workflowId),
          };
          console.error(JSON.stringify(phases.captions));
        }
        if (conversations > 0) {
          const batchId = `bench-stage4-${Date.now().toString(36)}`;
          const cpu = sampleCpu();
          // Seconds in which stage 3 stood still: conversations were left to begin, and no online call was made.
          let stage3Idle = 0;
          const online = () => fake.requests() - [...fake.batches.calls.values()].reduce((n, k) => n + k, 0);
          let seen = online();
          const idle = setInterval(() => {
            const calls = online() - seen;
            seen += calls;
            void s.pool
              .query(`SELECT count(*)::int AS n FROM conversations WHERE batch_id = $1 AND started_at IS NOT NULL`, [
                batchId,
              ])
              .then((r) => {
                if (calls === 0 && r.rows[0].n < conversations) stage3Idle++;
              });
          }, 1000);
          t = Date.now();
          const h = await startBatch(s, {
            batchId,
            size: conversations,
            seed: 42,
            concurrency: Number(values.concurrency),
            provider: 'openai',
            batchRoles: ['rewriter', 'reviewer'],
          });
          const r = await watchBatch(h, batchId);
          cpu.stop();
          clearInterval(idle);
          if (r === 'detached') return;
          phases.stage4 = {
            done: r.done,
            failed: r.failed,
            ...(await report(batchId, (Date.now() - t) / 1000, cpu, '(batch_id = $1 OR conversation_id LIKE $2)')),
            stage3IdleSeconds: stage3Idle,
            workflow: await historyOf(batchWorkflowId(batchId)),
          };
          console.error(JSON.stringify(phases.stage4));
        }
      })(),
    );
    await worker.close();
    console.log(JSON.stringify({ latencySeconds: latencyMs / 1000, database: s.databaseUrl, ...phases }, null, 2));
  } finally {
    await s.close();
    await fake.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
