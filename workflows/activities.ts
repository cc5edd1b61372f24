import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** The activities as the per-conversation workflows call them: every one may call an LLM. */
export const act = proxyActivities<Activities>({
  // Long enough for a call to wait out an endpoint's 429s (rateLimitPatienceMs, 15 min by default).
  startToCloseTimeout: '30 minutes',
  // LLM calls heartbeat every 5 s: a worker that dies mid-call is noticed within the minute.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});

/**
 * The same activities run as local activities, for bookkeeping that calls no agent (a row read or
 * written): each is one marker in the history instead of three events and a workflow task of its own.
 */
export const bookkeeping = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});
