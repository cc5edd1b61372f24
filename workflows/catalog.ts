import { onlineAnswer } from '../common/queued';
import { continueAsNew, setHandler } from '@temporalio/workflow';
import { act } from './activities';
import { inCountedLanes } from '../common/lanes';
import { progressQuery, type BatchProgress } from '../common/progress';
import { batchAnswers, via } from './provider-batches';
import type { ViaBatch } from '../schemas/batch';

export interface CatalogInput extends ViaBatch {
  provider: string;
  /** Activities (chunks of items, or categories) at once. */
  concurrency: number;
  /** Carried across continue-as-new. */
  carried?: { done: number; failed: number; startedAt: number };
  /** Through the Batch API: history events after which waiting units hand over to a fresh run (tests set it low). */
  historyBudget?: number;
}

/** Units of work per run: about 6 history events each keeps a run far below Temporal's limits. */
const UNITS_PER_RUN = 1_000;
/**
 * Through the Batch API every answered provider batch has each waiting unit ask again: past this many
 * events the waiting units hand over to a fresh run (Temporal ends a run at 51,200; 200,000 captions in
 * 25 batches took one past it).
 */
const HISTORY_BUDGET = 10_000;

/** One activity per unit of work, bounded and counted; past UNITS_PER_RUN the rest goes to a fresh run. */
async function eachWithProgress(
  label: string,
  units: number,
  weight: (k: number) => number,
  input: CatalogInput,
  work: (k: number) => Promise<unknown>,
): Promise<BatchProgress> {
  const total = Array.from({ length: units }, (_, k) => weight(k)).reduce((a, b) => a + b, 0);
  const c = input.carried ?? { done: 0, failed: 0, startedAt: Date.now() };
  const progress: BatchProgress = {
    batchId: label,
    total: total + c.done + c.failed,
    done: c.done,
    failed: c.failed,
    running: 0,
    startedAt: c.startedAt,
  };
  setHandler(progressQuery, () => progress);
  const untilAnswered = batchAnswers({ handOverAfter: input.historyBudget ?? HISTORY_BUDGET });
  // A unit waiting for a provider batch holds nothing, so through the Batch API every unit is asked at once.
  const viaBatch = !!input.batchRoles?.length;
  const { handedOver } = await inCountedLanes(
    progress,
    Math.min(units, UNITS_PER_RUN),
    viaBatch ? Math.min(units, UNITS_PER_RUN) : input.concurrency,
    viaBatch ? (k) => untilAnswered(() => work(k)) : (k) => work(k).then(onlineAnswer),
    weight,
  );
  // What is left is planned again by the next run (only work not yet stored is planned).
  if (units > UNITS_PER_RUN || handedOver)
    await continueAsNew({
      ...input,
      carried: { done: progress.done, failed: progress.failed, startedAt: progress.startedAt },
    });
  return progress;
}

/**
 * Items per caption activity: 20 online. Through the Batch API a waiting chunk holds nothing, and one run
 * (UNITS_PER_RUN chunks) asks a catalog of up to 200,000 items at once in chunks of 200, where chunks of
 * 20 asked 20,000 and waited for their answers before asking more.
 */
const CAPTION_CHUNK = { online: 20, batch: 200 };

/** Stage 1, re-captioning: every item without a caption, in chunks, each item's text and image to the captioner. */
export async function captionWorkflow(input: CatalogInput): Promise<BatchProgress> {
  const chunks = await act.planCaptions({ size: CAPTION_CHUNK[input.batchRoles?.length ? 'batch' : 'online'] });
  return eachWithProgress(
    'caption',
    chunks.length,
    (k) => chunks[k].items,
    input,
    (k) => act.captionItems({ ...chunks[k], provider: input.provider, ...via(input) }),
  );
}

/** Stage 1, category filter: every tag used by at least 5 items, to the filter agent. */
export async function categoryFilterWorkflow(input: CatalogInput): Promise<BatchProgress> {
  const names = await act.planCategoryFilter();
  return eachWithProgress(
    'category filter',
    names.length,
    () => 1,
    input,
    (k) => act.filterCategory({ name: names[k], provider: input.provider, ...via(input) }),
  );
}

/** Stage 1, retrieval index: every item missing from the provider's dense index (or changed since), in chunks of 64. */
export async function indexWorkflow(input: CatalogInput): Promise<BatchProgress> {
  const chunks = await act.planEmbeddings({ size: 64, provider: input.provider });
  return eachWithProgress(
    'index',
    chunks.length,
    (k) => chunks[k].items,
    input,
    (k) => act.embedItems({ ...chunks[k], provider: input.provider }),
  );
}
