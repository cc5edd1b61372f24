-- Up Migration

-- This database's identity. Task queues carry it, so a worker serves only the database it was started
-- with: a worker pointed at another database never sees, let alone writes, this one's work.
CREATE TABLE muse_instance (
  id text PRIMARY KEY DEFAULT replace(gen_random_uuid()::text, '-', ''),
  created_at timestamptz NOT NULL DEFAULT now(),
  only_row boolean NOT NULL DEFAULT true UNIQUE CHECK (only_row)
);
INSERT INTO muse_instance DEFAULT VALUES;

-- Down Migration
DROP TABLE muse_instance;
