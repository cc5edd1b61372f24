import { Command } from 'commander';
import { createMuseWorker } from '../../worker';
import { installWorkerLogging } from '../log';
import { redact } from '../../db/pool';
import { serveMetrics } from '../../observability/metrics';
import { freePort } from '../../stack/ports';
import { int, withSession } from './shared';

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a worker for every muse workflow and activity until Ctrl-C')
    .option(
      '--max-activities <n>',
      'activities in flight at once (default MUSE_MAX_ACTIVITIES or 400)',
      int('--max-activities', 1),
    )
    .option(
      '--metrics-port <port>',
      "serve Prometheus metrics on 127.0.0.1:<port>/metrics: muse's agent calls and the Temporal worker's (default MUSE_METRICS_PORT; off)",
      int('--metrics-port', 1),
      process.env.MUSE_METRICS_PORT ? Number(process.env.MUSE_METRICS_PORT) : undefined,
    )
    .action(async (o) =>
      withSession(async (s) => {
        const runtimePort = o.metricsPort ? await freePort() : undefined;
        const logs = installWorkerLogging(runtimePort ? { prometheus: `127.0.0.1:${runtimePort}` } : {});
        const worker = await createMuseWorker({
          temporal: s.temporal,
          databaseUrl: s.databaseUrl,
          taskQueue: s.taskQueue,
          maxActivities: o.maxActivities,
        });
        const served = o.metricsPort
          ? await serveMetrics({ port: o.metricsPort, runtimeUrl: `http://127.0.0.1:${runtimePort}/metrics` })
          : undefined;
        for (const [provider, why] of Object.entries(worker.skipped))
          console.log(`not serving the ${provider} provider: ${why}`);
        console.log(
          `worker for ${redact(s.databaseUrl)} polling ${worker.queues.join(', ')} on ${s.temporalAddress}; logs in ${logs}` +
            `${served ? `; metrics on ${served.url}` : ''}${worker.tracesTo ? `; traces to ${worker.tracesTo}` : ''}; Ctrl-C to stop`,
        );
        try {
          await worker.run();
        } finally {
          await served?.close();
          await worker.close();
        }
      }),
    );
}
