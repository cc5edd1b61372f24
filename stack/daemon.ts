import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { config, paths, uiUrl } from './config';
import { canConnect, registerSearchAttributes, startDevServer, waitForTemporal } from './temporal';
import { ensureTemporalCli } from './temporal-cli';
import {
  ensureDatabase,
  runningPostmaster,
  startEmbeddedPostgres,
  waitForPostgres,
  type RunningPostgres,
} from './postgres';
import type { StackState } from './index';

const log = (m: string) => console.log(`${new Date().toISOString()} ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits after the k-th failed restart in a row: 1, 2, 4 ... 30 s. */
const backoff = (k: number) => Math.min(30_000, 1000 * 2 ** k);

/**
 * The long-lived process behind `muse up`: owns the servers it started, restarts one that dies without
 * touching the other, and stops both on SIGTERM (`muse down`), each within a bound.
 */
export async function runStackDaemon(): Promise<void> {
  let temporal: ChildProcess | undefined;
  let postgres: RunningPostgres | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (exit ${code})`);
    fs.rmSync(paths.stackState(), { force: true });
    await postgres?.stop().catch((e) => log(`postgres stop: ${e}`));
    if (temporal && temporal.exitCode === null && temporal.signalCode === null) {
      temporal.kill('SIGTERM');
      const gone = await Promise.race([
        new Promise((r) => temporal!.once('exit', () => r(true))),
        sleep(10_000).then(() => false),
      ]);
      if (!gone) temporal.kill('SIGKILL');
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));

  const address = config.temporalAddress;
  const startTemporal = async () => {
    temporal = startDevServer({
      cli: await ensureTemporalCli(log),
      port: Number(address.split(':')[1] ?? 7233),
      uiPort: config.temporalUiPort,
      dbFile: paths.temporalDb(),
      logFile: path.join(paths.logs(), 'temporal.log'),
    });
    const child = temporal;
    child.once('exit', (c, sig) => {
      if (stopping) return;
      log(`the Temporal dev server exited (${c ?? sig}); restarting it, PostgreSQL keeps running`);
      void restart('Temporal dev server', startTemporal);
    });
    await waitForTemporal(address, 60_000, child);
  };
  /** Restarts a server until it is up again, backing off; its state (SQLite file, data folder) survives on disk. */
  const restart = async (what: string, start: () => Promise<void>) => {
    for (let k = 0; !stopping; k++) {
      try {
        await start();
        log(`${what} is up again`);
        return;
      } catch (e) {
        log(`${what} did not come back (${(e as Error).message}); next try in ${backoff(k) / 1000} s`);
        await sleep(backoff(k));
      }
    }
  };

  try {
    if (!(await canConnect(address))) {
      await startTemporal();
      log(`Temporal dev server started on ${address}`);
    }
    await registerSearchAttributes(address);

    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const startPostgres = async () => {
        postgres = await startEmbeddedPostgres(paths.pgData(), config.embeddedPgPort, (m) => log(`[pg] ${m}`));
      };
      await startPostgres();
      databaseUrl = postgres!.url;
      log(`embedded PostgreSQL started on port ${config.embeddedPgPort}`);
      void watchPostgres(databaseUrl, () => stopping, startPostgres, restart);
    }
    await ensureDatabase(databaseUrl);

    const state: StackState = {
      pid: process.pid,
      temporalAddress: address,
      uiUrl: uiUrl(address),
      databaseUrl,
      startedTemporal: !!temporal,
      startedPostgres: !!postgres,
    };
    fs.writeFileSync(paths.stackState() + '.tmp', JSON.stringify(state, null, 2));
    fs.renameSync(paths.stackState() + '.tmp', paths.stackState());
    log('ready');
  } catch (e) {
    log(`failed: ${(e as Error).stack ?? e}`);
    await stop(1);
  }
}

/**
 * Watches the embedded PostgreSQL through its pid file. When its postmaster goes, either someone restarts
 * it (`pg_ctl restart`: a new postmaster answers within seconds, and is watched in turn) or the daemon
 * starts it again.
 */
async function watchPostgres(
  url: string,
  stopping: () => boolean,
  start: () => Promise<void>,
  restart: (what: string, start: () => Promise<void>) => Promise<void>,
): Promise<void> {
  let watched = runningPostmaster(paths.pgData());
  while (!stopping()) {
    await sleep(1000);
    const now = runningPostmaster(paths.pgData());
    if (stopping() || now === watched) continue;
    if (now) {
      log(
        `embedded PostgreSQL was restarted outside muse (postmaster ${watched} -> ${now}); it answers again, watching the new server`,
      );
    } else {
      log('the embedded PostgreSQL exited');
      try {
        await waitForPostgres(url, 15_000);
        log('embedded PostgreSQL answers again (restarted outside muse); watching the new server');
      } catch {
        if (!stopping()) await restart('embedded PostgreSQL', start);
      }
    }
    watched = runningPostmaster(paths.pgData());
  }
}
