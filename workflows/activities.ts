import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** The activities as the per-conversation workflows call them: every one may call an LLM. */
export const act = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  // LLM calls heartbeat every 5 s: a worker that dies mid-call is noticed within the minute.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});
