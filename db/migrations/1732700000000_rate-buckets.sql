-- Up Migration

-- Token buckets, one per model, shared by every worker: a request takes 1 from `requests` and its
-- estimated size from `tokens`; both refill continuously at the configured per-minute rates.
CREATE TABLE rate_buckets (
  model text PRIMARY KEY,
  requests double precision NOT NULL,
  tokens double precision NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Down Migration
DROP TABLE rate_buckets;
