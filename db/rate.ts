import type { Pool } from './pool';

/** The per-model pacers (table rate_pacer): see agents/rate-limit.ts for the policy they carry out. */

export interface PacerStart {
  model: string;
  /** The pace to start from when the row is new. */
  rps: number;
  /** From the configuration: overrides what is stored; null clears a ceiling an earlier configuration set. */
  ceilingRps: number | null;
  tps: number | null;
}

/** Makes sure the model's pacer exists and carries the configured ceiling (a configured limit always wins). */
export async function ensurePacer(pool: Pool, p: PacerStart): Promise<void> {
  await pool.query(
    `INSERT INTO rate_pacer (model, rps, ceiling_rps, ceiling_source, tps)
     VALUES ($1, $2, $3, CASE WHEN $3::float8 IS NULL THEN NULL ELSE 'config' END, $4)
     ON CONFLICT (model) DO UPDATE SET
       ceiling_rps = CASE WHEN $3::float8 IS NOT NULL THEN $3
                          WHEN rate_pacer.ceiling_source = 'config' THEN NULL ELSE rate_pacer.ceiling_rps END,
       ceiling_source = CASE WHEN $3::float8 IS NOT NULL THEN 'config'
                             WHEN rate_pacer.ceiling_source = 'config' THEN NULL ELSE rate_pacer.ceiling_source END,
       tps = CASE WHEN $3::float8 IS NOT NULL OR $4::float8 IS NOT NULL THEN $4
                  WHEN rate_pacer.ceiling_source = 'config' THEN NULL ELSE rate_pacer.tps END,
       rps = CASE WHEN $3::float8 IS NOT NULL THEN least(rate_pacer.rps, $3)
                  WHEN rate_pacer.ceiling_source = 'config' THEN $2 ELSE rate_pacer.rps END`,
    [p.model, p.rps, p.ceilingRps, p.tps],
  );
}

/**
 * Reserves the next send time for one request of `tokens`, moving the model's clocks on by tokens/tps and
 * by one request at the pace projected for the send time it books (a backlog booked at today's pace would
 * keep that spacing however fast the pace grew meanwhile: 200 calls asked for at the start of a run queued
 * at the 5-a-second start pace for 40 s). It moves the pace on by the time since it last moved: `growth`
 * (share per second) while no ceiling is known (and never past twice the rate really asked for, nor below
 * `startRps`), else `recovery` (share of the ceiling per second) back up to it; a ceiling learned
 * from 429s creeps up by `probe` per second while the rate really sent is at least `probeAbove` of it
 * (a batch that does not use its ceiling learns nothing about the limit, and a ceiling that rose
 * meanwhile would meet the next burst of demand with 429s). The probe speeds up the longer no 429 has
 * come (`probe` x (1 + seconds since the last cut / `probeRampS`), at most `probeBoost` times): slow
 * near where the last one came, fast from a ceiling learned too low. Returns how long to wait, in ms.
 * A 429 takes the booked times back (throttle), so a projection that proves too fast costs one cut.
 */
export async function reserve(
  pool: Pool,
  model: string,
  tokens: number,
  step: {
    growth: number;
    recovery: number;
    probe: number;
    probeAbove: number;
    probeRampS: number;
    probeBoost: number;
    maxRps: number;
    startRps: number;
  },
): Promise<number> {
  // o locks the row (FOR UPDATE), so what b computes is from the version this UPDATE writes over.
  const r = await pool.query(
    `WITH o AS (
       SELECT model, ceiling_rps, updated_at,
              greatest(0, extract(epoch FROM next_at - now()))::float8 AS ahead,
              -- The rate asked for: the last full second's, or the one under way if higher (a backlog arrives at once).
              greatest(coalesce(observed_rps, 0),
                       CASE WHEN now() - window_start < interval '1 second'
                            THEN (window_count + 1) / greatest(0.25, extract(epoch FROM now() - window_start))
                            ELSE 0 END)::float8 AS asked,
              rps
       FROM rate_pacer WHERE model = $1 FOR UPDATE
     ), s AS (
       SELECT o.*, CASE WHEN ceiling_rps IS NULL
                        THEN least($6::float8, greatest($7::float8, 2 * asked),
                                   rps * power(1 + $3::float8, least(60, extract(epoch FROM now() - updated_at))))
                        ELSE least(ceiling_rps, rps + $4::float8 * ceiling_rps * extract(epoch FROM now() - updated_at))
                   END AS pace
       FROM o
     ), b AS (
       SELECT s.*, CASE WHEN ceiling_rps IS NULL
                        THEN least($6::float8, greatest($7::float8, 2 * asked), pace * power(1 + $3::float8, least(60, ahead)))
                        ELSE least(ceiling_rps, pace + $4::float8 * ceiling_rps * ahead) END AS booked_rps
       FROM s
     )
     UPDATE rate_pacer p SET
       granted_at = greatest(p.next_at, now(), CASE WHEN p.tps IS NULL THEN now() ELSE p.next_token_at END),
       next_at = greatest(p.next_at, now()) + make_interval(secs => 1 / b.booked_rps),
       next_token_at = CASE WHEN p.tps IS NULL THEN p.next_token_at
                            ELSE greatest(p.next_token_at, now()) + make_interval(secs => $2::float8 / p.tps) END,
       window_start = CASE WHEN now() - p.window_start >= interval '1 second' THEN now() ELSE p.window_start END,
       window_count = CASE WHEN now() - p.window_start >= interval '1 second' THEN 1 ELSE p.window_count + 1 END,
       observed_rps = CASE WHEN now() - p.window_start >= interval '1 second'
                           THEN p.window_count / extract(epoch FROM now() - p.window_start) ELSE p.observed_rps END,
       rps = b.pace,
       ceiling_rps = CASE WHEN p.ceiling_source = '429' AND coalesce(p.observed_rps, 0) >= $8::float8 * p.ceiling_rps
                          THEN least($6::float8, p.ceiling_rps * power(1 + $5::float8 * least($10::float8,
                                       1 + extract(epoch FROM now() - coalesce(p.cut_at, now())) / $9::float8),
                                     least(60, extract(epoch FROM now() - p.updated_at))))
                          ELSE p.ceiling_rps END,
       updated_at = now()
     FROM b
     WHERE p.model = b.model
     RETURNING greatest(0, 1000 * extract(epoch FROM p.granted_at - clock_timestamp()))::float8 AS wait_ms`,
    [
      model,
      tokens,
      step.growth,
      step.recovery,
      step.probe,
      step.maxRps,
      step.startRps,
      step.probeAbove,
      step.probeRampS,
      step.probeBoost,
    ],
  );
  return r.rows[0]?.wait_ms ?? 0;
}

/**
 * A 429: cut the pace to `cut` of what is really being sent (the pace, or less: the rate of the last full
 * second or of the one under way, whichever is higher, since while the pace grows the last full second
 * lags the rate that met the limit), at most once a second (one overshoot brings many 429s at once).
 * With `learn` (calls were being answered until now: the pace met a limit, not an outage) and no limit
 * configured or stated, the pace that drew it, less `headroom`, becomes the ceiling; once one is learned,
 * a 429 lowers it by at most `settle` (paced at the ceiling, timing jitter alone draws one now and then,
 * and taking the headroom off each time would ratchet the ceiling far below the limit), and the pace is
 * cut only to `settleCut` of what is sent (the probe met the limit: a small step back, not a back-off).
 * A cut forgets the send times already handed out (their holders ask again at the cut pace) and returns true.
 */
export async function throttle(
  pool: Pool,
  model: string,
  o: { cut: number; settleCut: number; headroom: number; settle: number; minRps: number; learn: boolean },
): Promise<boolean> {
  const r = await pool.query(
    `UPDATE rate_pacer p SET
       throttled = throttled + 1,
       ceiling_rps = CASE WHEN cut_at > now() - interval '1 second' OR NOT $5::boolean OR ceiling_source IN ('config', 'headers')
                          THEN ceiling_rps
                          WHEN ceiling_source = '429'
                          THEN greatest($4::float8, least(ceiling_rps, greatest(ceiling_rps * (1 - $6::float8),
                                                                               s.sending * $3::float8)))
                          ELSE greatest($4::float8, s.sending * $3::float8) END,
       ceiling_source = CASE WHEN cut_at > now() - interval '1 second' OR NOT $5::boolean OR ceiling_source IN ('config', 'headers')
                             THEN ceiling_source ELSE '429' END,
       rps = CASE WHEN cut_at > now() - interval '1 second' THEN rps
                  WHEN ceiling_source = '429' AND $5::boolean THEN greatest($4::float8, s.sending * $7::float8)
                  ELSE greatest($4::float8, s.sending * $2::float8) END,
       updated_at = CASE WHEN cut_at > now() - interval '1 second' THEN updated_at ELSE now() END,
       next_at = CASE WHEN cut_at > now() - interval '1 second' THEN next_at ELSE least(next_at, now()) END,
       cut_at = CASE WHEN cut_at > now() - interval '1 second' THEN cut_at ELSE now() END
     FROM (SELECT model, least(rps, greatest(coalesce(observed_rps, 0),
                                             window_count / greatest(0.25, extract(epoch FROM now() - window_start)))) AS sending
           FROM rate_pacer WHERE model = $1) s
     WHERE p.model = s.model
     RETURNING p.cut_at = now() AS cut`,
    [model, o.cut, o.headroom, o.minRps, o.learn, o.settle, o.settleCut],
  );
  return r.rows[0]?.cut === true;
}

/** The limits an endpoint states (x-ratelimit-limit-*), with headroom, unless the configuration sets them. */
export async function statedLimits(pool: Pool, model: string, rps: number | null, tps: number | null) {
  await pool.query(
    `UPDATE rate_pacer SET
       ceiling_rps = coalesce($2::float8, ceiling_rps),
       ceiling_source = CASE WHEN $2::float8 IS NULL THEN ceiling_source ELSE 'headers' END,
       rps = least(rps, coalesce($2::float8, rps)),
       tps = coalesce($3::float8, tps)
     WHERE model = $1 AND ceiling_source IS DISTINCT FROM 'config'`,
    [model, rps, tps],
  );
}

/** Corrects a request's token reservation once the reply says what it used. */
export async function settleTokens(pool: Pool, model: string, extraTokens: number): Promise<void> {
  await pool.query(
    `UPDATE rate_pacer SET next_token_at = next_token_at + make_interval(secs => $2::float8 / tps)
     WHERE model = $1 AND tps IS NOT NULL`,
    [model, extraTokens],
  );
}

export interface PacerState {
  model: string;
  rps: number;
  ceilingRps: number | null;
  ceilingSource: string | null;
  throttled: number;
}

export async function pacers(pool: Pool): Promise<PacerState[]> {
  const r = await pool.query(
    `SELECT model, rps, ceiling_rps AS "ceilingRps", ceiling_source AS "ceilingSource", throttled::float8 AS throttled
     FROM rate_pacer ORDER BY model`,
  );
  return r.rows;
}

/** Mean latency (s) of each model's last answered calls, from the ledger's newest `recent` rows. */
export async function recentLatencies(pool: Pool, recent = 500): Promise<Map<string, number>> {
  const r = await pool.query(
    `SELECT model, avg(latency_ms)::float8 / 1000 AS seconds
     FROM (SELECT model, latency_ms FROM llm_calls WHERE status = 'ok' ORDER BY id DESC LIMIT $1) t GROUP BY model`,
    [recent],
  );
  return new Map(r.rows.map((row) => [row.model, row.seconds]));
}

/** Forgets a model's pace, so the next request starts it afresh (a benchmark measures how fast it finds the limit). */
export async function resetPacer(pool: Pool, model: string): Promise<void> {
  await pool.query('DELETE FROM rate_pacer WHERE model = $1', [model]);
}
