import { defineQuery } from '@temporalio/workflow';

/** What every long-running muse workflow answers to the `progress` query (batches, profiles, evaluations). */
export interface BatchProgress {
  batchId: string;
  total: number;
  done: number;
  failed: number;
  running: number;
  startedAt: number;
  /** A short note the progress line shows after the counts (e.g. stage 2's gated and duplicate counts). */
  note?: string;
  /** Why the run stopped starting work and ended early without failing (its budget cap). */
  paused?: string;
}

export const progressQuery = defineQuery<BatchProgress>('progress');
