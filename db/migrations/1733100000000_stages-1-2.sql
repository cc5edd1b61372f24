-- Up Migration

-- Stage 2 as the method has it: a sample is gated, then written, then deduplicated in acceptance order.
-- A gated-out sample has no backstory; a written one waits as 'pending' until acceptance reaches it.
ALTER TABLE profiles ALTER COLUMN backstory DROP NOT NULL;
ALTER TABLE profiles ALTER COLUMN requirement DROP NOT NULL;
ALTER TABLE profiles DROP CONSTRAINT profiles_status_check;
ALTER TABLE profiles ADD CONSTRAINT profiles_status_check CHECK (status IN ('pending', 'accepted', 'gated_out', 'duplicate'));
ALTER TABLE profiles ADD CONSTRAINT profiles_written_check CHECK (status = 'gated_out' OR (backstory IS NOT NULL AND requirement IS NOT NULL));
-- The order in which profiles were accepted: what the BLEU index replays, and the order batches use them in.
CREATE SEQUENCE profiles_accepted_order;
ALTER TABLE profiles ADD COLUMN accepted_order bigint UNIQUE;
ALTER TABLE profiles ADD COLUMN duplicate_of text REFERENCES profiles (id);
UPDATE profiles SET accepted_order = nextval('profiles_accepted_order') WHERE status = 'accepted'
  AND id IN (SELECT id FROM profiles ORDER BY ordinal);
CREATE INDEX profiles_pending_idx ON profiles (seed, seq) WHERE status = 'pending';

-- Stage 1: who wrote an item's caption (provider and prompt version), and the category filter's
-- category -> items map as it was when the filter ran.
ALTER TABLE items ADD COLUMN caption_source text;
ALTER TABLE categories ADD COLUMN item_ids text[];

-- Dense retrieval: one embedding per item and model. pgvector is not assumed; vectors are float4
-- arrays searched exactly in the worker.
CREATE TABLE item_embeddings (
  item_id text NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  model text NOT NULL,
  text_sha256 text NOT NULL,
  vector real[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, item_id)
);

-- Down Migration
DROP TABLE item_embeddings;
ALTER TABLE categories DROP COLUMN item_ids;
ALTER TABLE items DROP COLUMN caption_source;
DROP INDEX profiles_pending_idx;
ALTER TABLE profiles DROP COLUMN duplicate_of;
ALTER TABLE profiles DROP COLUMN accepted_order;
DROP SEQUENCE profiles_accepted_order;
ALTER TABLE profiles DROP CONSTRAINT profiles_written_check;
ALTER TABLE profiles DROP CONSTRAINT profiles_status_check;
ALTER TABLE profiles ADD CONSTRAINT profiles_status_check CHECK (status IN ('accepted', 'gated_out', 'duplicate'));
ALTER TABLE profiles ALTER COLUMN requirement SET NOT NULL;
ALTER TABLE profiles ALTER COLUMN backstory SET NOT NULL;
