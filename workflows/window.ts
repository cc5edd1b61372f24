import { condition, workflowInfo } from '@temporalio/workflow';

/** The window is asked for again after this many launches: often enough to follow the endpoint's pace. */
const WINDOW_EVERY = 20;
const WINDOW_SECONDS = 10;

export interface WindowOptions {
  /** What to launch, in order, and where this run starts in it. */
  queue: readonly number[];
  cursor: number;
  /** The most units running at once; under it the window follows `suggest`. */
  ceiling: number;
  /** The window the endpoint's pace can use now (an activity: asked again every WINDOW_EVERY launches or WINDOW_SECONDS). */
  suggest: () => Promise<number>;
  /** Starts one unit (fire and forget: the caller counts it in `running` until it ends). */
  launch: (idx: number) => void;
  /** Units running now, and how many of them wait for a provider batch (those hold no slot). */
  running: () => number;
  waiting: () => number;
  /** A reason to launch no more (a fatal failure, the budget): the window stops at once. */
  stopped: () => boolean;
  /** Past this many history events the run hands over; `handOver(cursor)` continues as new and never returns. */
  historyBudget: number;
  /** Whether waiting units outlive the run (the next run takes them over), or must end before it hands over. */
  waitingOutliveRun: boolean;
  handOver: (cursor: number) => Promise<never>;
}

/**
 * Launches the queue under a sliding window sized to what the endpoint can take, never above the ceiling.
 * Before the history grows long it lets the running units end (all of them, or all but those waiting
 * for a provider batch when they outlive the run) and hands over to a fresh run at the next cursor.
 * Returns once everything is launched or it stopped; the caller waits for the last units to end.
 */
export async function slidingWindow(o: WindowOptions): Promise<void> {
  let cursor = o.cursor;
  let window = o.ceiling;
  let launchedSinceAsked = WINDOW_EVERY;
  let askedAt = 0;
  while (cursor < o.queue.length && !o.stopped()) {
    // Asked again after WINDOW_EVERY launches, or WINDOW_SECONDS: units take minutes on a real endpoint,
    // so launches alone would leave a small first window in place while the pace grows.
    if (launchedSinceAsked >= WINDOW_EVERY || Date.now() - askedAt >= WINDOW_SECONDS * 1000) {
      window = await o.suggest();
      launchedSinceAsked = 0;
      askedAt = Date.now();
    }
    const room = () => o.running() - o.waiting() < window || o.stopped();
    // A window at the ceiling cannot grow, so waiting for room needs no timer to ask again.
    if (window >= o.ceiling) await condition(room);
    else if (!(await condition(room, `${WINDOW_SECONDS} seconds`))) continue;
    if (o.stopped()) break;
    if (workflowInfo().historyLength > o.historyBudget || workflowInfo().continueAsNewSuggested) {
      await condition(() => o.running() === (o.waitingOutliveRun ? o.waiting() : 0));
      if (o.stopped()) break; // met while the window drained: no fresh run to hand over to
      await o.handOver(cursor);
    }
    o.launch(o.queue[cursor++]);
    launchedSinceAsked++;
  }
}
