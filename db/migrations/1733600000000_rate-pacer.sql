-- Up Migration

-- One pacer per model, shared by every worker. Each request reserves the next send time on a virtual
-- clock (next_at moves on by 1/rps), so waits are computed once instead of polled, and no burst is
-- ever released at once. rps follows the endpoint: cut on a 429, won back gradually, never above the
-- ceiling (the configured limit, or the one the endpoint's x-ratelimit headers state, with headroom).
CREATE TABLE rate_pacer (
  model text PRIMARY KEY,
  rps double precision NOT NULL CHECK (rps > 0),
  ceiling_rps double precision CHECK (ceiling_rps > 0),
  -- Where the ceiling came from: 'config', 'headers' or '429' (learned from where 429s began).
  ceiling_source text,
  next_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  tps double precision CHECK (tps > 0),
  next_token_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- The send time of the last request granted (what the statement that reserved it returns).
  granted_at timestamptz,
  cut_at timestamptz,
  -- When rps last moved: recovery and growth are per second, so a slow model recovers as fast as a busy one.
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- Requests reserved in the current one-second window, and the rate the last full window saw: a cut
  -- starts from what is really being sent, not from a pace that ran ahead of the demand.
  window_start timestamptz NOT NULL DEFAULT clock_timestamp(),
  window_count int NOT NULL DEFAULT 0,
  observed_rps double precision,
  throttled bigint NOT NULL DEFAULT 0
);
DROP TABLE rate_buckets;

-- Down Migration
CREATE TABLE rate_buckets (
  model text PRIMARY KEY,
  requests double precision NOT NULL,
  tokens double precision NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
DROP TABLE rate_pacer;
