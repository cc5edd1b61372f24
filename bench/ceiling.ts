/**
 * The one-machine ceiling, before and after, in one script run: for each concurrency, the simulated
 * batch of `bench/batch.ts` with the code checked out in --before (today's main, say) and with this
 * code, each against a fresh in-memory dev server started the way that code starts it. The simulated
 * provider answers at once, so conversations/s is what the orchestration alone can do.
 *
 *   git worktree add /tmp/muse-before <commit> && ln -s $PWD/node_modules /tmp/muse-before/
 *   npx tsx bench/ceiling.ts --before /tmp/muse-before --before-db URL [--db URL] [-n 500] [--concurrency 20,50,100]
 *
 * Each database is a template: stage 1 done by its own code (`muse catalog demo`, `caption`, `filter`)
 * and nothing else. Every run gets a fresh copy of it, so stage 2's BLEU index starts equal each time.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort } from '../stack/ports';
import { ensureTemporalCli } from '../stack/temporal-cli';

const HERE = path.join(__dirname, '..');

interface Side {
  name: string;
  dir: string;
  databaseUrl: string;
}

/** A fresh copy of the side's template database (stage 1 done, no batches), so runs do not weigh on each other. */
async function freshCopy(template: string, tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new URL(template);
  const name = `${admin.pathname.slice(1)}_${tag}`;
  const tpl = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(tpl)}`);
  await c.end();
  const url = new URL(template);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: admin.toString() });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await d.end();
    },
  };
}

async function runSide(side: Side, n: number, concurrency: number) {
  const db = await freshCopy(side.databaseUrl, `c${concurrency}`);
  // That code's own way of starting the dev server (its flags, its search attributes).
  const temporal = await import(path.join(side.dir, 'stack', 'temporal'));
  const port = await freePort();
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'muse-ceiling-')), 'temporal.log');
  const server = temporal.startDevServer({
    cli: await ensureTemporalCli(),
    port,
    uiPort: await freePort(),
    logFile,
  });
  try {
    await temporal.waitForTemporal(`127.0.0.1:${port}`, 60_000, server);
    const out: string[] = [];
    const err: string[] = [];
    const code = await new Promise<number>((resolve) => {
      const p = spawn(
        process.execPath,
        [
          path.join(HERE, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
          'bench/batch.ts',
          '-n',
          String(n),
          '--concurrency',
          String(concurrency),
        ],
        {
          cwd: side.dir,
          env: { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, DATABASE_URL: db.url },
        },
      );
      p.stdout.on('data', (d) => out.push(String(d)));
      p.stderr.on('data', (d) => err.push(String(d)));
      p.on('exit', (c) => resolve(c ?? 1));
    });
    const text = out.join('');
    const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
    let r;
    try {
      r = JSON.parse(json);
    } catch {
      throw new Error(`${side.name} at concurrency ${concurrency} failed (exit ${code}): ${text.slice(-400)}`);
    }
    return {
      side: side.name,
      concurrency,
      conversations: r.conversations,
      failed: r.failed,
      wallSeconds: r.wallSeconds,
      conversationsPerSecond: r.conversationsPerSecond,
      historyEventsPerConversation: r.historyEventsPerConversation.mean,
      exit: code,
      // What a non-zero exit said last (the progress bar is on stderr too).
      ...(code !== 0 ? { stderr: err.join('').trim().split('\n').slice(-3).join(' | ') } : {}),
    };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await db.drop();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      'before-db': { type: 'string' },
      db: { type: 'string', default: process.env.DATABASE_URL },
      n: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '20,50,100' },
    },
  });
  if (!values.before || !values['before-db'] || !values.db)
    throw new Error('give --before <dir> and --before-db <url>, and --db <url> (or DATABASE_URL) for this code');
  const sides: Side[] = [
    { name: 'before', dir: path.resolve(values.before), databaseUrl: values['before-db'] },
    { name: 'after', dir: HERE, databaseUrl: values.db },
  ];
  const rows = [];
  for (const c of values.concurrency!.split(',').map(Number))
    for (const side of sides) {
      const r = await runSide(side, Number(values.n), c);
      console.log(JSON.stringify(r));
      rows.push(r);
    }
  for (const c of new Set(rows.map((r) => r.concurrency))) {
    const [b, a] = [
      rows.find((r) => r.side === 'before' && r.concurrency === c)!,
      rows.find((r) => r.side === 'after' && r.concurrency === c)!,
    ];
    console.log(
      `concurrency ${c}: ${b.conversationsPerSecond} -> ${a.conversationsPerSecond} conversations/s (x${(a.conversationsPerSecond / b.conversationsPerSecond).toFixed(2)}), ` +
        `${b.historyEventsPerConversation} -> ${a.historyEventsPerConversation} events per conversation`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
