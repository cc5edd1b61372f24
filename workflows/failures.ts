import { ApplicationFailure } from '@temporalio/common';

/**
 * Failure types that say the setup is wrong (a key, a model name, an empty catalog), not the unit of
 * work: every other unit would fail the same way, so a workflow that meets one stops and fails with it
 * instead of counting it and starting the next unit. Any other non-retryable failure fails its unit only.
 */
export const FATAL_FAILURE_TYPES = ['ConfigurationError', 'NoTargets', 'Http401', 'Http403', 'Http404'] as const;

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
export const budgetCause = (e: unknown) => findCause(e, ofType(['BudgetExceeded']));

/** The same failure, raised again by the workflow that met it, so the workflow fails with its message and type. */
export const failWith = (f: ApplicationFailure) => ApplicationFailure.nonRetryable(f.message, f.type);
