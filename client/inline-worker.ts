import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createMuseWorker } from '../worker';
import type { Session } from './connection';

/**
 * Runs fn with a worker inside this process, so one command does the whole job. Other workers
 * (`muse worker`) on the same task queue share the work; --no-worker leaves it all to them.
 */
let quiet = false;

export async function withInlineWorker<T>(s: Session, enabled: boolean, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  // The progress line is this command's output; the worker speaks only when something is wrong.
  // Ctrl-C belongs to the command (it detaches), so the runtime must not take the signal and re-raise it.
  if (!quiet) quiet = !!Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const { worker, close } = await createMuseWorker({ temporalAddress: s.temporalAddress, databaseUrl: s.databaseUrl, taskQueue: s.taskQueue });
  try {
    return await worker.runUntil(fn());
  } finally {
    await close();
  }
}
