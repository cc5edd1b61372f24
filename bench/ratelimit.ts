/**
 * Rate-limit utilisation: `muse generate --provider openai` against a local OpenAI-compatible server that
 * answers in 1 s and admits at most 50 requests a second (429 with Retry-After: 1 beyond). It reports the
 * answered requests per second over the steady window as a share of 50, the share of requests refused
 * with 429, the mean requests in flight, how long the pace took to reach 90 % of the limit, and whether
 * every conversation completed. Scenarios run one after the other in one script run:
 *
 *   configured        rateLimits { rpm: 3000 } for the model
 *   stated            no rateLimits; the server sends x-ratelimit-limit-requests: 3000 (learned from headers)
 *   learned           no rateLimits, no headers: learned from the 429s alone
 *   before:<dir>      the configured batch with the code checked out in <dir> (its own database: --before-db)
 *   <scenario>:<dir>  any of them with the code checked out in <dir> (same database rule)
 *   <scenario>@<c>    any of them with --concurrency c (the old code's only knob)
 *
 * Needs a stack (`muse up`, or TEMPORAL_ADDRESS and DATABASE_URL) whose database has stage 1 done.
 *
 *   npx tsx bench/ratelimit.ts [-n 300] [--scenarios configured,stated,learned] [--before-db URL] [--concurrency C]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectionClosed, openSession } from '../client/connection';
import { resetPacer } from '../db/rate';
import { createPool } from '../db/pool';
import { checkStage1 } from '../client/preflight';
import { startOpenAiTestServer } from '../test/openai-server';
import { installExitGuard } from '../client/log';
import { paths } from '../stack/config';

// gRPC retry timers outlive a closed connection; one firing after the close must not turn a finished run into exit 1.
installExitGuard(connectionClosed);

const LIMIT = 50;
const MODEL = 'bench-model';
const HERE = path.join(__dirname, '..');

interface Scenario {
  name: string;
  code: string;
  databaseUrl: string;
  configured: boolean;
  stated: boolean;
}

async function runScenario(sc: Scenario, n: number, concurrency: string | undefined, temporalAddress: string) {
  const server = await startOpenAiTestServer(undefined, 0, {
    vary: true,
    latencyMs: 1000,
    admitPerSecond: LIMIT,
    statedRpm: sc.stated ? LIMIT * 60 : undefined,
    record: false,
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-ratelimit-'));
  const configFile = path.join(dir, 'muse.config.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({ model: MODEL, ...(sc.configured ? { rateLimits: { [MODEL]: { rpm: LIMIT * 60 } } } : {}) }),
  );
  const batchId = `rl-${sc.name.replace(/[^a-z0-9]+/gi, '-')}-${Date.now().toString(36)}`;
  const env = {
    ...process.env,
    MUSE_CONFIG: configFile,
    OPENAI_BASE_URL: server.baseURL,
    OPENAI_API_KEY: 'bench',
    DATABASE_URL: sc.databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    MUSE_TASK_QUEUE: `rl-${Date.now().toString(36)}`,
    // The catalog's images are where this checkout stored them, whichever code runs the batch.
    MUSE_IMAGE_DIR: paths.images(),
  };
  // A fresh pace for each scenario: what is being measured is how fast it finds the limit. (Code older
  // than the pacers has token buckets instead, in a database of its own.)
  const pool = createPool(sc.databaseUrl);
  const pacers: boolean = (await pool.query(`SELECT to_regclass('rate_pacer') IS NOT NULL AS ok`)).rows[0].ok;
  if (pacers) await resetPacer(pool, MODEL);
  const inFlight: number[] = [];
  const sampler = setInterval(() => inFlight.push(server.active()), 100);
  // The pace and ceiling every 10 s, to see how the controller moves (where there is a pacer table).
  const trace: string[] = [];
  const tracer = setInterval(() => {
    if (!pacers) return;
    void pool
      .query('SELECT rps, ceiling_rps, ceiling_source, throttled FROM rate_pacer WHERE model = $1', [MODEL])
      .then(({ rows: [r] }) => {
        const t = Math.round((Date.now() - t0) / 1000);
        if (r)
          trace.push(
            `${t}s ${r.rps.toFixed(1)}/${r.ceiling_rps?.toFixed(1) ?? '-'} ${r.throttled}×429 ${server.active()}`,
          );
      });
  }, 10_000);
  const t0 = Date.now();
  const args = [path.join(sc.code, 'bin', 'muse.js'), 'generate', '-n', String(n), '--batch', batchId];
  args.push('--provider', 'openai', '--seed', String(n + 17));
  if (concurrency) args.push('--concurrency', concurrency);
  const out: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const p = spawn(process.execPath, args, { env, cwd: sc.code });
    p.stdout.on('data', (d) => out.push(String(d)));
    p.stderr.on('data', (d) => out.push(String(d)));
    p.on('exit', (c) => resolve(c ?? 1));
  });
  clearInterval(sampler);
  clearInterval(tracer);
  await pool.end();
  const wall = (Date.now() - t0) / 1000;
  await server.close();

  // Admitted requests per second of the run, from the server's own record.
  const perSecond = new Array<number>(Math.ceil(wall) + 1).fill(0);
  for (const at of server.admissions) perSecond[Math.floor((at - t0) / 1000)]++;
  const refused = server.counts.throttled;
  const share429 = refused / Math.max(1, server.counts.admitted + refused);
  const reach = perSecond.findIndex((x) => x >= 0.9 * LIMIT);
  // The steady window: from the first second at 90 % of the limit to 10 s before the last admitted request.
  const last = perSecond.length - 1 - [...perSecond].reverse().findIndex((x) => x > 0);
  const from = Math.max(0, reach);
  const to = Math.max(from + 1, last - 10);
  const steady = perSecond.slice(from, to).reduce((a, b) => a + b, 0);
  return {
    scenario: sc.name,
    exit: code,
    conversations: n,
    lastLines: out.join('').trim().split('\n').slice(-2),
    wallSeconds: +wall.toFixed(1),
    requests: server.counts.admitted + refused,
    answered: server.counts.admitted,
    refused429: refused,
    share429: +share429.toFixed(4),
    steadyWindowSeconds: to - from,
    utilisation: +(steady / (LIMIT * (to - from))).toFixed(3),
    secondsToReach90: reach,
    meanInFlight: +(inFlight.reduce((a, b) => a + b, 0) / Math.max(1, inFlight.length)).toFixed(1),
    batchId,
    pacer: trace.join('; '),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '300' },
      scenarios: { type: 'string', default: 'configured,stated,learned' },
      'before-db': { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  const s = await openSession();
  await checkStage1(s.pool);
  const temporalAddress = s.temporalAddress;
  const databaseUrl = s.databaseUrl;
  await s.close();
  for (const name of values.scenarios!.split(',')) {
    const [spec, ceiling] = name.split('@');
    const [kind, dir] = spec.split(':');
    const sc: Scenario = {
      name,
      code: dir ? path.resolve(dir) : HERE,
      databaseUrl: dir ? values['before-db']! : databaseUrl,
      configured: kind === 'before' || kind === 'configured',
      stated: kind === 'stated',
    };
    const concurrency = ceiling ?? values.concurrency;
    console.log(JSON.stringify(await runScenario(sc, Number(values.n), concurrency, temporalAddress)));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
