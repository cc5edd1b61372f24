import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { config, paths, uiUrl } from './config';
import { canConnect, ensureTemporalCli, registerSearchAttributes, startDevServer, waitForTemporal } from './temporal';
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from './postgres';
import type { StackState } from './index';

const log = (m: string) => console.log(`${new Date().toISOString()} ${m}`);

/** The long-lived process behind `muse up`: owns the servers it started and stops them on SIGTERM. */
export async function runStackDaemon(): Promise<void> {
  let temporal: ChildProcess | undefined;
  let postgres: RunningPostgres | undefined;
  const stop = async (code: number) => {
    log(`stopping (exit ${code})`);
    fs.rmSync(paths.stackState(), { force: true });
    await postgres?.stop().catch((e) => log(`postgres stop: ${e}`));
    if (temporal && temporal.exitCode === null) {
      temporal.kill('SIGTERM');
      await new Promise((r) => temporal!.once('exit', r));
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  try {
    const address = config.temporalAddress;
    if (!(await canConnect(address))) {
      const port = Number(address.split(':')[1] ?? 7233);
      temporal = startDevServer({
        cli: ensureTemporalCli(log),
        port,
        uiPort: config.temporalUiPort,
        dbFile: paths.temporalDb(),
        logFile: path.join(paths.logs(), 'temporal.log'),
      });
      temporal.on('exit', (c) => {
        log(`the Temporal dev server exited (${c})`);
        void stop(1);
      });
      await waitForTemporal(address, 60_000, temporal);
      log(`Temporal dev server started on ${address}`);
    }
    await registerSearchAttributes(address);

    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      postgres = await startEmbeddedPostgres(paths.pgData(), config.embeddedPgPort, (m) => log(`[pg] ${m}`));
      databaseUrl = postgres.url;
      log(`embedded PostgreSQL started on port ${config.embeddedPgPort}`);
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
