import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { paths } from '../stack/config';

/** A log file under MUSE_HOME/logs, its folder made when missing. */
export function logFile(name: string): string {
  fs.mkdirSync(paths.logs(), { recursive: true });
  return path.join(paths.logs(), `${name}.log`);
}

const firstLine = (s: string) => s.split('\n').find((l) => l.trim()) ?? s;

/**
 * The end of a failed command: the whole error (stack and causes) appended to MUSE_HOME/logs/cli.log,
 * and one line on the terminal that says what failed and names that file.
 */
export function reportFailure(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  let details = '';
  for (let c = e as { stack?: string; message?: string; cause?: unknown } | undefined; c; c = c.cause as typeof c)
    details += `${c.stack ?? c.message ?? String(c)}\n`;
  let where = '';
  try {
    const file = logFile('cli');
    fs.appendFileSync(file, `${new Date().toISOString()} muse ${process.argv.slice(2).join(' ')}\n${details}\n`);
    where = ` (details: ${file})`;
  } catch {
    // No writable MUSE_HOME: the one line is all there is.
  }
  return `muse: ${firstLine(message)}${where}`;
}

/**
 * Every uncaught error ends the process with the one-line report, not a stack trace, with one
 * exception: @temporalio/client's gRPC retry interceptor schedules a call's retry on a timer that
 * Connection.close() does not clear, and a retry firing after a command closed its connection throws
 * "Channel has been shut down" from that timer. The command's work is done by then: nothing is lost.
 */
export function installExitGuard(connectionClosed: () => boolean): void {
  process.on('uncaughtException', (e) => {
    if (connectionClosed() && e?.message === 'Channel has been shut down') return;
    console.error(reportFailure(e));
    process.exit(1);
  });
}

let installed: string | undefined;

/**
 * Worker logs go to MUSE_HOME/logs/worker.log: a retried attempt is expected, not news, so nothing the
 * worker logs reaches the terminal but an ERROR, as one line. Returns the file. Once per process.
 */
export function installWorkerLogging(
  o: {
    shutdownSignals?: NodeJS.Signals[];
    /** Serve the runtime's Prometheus metrics here (host:port). */ prometheus?: string;
  } = {},
): string {
  if (installed) return installed;
  const file = logFile('worker');
  const out = fs.openSync(file, 'a');
  const write = (entry: LogEntry) => {
    const meta = entry.meta && Object.keys(entry.meta).length ? ` ${safeJson(entry.meta)}` : '';
    fs.writeSync(
      out,
      `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} ${entry.level} ${entry.message}${meta}\n`,
    );
    if (entry.level === 'ERROR') process.stderr.write(`muse worker: ${firstLine(entry.message)} (details: ${file})\n`);
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', write),
    telemetryOptions: {
      // The SDK's native side prints its own warnings (a retried poll, a slow workflow task) straight to the
      // console unless they are forwarded: into this file with the rest.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(o.prometheus ? { metrics: { prometheus: { bindAddress: o.prometheus } } } : {}),
    },
    ...(o.shutdownSignals ? { shutdownSignals: o.shutdownSignals } : {}),
  });
  installed = file;
  return file;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) =>
      x instanceof Error ? { message: x.message, stack: x.stack } : typeof x === 'bigint' ? String(x) : x,
    );
  } catch {
    return String(v);
  }
}
