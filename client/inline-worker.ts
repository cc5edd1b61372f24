import { createMuseWorker } from '../worker';
import type { Session } from './connection';
import { installWorkerLogging } from './log';

/**
 * Runs fn with a worker inside this process, so one command does the whole job. Other workers
 * (`muse worker`) on the same task queue share the work; --no-worker leaves it all to them.
 */
export async function withInlineWorker<T>(s: Session, enabled: boolean, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  // The progress line is this command's output; the worker logs to a file and speaks only on an error.
  // Ctrl-C belongs to the command (it detaches), so the runtime must not take the signal and re-raise it.
  installWorkerLogging({ shutdownSignals: [] });
  const worker = await createMuseWorker({
    temporal: s.temporal,
    databaseUrl: s.databaseUrl,
    taskQueue: s.taskQueue,
  });
  try {
    return await worker.runUntil(fn());
  } finally {
    await worker.close();
  }
}
