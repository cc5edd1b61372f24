import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '../db/pool';
import { ensurePacer, reserve, settleTokens, statedLimits, throttle } from '../db/rate';

export interface Limit {
  rpm?: number;
  tpm?: number;
}

/**
 * The pacing policy. Sending at exactly a limit turns timing jitter into 429s, so a known limit is paced
 * at HEADROOM of itself. A 429 cuts the pace to CUT of itself, and the pace wins back RECOVERY of the
 * ceiling each second. With no limit configured or stated, the pace starts at START_RPS and grows by
 * GROWTH a second until a 429 met while calls were being answered; that pace, less headroom, becomes the
 * ceiling, which creeps up by PROBE a second so that a raised limit is found again; a later 429 lowers
 * a learned ceiling by at most SETTLE and cuts the pace only to SETTLE_CUT. The probe runs only while at
 * least PROBE_ABOVE of the ceiling is sent, and speeds up with the time since the last 429 (PROBE_RAMP_S,
 * at most PROBE_BOOST times): from a ceiling learned too low it climbs back in about half a minute.
 */
export const PACING = {
  HEADROOM: 0.95,
  CUT: 0.8,
  SETTLE: 0.02,
  RECOVERY: 0.1,
  START_RPS: 5,
  GROWTH: 0.4,
  PROBE: 0.005,
  PROBE_ABOVE: 0.9,
  PROBE_RAMP_S: 15,
  PROBE_BOOST: 8,
  SETTLE_CUT: 0.95,
  MIN_RPS: 0.05,
  MAX_RPS: 5_000,
} as const;

/** How a reservation moves the pace on (db/rate.ts reserve). */
export const PACING_STEP = {
  growth: PACING.GROWTH,
  recovery: PACING.RECOVERY,
  probe: PACING.PROBE,
  probeAbove: PACING.PROBE_ABOVE,
  probeRampS: PACING.PROBE_RAMP_S,
  probeBoost: PACING.PROBE_BOOST,
  maxRps: PACING.MAX_RPS,
  startRps: PACING.START_RPS,
};

/** Longest single sleep: the activity heartbeats between sleeps, so a worker that dies is noticed. */
const BEAT_MS = 5_000;

/** Sleeps `ms` in steps of at most 5 s, calling `onWait` between them; a cancelled activity stops waiting. */
export async function waitFor(ms: number, onWait: () => void, signal?: AbortSignal): Promise<void> {
  for (let left = ms; left > 0; left -= BEAT_MS) {
    onWait();
    try {
      await sleep(Math.min(left, BEAT_MS), undefined, { signal });
    } catch {
      throw new Error('cancelled while waiting for the rate limit');
    }
  }
}

/**
 * Requests and tokens per model, paced across every worker by one PostgreSQL row per model: each request
 * reserves its send time in one UPDATE and sleeps until then, so nothing polls and nothing bursts. The
 * pace follows the endpoint (429s, x-ratelimit headers) under the configured limits, if any.
 */
export class RateLimiter {
  /** Models whose pacer row this process has made sure of. */
  private readonly ready = new Map<string, Promise<void>>();
  /** The limits each model's endpoint last stated, so a row is written only when they change. */
  private readonly stated = new Map<string, string>();
  /** Models paced by tokens as well (a tpm configured or stated): only their replies correct the clock. */
  private readonly byTokens = new Set<string>();
  /** Models with an answered call since this process last saw a 429 for them. */
  private readonly answered = new Set<string>();
  /** Per model, aborted (and replaced) when a 429 cuts its pace: this process's waiters then ask again. */
  private readonly cuts = new Map<string, AbortController>();
  constructor(
    private readonly pool: Pool,
    private readonly limits: Record<string, Limit>,
  ) {}

  private ensure(model: string): Promise<void> {
    let p = this.ready.get(model);
    if (!p) {
      const l = this.limits[model];
      const ceiling = l?.rpm ? (l.rpm / 60) * PACING.HEADROOM : null;
      const tps = l?.tpm ? (l.tpm / 60) * PACING.HEADROOM : null;
      if (tps) this.byTokens.add(model);
      p = ensurePacer(this.pool, { model, rps: ceiling ?? PACING.START_RPS, ceilingRps: ceiling, tps });
      p.catch(() => this.ready.delete(model));
      this.ready.set(model, p);
    }
    return p;
  }

  private cutSignal(model: string): AbortSignal {
    let c = this.cuts.get(model);
    if (!c) {
      this.cuts.set(model, (c = new AbortController()));
      // Every call waiting on the model listens to it, hundreds in a batch: not a leak, so no warning past 10.
      setMaxListeners(0, c.signal);
    }
    return c.signal;
  }

  /**
   * Waits for the model's next send time for a request of `tokens`; returns how long it waited (ms). A 429
   * that cuts the pace meanwhile sends the wait back for a new time at the cut pace: a send time handed
   * out before was spaced for the pace that drew the 429, and keeping it would go on feeding the limit.
   */
  async acquire(model: string, tokens: number, onWait: () => void = () => {}, signal?: AbortSignal): Promise<number> {
    await this.ensure(model);
    const t0 = Date.now();
    for (;;) {
      const cut = this.cutSignal(model);
      const wait = await reserve(this.pool, model, tokens, PACING_STEP);
      // Either signal ends the wait; listeners, not AbortSignal.any, so the long-lived cut signal keeps no
      // reference to a wait that is over.
      const stop = new AbortController();
      const abort = () => stop.abort();
      cut.addEventListener('abort', abort);
      signal?.addEventListener('abort', abort);
      try {
        // A cut while the reservation was in flight aborted the signal before anyone listened.
        if (signal?.aborted || cut.aborted) abort();
        await waitFor(wait, onWait, stop.signal);
        return Date.now() - t0;
      } catch (e) {
        if (signal?.aborted || !cut.aborted) throw e;
      } finally {
        cut.removeEventListener('abort', abort);
        signal?.removeEventListener('abort', abort);
      }
    }
  }

  /** The endpoint answered 429: the shared pace slows, and this process's waiters ask again for their times. */
  async throttled(model: string): Promise<void> {
    await this.ensure(model);
    // Only a 429 met while calls were being answered says where the limit is; a run of them is an outage.
    const learn = this.answered.delete(model);
    const cut = await throttle(this.pool, model, {
      cut: PACING.CUT,
      settleCut: PACING.SETTLE_CUT,
      headroom: PACING.HEADROOM,
      settle: PACING.SETTLE,
      minRps: PACING.MIN_RPS,
      learn,
    });
    if (cut) {
      this.cuts.get(model)?.abort();
      this.cuts.delete(model);
    }
  }

  /** An answered call: learns the limits an OpenAI-style endpoint states in x-ratelimit-limit-requests / -tokens (per minute). */
  async observe(model: string, headers: Headers | undefined): Promise<void> {
    this.answered.add(model);
    const rpm = Number(headers?.get('x-ratelimit-limit-requests'));
    const tpm = Number(headers?.get('x-ratelimit-limit-tokens'));
    const rps = rpm > 0 ? (rpm / 60) * PACING.HEADROOM : null;
    const tps = tpm > 0 ? (tpm / 60) * PACING.HEADROOM : null;
    if (rps === null && tps === null) return;
    const key = `${rps}|${tps}`;
    if (this.stated.get(model) === key) return;
    this.stated.set(model, key);
    if (tps) this.byTokens.add(model);
    await this.ensure(model);
    await statedLimits(this.pool, model, rps, tps);
  }

  /** Puts right the token estimate once the reply says how many tokens the call really used. */
  async settle(model: string, estimated: number, actual: number | undefined): Promise<void> {
    if (actual === undefined || actual === estimated || !this.byTokens.has(model)) return;
    await settleTokens(this.pool, model, actual - estimated);
  }
}
