-- Up Migration

-- A sent batch abandoned (its polls refused for hours, a key revoked) may still be answered at the
-- provider, and it is paid for: the next run that asks one of its requests reads it again instead of
-- sending them anew. Once only: a batch abandoned a second time gives its requests up to a new batch.
ALTER TABLE provider_batches ADD COLUMN reopened_at timestamptz;

-- Down Migration
ALTER TABLE provider_batches DROP COLUMN reopened_at;
