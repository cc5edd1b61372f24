import { onlineAnswer } from '../common/queued';
import { continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { act } from './activities';
import { progressQuery, type BatchProgress } from '../common/progress';
import { batchAnswers, via } from './provider-batches';
import type { ViaBatch } from '../schemas/batch';

export interface ProfilesInput extends ViaBatch {
  seed: number;
  /** Accepted profiles to add. */
  count: number;
  provider: string;
  /** The batch these profiles are made for, whose cost their calls count in (absent: `muse profiles`). */
  batchId?: string;
  /** Chunks of `chunk` samples generated at once, ahead of acceptance. */
  concurrency: number;
  chunk?: number;
  /** Samples tried before giving up (the gate or the dedup rejecting almost everything); default 20 x count + 100. */
  maxAttempts?: number;
  historyBudget?: number;
  /** Carried across continue-as-new. */
  carried?: {
    start: number;
    cursor: number;
    accepted: number;
    gatedOut: number;
    duplicates: number;
    startedAt: number;
  };
}
export interface ProfilesProgress extends BatchProgress {
  gatedOut: number;
  duplicates: number;
  /** Samples tried: from the seed's first pending or new sequence number up to where acceptance stopped. */
  attempts: number;
}

/**
 * Stage 2 of the method: samples generated in parallel chunks (gate, then backstory), accepted one chunk
 * at a time in sequence order (BLEU dedup) until `count` profiles are accepted.
 */
export async function profilesWorkflow(input: ProfilesInput): Promise<ProfilesProgress> {
  const chunk = input.chunk ?? 10;
  const c = input.carried ?? {
    start: await act.firstProfileSeq({ seed: input.seed }),
    cursor: -1,
    accepted: 0,
    gatedOut: 0,
    duplicates: 0,
    startedAt: Date.now(),
  };
  const start = c.start;
  let acceptFrom = c.cursor < 0 ? start : c.cursor;
  const end = start + (input.maxAttempts ?? input.count * 20 + 100);
  const progress: ProfilesProgress = {
    batchId: `profiles of seed ${input.seed}`,
    total: input.count,
    done: c.accepted,
    failed: 0,
    running: 0,
    startedAt: c.startedAt,
    gatedOut: c.gatedOut,
    duplicates: c.duplicates,
    attempts: acceptFrom - start,
  };
  const note = () => {
    progress.note = `gated out ${progress.gatedOut} · duplicates ${progress.duplicates}`;
  };
  note();
  setHandler(progressQuery, () => progress);
  const untilAnswered = batchAnswers();
  // Through the Batch API a chunk may wait for its provider batch; online it is answered at once.
  const viaBatch = !!input.batchRoles?.length;

  // Chunks ahead follow what the count still needs at the acceptance rate seen so far, with one to spare:
  // every sample is a paid call, and `concurrency` chunks at once made 2,290 samples for 300 profiles.
  const ahead = () => {
    const rate = progress.attempts >= chunk ? Math.max(0.05, progress.done / progress.attempts) : 1;
    return Math.min(input.concurrency, Math.ceil((input.count - progress.done) / (chunk * rate)) + 1);
  };
  const generating = new Map<number, Promise<unknown>>();
  let nextChunk = acceptFrom;
  while (progress.done < input.count && acceptFrom < end) {
    while (generating.size < ahead() && nextChunk < end) {
      const from = nextChunk;
      nextChunk += chunk;
      progress.running++;
      const spec = {
        seed: input.seed,
        from,
        to: Math.min(from + chunk, end),
        provider: input.provider,
        ...(input.batchId ? { batchId: input.batchId } : {}),
        ...via(input),
      };
      const generated = (
        viaBatch ? untilAnswered(() => act.generateProfiles(spec)) : act.generateProfiles(spec).then(onlineAnswer)
      ).finally(() => {
        progress.running--;
      });
      // A chunk ahead may fail while another is awaited: its failure is thrown when acceptance reaches it,
      // not left unhandled (an unhandled rejection fails the workflow task, which Temporal retries for ever).
      generated.catch(() => {});
      generating.set(from, generated);
    }
    await generating.get(acceptFrom);
    generating.delete(acceptFrom);
    const r = await act.acceptProfiles({
      seed: input.seed,
      from: acceptFrom,
      to: Math.min(acceptFrom + chunk, end),
      want: input.count - progress.done,
    });
    // Counted as each chunk is accepted, once per chunk: chunks generated ahead are counted when reached.
    progress.done += r.accepted;
    progress.duplicates += r.duplicates;
    progress.gatedOut += r.gatedOut;
    note();
    acceptFrom += chunk;
    progress.attempts = Math.min(acceptFrom, end) - start;
    if (
      progress.done < input.count &&
      (workflowInfo().historyLength > (input.historyBudget ?? 8_000) || workflowInfo().continueAsNewSuggested)
    ) {
      await Promise.allSettled(generating.values());
      await continueAsNew<typeof profilesWorkflow>({
        ...input,
        carried: {
          start,
          cursor: acceptFrom,
          accepted: progress.done,
          gatedOut: progress.gatedOut,
          duplicates: progress.duplicates,
          startedAt: progress.startedAt,
        },
      });
    }
  }
  // Chunks generated ahead of need stay stored as pending: the seed's next run accepts them first.
  await Promise.allSettled(generating.values());
  return progress;
}
