-- Up Migration

-- One row per batch submitted to a provider's Batch API (OpenAI's /v1/batches): what muse planned into it,
-- and the provider's file and batch ids, stored the moment the provider hands them out, so a worker or
-- server that dies after that finds the same batch and polls it again instead of submitting twice.
CREATE TABLE provider_batches (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The muse batch, evaluation or stage-1/2 workflow the requests were made for (what `muse cancel` names).
  run_id text NOT NULL,
  role text NOT NULL,
  base_url text,
  model text NOT NULL,
  -- planned (not sent yet), then the provider's own states, then ingested once its answers are stored.
  status text NOT NULL DEFAULT 'planned',
  requests int NOT NULL,
  bytes bigint NOT NULL,
  -- What the batch would cost if every request used its whole estimate: what --max-cost counts before it is sent.
  worst_case_usd numeric(14, 8),
  input_file_id text,
  -- Unique at its provider only: two endpoints may hand out the same id.
  provider_batch_id text,
  output_file_id text,
  error_file_id text,
  -- The provider's request_counts: {total, completed, failed}.
  counts jsonb,
  error text,
  -- `muse cancel` asked for it: unanswered requests are left cancelled, not submitted again.
  cancel_requested boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz,
  ended_at timestamptz,
  ingested_at timestamptz
);
CREATE INDEX provider_batches_run_idx ON provider_batches (run_id);
CREATE UNIQUE INDEX provider_batches_provider_idx ON provider_batches (base_url, provider_batch_id);

-- One row per distinct request waiting for (or answered through) a provider batch, keyed by the ledger's
-- content hash: the same request asked twice is sent once. The body holds images by reference (their
-- bytes are read when the request file is written), and its size as a line of that file.
CREATE TABLE batch_requests (
  content_hash text PRIMARY KEY,
  run_id text NOT NULL,
  -- The workflows whose activities asked for it: each is signalled when its answer is stored.
  requesters text[] NOT NULL,
  conversation_id text,
  batch_id text,
  call_key text NOT NULL,
  agent text NOT NULL,
  role text NOT NULL,
  base_url text,
  model text NOT NULL,
  prompt_version text NOT NULL,
  body jsonb NOT NULL,
  bytes int NOT NULL,
  estimate_tokens int NOT NULL,
  -- queued, planned (in a provider batch), answered, failed (its unit fails with `error`), paused (the
  -- budget), cancelled.
  status text NOT NULL DEFAULT 'queued',
  -- The workflow run that was told of the failure: within it the request stays failed; a later run (a
  -- resume, the command again) sends it anew.
  failed_run text,
  provider_batch_id bigint REFERENCES provider_batches (id),
  -- Times it was sent: a retryable error or an expired batch sends it again, a bounded number of times.
  tries int NOT NULL DEFAULT 0,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX batch_requests_run_idx ON batch_requests (run_id, status);
CREATE INDEX batch_requests_batch_idx ON batch_requests (provider_batch_id);

-- Which API answered a ledger row, and through which provider batch.
ALTER TABLE llm_calls ADD COLUMN api text NOT NULL DEFAULT 'online' CHECK (api IN ('online', 'batch'));
ALTER TABLE llm_calls ADD COLUMN provider_batch_id bigint;

-- The roles a batch sends through the Batch API (its `--api`), so `muse resume` goes on the same way.
ALTER TABLE batches ADD COLUMN batch_roles text[] NOT NULL DEFAULT '{}';

-- Down Migration
ALTER TABLE batches DROP COLUMN batch_roles;
ALTER TABLE llm_calls DROP COLUMN provider_batch_id;
ALTER TABLE llm_calls DROP COLUMN api;
DROP TABLE batch_requests;
DROP TABLE provider_batches;
