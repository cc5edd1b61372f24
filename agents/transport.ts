import OpenAI from 'openai';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { httpFailureType } from '../schemas/failures';

/** What every HTTP call to a model endpoint shares: cancellation, heartbeats, and failures as Temporal reads them. */

/** Where a failure happened, for its message: the agent, the endpoint and the model. */
export interface CallSite {
  baseURL?: string;
  model: string;
  /** The environment variable the key came from, named when the endpoint refuses it. */
  keySource?: string;
}

/** Status codes worth another attempt; every other 4xx means the request itself must change. */
const RETRYABLE = new Set([408, 409, 429]);
/** Statuses worth another send (a timeout, a conflict, a rate limit, the server's fault); the rest say the request itself must change. */
export const retryableStatus = (s: number) => RETRYABLE.has(s) || s >= 500;

/**
 * The SDK adds an abort listener to the signal it is given and never removes it, so an activity making
 * many calls would pile them up on its cancellation signal. Each request gets its own signal instead,
 * linked to the activity's and unlinked when the request ends.
 */
export async function linked<T>(parent: AbortSignal | undefined, fn: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  if (!parent) return fn(undefined);
  const c = new AbortController();
  const abort = () => c.abort(parent.reason);
  if (parent.aborted) abort();
  else parent.addEventListener('abort', abort, { once: true });
  try {
    return await fn(c.signal);
  } finally {
    parent.removeEventListener('abort', abort);
  }
}

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (e.g. `muse profiles`)
  }
}

/** Heartbeats while a slow call is in flight, so a dead worker is noticed and a cancel reaches the call. */
export async function whileBeating<T>(activity: Context | undefined, fn: () => Promise<T>): Promise<T> {
  const beat = activity && setInterval(() => activity.heartbeat(), 5_000);
  try {
    return await fn();
  } finally {
    if (beat) clearInterval(beat);
  }
}

/** The server's Retry-After (seconds or an HTTP date) in ms, if it sent one. */
export function retryAfterMs(e: InstanceType<typeof OpenAI.APIError>): number | undefined {
  const h = e.headers?.get('retry-after');
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function classify(e: unknown, agent: string, endpoint: CallSite): Error {
  const where = `${agent} on ${endpoint.baseURL ?? 'api.openai.com'} (model ${endpoint.model})`;
  if (e instanceof OpenAI.APIError && typeof e.status === 'number') {
    // The SDK's message starts with the status ("401 Incorrect API key"), which the message below gives.
    const said = e.message.replace(new RegExp(`^${e.status}\\s+`), '');
    if (retryableStatus(e.status)) {
      // The server's own word on when to come back becomes Temporal's next retry delay. A zero delay is
      // left to the retry policy's backoff: a nextRetryDelay of 0 makes Temporal stop retrying altogether.
      const wait = retryAfterMs(e);
      return ApplicationFailure.create({
        message: `${where}: HTTP ${e.status}: ${said}`,
        type: httpFailureType(e.status),
        nextRetryDelay: wait ? wait : undefined,
      });
    }
    const hint =
      e.status === 401
        ? `check ${endpoint.keySource ?? 'the key'}, the key this call used`
        : e.status === 404
          ? 'check the model name and OPENAI_BASE_URL'
          : /context|too long|maximum.*tokens/i.test(e.message)
            ? 'the prompt is longer than the model accepts: use a model with a longer context or smaller images'
            : 'the request was refused; fix it before retrying';
    return ApplicationFailure.nonRetryable(`${where}: HTTP ${e.status}: ${said} (${hint})`, httpFailureType(e.status));
  }
  return new Error(`${where}: ${e instanceof Error ? e.message : String(e)}`);
}
