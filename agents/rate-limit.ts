import type { Pool } from '../db/pool';

export interface Limit {
  rpm?: number;
  tpm?: number;
}

/** A bucket holds this many seconds of the per-minute rate: bursts stay small, the minute's total holds. */
const BURST_SECONDS = 10;

/**
 * Requests and tokens per minute per model, across every worker: token buckets in PostgreSQL, each
 * refilled and taken from in one atomic UPDATE, so no two workers can spend the same allowance.
 */
export class RateLimiter {
  /** Models whose bucket row this process has made sure exists. */
  private readonly seeded = new Set<string>();
  constructor(
    private readonly pool: Pool,
    private readonly limits: Record<string, Limit>,
  ) {}

  /** Waits until the model's buckets hold one request and `tokens`; `onWait` runs while it waits (heartbeat). */
  async acquire(model: string, tokens: number, onWait: () => void = () => {}, signal?: AbortSignal): Promise<number> {
    const l = this.limits[model];
    if (!l) return 0;
    const rpm = l.rpm ?? 1e12;
    const tpm = l.tpm ?? 1e12;
    const cap = { r: Math.max(1, (rpm * BURST_SECONDS) / 60), t: Math.max(tokens, (tpm * BURST_SECONDS) / 60) };
    if (!this.seeded.has(model)) {
      await this.pool.query(
        'INSERT INTO rate_buckets (model, requests, tokens) VALUES ($1, $2, $3) ON CONFLICT (model) DO NOTHING',
        [model, cap.r, cap.t],
      );
      this.seeded.add(model);
    }
    let waited = 0;
    for (;;) {
      const r = await this.pool.query(
        `WITH b AS (
           SELECT least($2::float8, requests + extract(epoch FROM clock_timestamp() - updated_at) * $4::float8 / 60) AS r,
                  least($3::float8, tokens + extract(epoch FROM clock_timestamp() - updated_at) * $5::float8 / 60) AS t
           FROM rate_buckets WHERE model = $1 FOR UPDATE)
         UPDATE rate_buckets SET
           requests = b.r - CASE WHEN b.r >= 1 AND b.t >= $6 THEN 1 ELSE 0 END,
           tokens = b.t - CASE WHEN b.r >= 1 AND b.t >= $6 THEN $6 ELSE 0 END,
           updated_at = clock_timestamp()
         FROM b WHERE rate_buckets.model = $1
         RETURNING b.r >= 1 AND b.t >= $6 AS granted, b.r, b.t`,
        [model, cap.r, cap.t, rpm, tpm, tokens],
      );
      const { granted, r: have, t: haveTokens } = r.rows[0];
      if (granted) return waited;
      const seconds = Math.max((1 - have) * (60 / rpm), (tokens - haveTokens) * (60 / tpm), 0.05);
      onWait();
      if (signal?.aborted) throw new Error('cancelled while waiting for the rate limit');
      await new Promise((res) => setTimeout(res, Math.min(seconds, 5) * 1000));
      waited += Math.min(seconds, 5);
    }
  }

  /** Puts right the estimate once the reply says how many tokens the call really used. */
  async settle(model: string, estimated: number, actual: number | undefined): Promise<void> {
    if (!this.limits[model] || actual === undefined || actual === estimated) return;
    await this.pool.query('UPDATE rate_buckets SET tokens = tokens - $2 WHERE model = $1', [model, actual - estimated]);
  }
}
