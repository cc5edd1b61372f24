-- Up Migration

-- Every agent call the openai provider answers, sent or served from cache. A call whose content hash
-- (model, messages with image digests, parameters, schema, prompt version) has an 'ok' row is answered
-- from that row without a request, so a retried or resumed activity never pays twice.
CREATE TABLE llm_calls (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  content_hash text NOT NULL,
  conversation_id text,
  call_key text NOT NULL,
  agent text NOT NULL,
  role text NOT NULL,
  base_url text,
  model text NOT NULL,
  prompt_version text NOT NULL,
  -- Temporal's attempt of the activity that made the call (null outside an activity), and which ask of
  -- that attempt it was (a reply that fails validation is asked again).
  attempt int,
  ask int NOT NULL DEFAULT 1,
  status text NOT NULL CHECK (status IN ('ok', 'cached', 'http_error', 'network_error', 'invalid')),
  http_status int,
  error text,
  response_mode text,
  input_tokens int,
  output_tokens int,
  latency_ms int NOT NULL,
  cost_usd numeric(14, 8),
  raw_reply text,
  output jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_calls_answered_idx ON llm_calls (content_hash) WHERE status = 'ok';
CREATE INDEX llm_calls_conversation_idx ON llm_calls (conversation_id);

-- Down Migration
DROP TABLE llm_calls;
