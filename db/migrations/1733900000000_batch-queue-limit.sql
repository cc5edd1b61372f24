-- Up Migration

-- The provider's batch queue limit: the input tokens a batch holds in the queue (estimated as --max-cost
-- estimates them), and the moment it took its place under the limit; it holds it until it ends.
ALTER TABLE provider_batches ADD COLUMN tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE provider_batches ADD COLUMN admitted_at timestamptz;
-- Times the provider refused the batch as a whole for now (its queue limit, a rate limit): sent again
-- later, unchanged, its requests never refused for it; and the provider's last word on why.
ALTER TABLE provider_batches ADD COLUMN deferrals int NOT NULL DEFAULT 0;
ALTER TABLE provider_batches ADD COLUMN deferred_error text;
-- The provider's ids of the sendings it refused, so `muse status <id>` still finds the batch by them.
ALTER TABLE provider_batches ADD COLUMN refused_ids text[] NOT NULL DEFAULT '{}';
-- The provider's last state of the batch (completed, expired, cancelled, failed), kept once it is ingested.
ALTER TABLE provider_batches ADD COLUMN final_status text;
-- Every provider batch a request was planned into, in order: where an expired batch's requests went.
ALTER TABLE batch_requests ADD COLUMN sent_in bigint[] NOT NULL DEFAULT '{}';

UPDATE provider_batches SET admitted_at = submitted_at WHERE submitted_at IS NOT NULL;
UPDATE provider_batches pb SET tokens = s.tokens
  FROM (SELECT provider_batch_id AS id, sum(estimate_tokens) AS tokens FROM batch_requests GROUP BY provider_batch_id) s
  WHERE s.id = pb.id;
UPDATE batch_requests SET sent_in = ARRAY[provider_batch_id] WHERE provider_batch_id IS NOT NULL;
CREATE INDEX provider_batches_queue_idx ON provider_batches (model, base_url) WHERE ended_at IS NULL;

-- Down Migration
DROP INDEX provider_batches_queue_idx;
ALTER TABLE batch_requests DROP COLUMN sent_in;
ALTER TABLE provider_batches DROP COLUMN final_status;
ALTER TABLE provider_batches DROP COLUMN refused_ids;
ALTER TABLE provider_batches DROP COLUMN deferred_error;
ALTER TABLE provider_batches DROP COLUMN deferrals;
ALTER TABLE provider_batches DROP COLUMN admitted_at;
ALTER TABLE provider_batches DROP COLUMN tokens;
