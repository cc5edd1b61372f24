import { ApplicationFailure } from '@temporalio/common';

/**
 * Failure types that say the setup is wrong (a key, a model name, an empty catalog), not the unit of
 * work: every other unit would fail the same way, so a workflow that meets one stops and fails with it
 * instead of counting it and starting the next unit. Any other non-retryable failure fails its unit only.
 */
export const FATAL_FAILURE_TYPES = ['ConfigurationError', 'NoTargets', 'Http401', 'Http403', 'Http404'] as const;

/** The fatal ApplicationFailure somewhere in a failure's cause chain (activity in child in workflow), if any. */
export function fatalCause(e: unknown): ApplicationFailure | undefined {
  for (let c = e as { cause?: unknown } | undefined; c; c = c.cause as typeof c) {
    if (c instanceof ApplicationFailure && (FATAL_FAILURE_TYPES as readonly string[]).includes(c.type ?? '')) return c;
  }
  return undefined;
}

/** A call refused because its batch spent its budget cap: the batch pauses (nothing fails), and a resume with a higher cap goes on. */
export function budgetCause(e: unknown): ApplicationFailure | undefined {
  for (let c = e as { cause?: unknown } | undefined; c; c = c.cause as typeof c) {
    if (c instanceof ApplicationFailure && c.type === 'BudgetExceeded') return c;
  }
  return undefined;
}

/** The same failure, raised again by the workflow that met it, so the workflow fails with its message and type. */
export const failWith = (f: ApplicationFailure) => ApplicationFailure.nonRetryable(f.message, f.type);
