import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FATAL_FAILURE_TYPES, FailureType, type UnitsLeft } from '../schemas/failures';

/** The first failure in a cause chain (activity in child in workflow) that passes `test`, if any. */
export function findCause<T>(e: unknown, test: (c: unknown) => c is T): T | undefined {
  for (let c = e as { cause?: unknown } | undefined; c; c = c.cause as typeof c) if (test(c)) return c;
  return undefined;
}

const ofType =
  (types: readonly string[]) =>
  (c: unknown): c is ApplicationFailure =>
    c instanceof ApplicationFailure && types.includes(c.type ?? '');

/** The fatal ApplicationFailure somewhere in a failure's cause chain, if any. */
export const fatalCause = (e: unknown) => findCause(e, ofType(FATAL_FAILURE_TYPES));

/** A call refused because its batch spent its budget cap: the batch pauses (nothing fails), and a resume with a higher cap goes on. */
export const budgetCause = (e: unknown) => findCause(e, ofType([FailureType.BudgetExceeded]));

/** A call queued for a provider batch (inside an activity, see queued.ts): a wait, not a failure. */
export const awaitingCause = (e: unknown) => findCause(e, ofType([FailureType.AwaitingBatch]));

/** A cancellation somewhere in a failure's cause chain: the workflow (or its scope) was cancelled. */
export const cancelledCause = (e: unknown) => findCause(e, (c): c is CancelledFailure => c instanceof CancelledFailure);

/** The same failure, raised again by the workflow that met it, so the workflow fails with its message and type. */
/** How many items of a failed unit are left undone, when its activity said (the others were stored). */
export function unitsLeftOf(e: unknown): number | undefined {
  const c = findCause(
    e,
    (x): x is ApplicationFailure =>
      x instanceof ApplicationFailure && typeof (x.details?.[0] as UnitsLeft | undefined)?.unitsLeft === 'number',
  );
  return c ? (c.details![0] as UnitsLeft).unitsLeft : undefined;
}

export const failWith = (f: ApplicationFailure) => ApplicationFailure.nonRetryable(f.message, f.type);

/** The innermost message in a failure's cause chain: an activity's own words, not "Activity task failed". */
export function innermostMessage(e: unknown): string {
  let m = (e as { message?: unknown })?.message;
  for (let c = (e as { cause?: unknown })?.cause; c; c = (c as { cause?: unknown }).cause) {
    const said = (c as { message?: unknown }).message;
    if (typeof said === 'string' && said) m = said;
  }
  return typeof m === 'string' && m ? m : String(e);
}

/** The innermost cause's message: what actually went wrong in the conversation. */
export function describeFailure(e: unknown): string {
  const parts: string[] = [];
  for (let c = e as { message?: string; cause?: unknown } | undefined; c; c = c.cause as typeof c)
    if (c.message) parts.push(c.message);
  return parts.slice(-2).join(': ') || String(e);
}
