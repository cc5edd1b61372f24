/**
 * Benchmark: one batch on the simulated provider against the stack `muse up` started, with the worker
 * in this process. The simulated provider answers at once, so this measures the orchestration
 * (Temporal + PostgreSQL + our activities) alone: the ceiling below any LLM endpoint's rate limit.
 *
 *   npm run bench -- [-n 500] [--concurrency 20] [--events-sample 50]
 */
import { parseArgs } from 'node:util';
import { startBatch } from '../client/batches';
import { watchBatch } from '../client/batch-watch';
import { progressQuery } from '../workflows/batch';
import { connectionClosed, openSession } from '../client/connection';
import { withInlineWorker } from '../client/inline-worker';
import { installExitGuard } from '../client/log';

// gRPC retry timers outlive a closed connection; one firing after the close must not turn a finished run into exit 1.
installExitGuard(connectionClosed);

async function main() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '20' },
      'events-sample': { type: 'string', default: '50' },
    },
  });
  const n = Number(values.n);
  const concurrency = Number(values.concurrency);
  const s = await openSession();
  try {
    const batchId = `bench-${n}-c${concurrency}-${Date.now().toString(36)}`;
    const t0 = Date.now();
    const handle = await startBatch(s, { batchId, size: n, seed: 1000 + n, concurrency, provider: 'simulated' });
    // The worker runs in this process: its resident memory, sampled every 2 s against conversations done.
    const rss: Array<{ done: number; mb: number; heap: number; external: number }> = [];
    const mb = (b: number) => Math.round(b / 2 ** 20);
    const sampler = setInterval(() => {
      void handle
        .query(progressQuery)
        .then((p) => {
          const m = process.memoryUsage();
          rss.push({ done: p.done, mb: mb(m.rss), heap: mb(m.heapUsed), external: mb(m.external) });
        })
        .catch(() => {});
    }, 2_000);
    const r = await withInlineWorker(s, true, () => watchBatch(handle, batchId)).finally(() => clearInterval(sampler));
    const wall = (Date.now() - t0) / 1000;
    if (r === 'detached') return;
    const q = async (sql: string) => (await s.pool.query(sql, [batchId])).rows[0];
    const stats = await q(`SELECT count(*)::int AS conversations,
        avg((SELECT count(*) FROM utterances u WHERE u.conversation_id = c.id))::float AS utterances,
        avg((c.opening = 'image')::int)::float AS image_share, avg((c.outcome = 'retrieval')::int)::float AS retrieval_share,
        avg(((SELECT count(*) FROM utterances u WHERE u.conversation_id = c.id) = 12)::int)::float AS twelve_share
      FROM conversations c WHERE c.batch_id = $1 AND c.status = 'completed'`);
    const ids = (
      await s.pool.query('SELECT id FROM conversations WHERE batch_id = $1 ORDER BY idx LIMIT $2', [
        batchId,
        Number(values['events-sample']),
      ])
    ).rows.map((x) => x.id);
    const events: number[] = [];
    for (const id of ids) events.push((await s.client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0);
    let batchRuns = 0;
    for await (const _ of s.client.workflow.list({ query: `WorkflowId="muse-batch-${batchId}"` })) batchRuns++;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      JSON.stringify(
        {
          batchId,
          conversations: stats.conversations,
          failed: r.failed,
          concurrency,
          wallSeconds: +wall.toFixed(1),
          conversationsPerSecond: +(stats.conversations / wall).toFixed(2),
          utterancesPerConversation: +stats.utterances.toFixed(2),
          twelveUtteranceShare: +stats.twelve_share.toFixed(3),
          imageOpeningShare: +stats.image_share.toFixed(3),
          targetByRetrievalShare: +stats.retrieval_share.toFixed(3),
          historyEventsPerConversation: {
            mean: +mean(events).toFixed(1),
            min: Math.min(...events),
            max: Math.max(...events),
            sample: events.length,
          },
          batchWorkflowRuns: batchRuns,
          workerRssMb: {
            peak: Math.max(...rss.map((x) => x.mb)),
            peakAt: rss.reduce((a, x) => (x.mb > a.mb ? x : a), rss[0])?.done,
            // Every tenth of the batch: the first sample at or past it.
            curve: Array.from({ length: 10 }, (_, k) => rss.find((x) => x.done >= ((k + 1) * n) / 10))
              .filter(Boolean)
              .map((x) => `${x!.done}: ${x!.mb} (JS heap ${x!.heap}, external ${x!.external})`),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await s.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
