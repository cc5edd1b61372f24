/**
 * Every ApplicationFailure type muse raises, in one place. Workflows decide by type what a failure
 * means for the run (see workflows/failures.ts), so the strings must not drift between files.
 */
export const FailureType = {
  /** The setup is wrong: a missing key, an unknown provider, no embedding model. */
  Configuration: 'ConfigurationError',
  /** Stage 1 left no target category to sample profiles from. */
  NoTargets: 'NoTargets',
  /** The batch or evaluation reached its --max-cost. */
  BudgetExceeded: 'BudgetExceeded',
  /** An agent must see an item that has no image. */
  MissingImage: 'MissingImage',
  /**
   * Not a failure: an agent call was queued for a provider batch. Thrown inside an activity (so that its
   * other calls stop), it ends the activity as Queued (common/queued.ts), not as a failure; the workflow
   * waits for the answers and runs the activity again, which finds them in the ledger.
   */
  AwaitingBatch: 'AwaitingBatch',
  /** The Batch API answered one request with an error that another try would not fix. */
  BatchRequestFailed: 'BatchRequestFailed',
  /** A failed unit could not even be recorded (the database is gone). */
  BookkeepingFailed: 'BookkeepingFailed',
} as const;

/** An endpoint's HTTP status as a failure type: Http429, Http401, ... */
export const httpFailureType = (status: number) => `Http${status}`;

/**
 * Failure types that say the setup is wrong (a key, a model name, an empty catalog), not the unit of
 * work: every other unit would fail the same way, so a workflow that meets one stops and fails with it
 * instead of counting it and starting the next unit. Any other non-retryable failure fails its unit only.
 */
export const FATAL_FAILURE_TYPES: readonly string[] = [
  FailureType.Configuration,
  FailureType.NoTargets,
  httpFailureType(401),
  httpFailureType(403),
  httpFailureType(404),
];

/** What a failed unit of several items says of itself: how many of its items are still not done (the rest are stored). */
export interface UnitsLeft {
  unitsLeft: number;
}
