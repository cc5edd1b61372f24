-- Up Migration

-- array_to_string is only STABLE; generated columns need an IMMUTABLE expression, and joining text is.
CREATE FUNCTION muse_join(text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array_to_string($1, ' ') $$;

-- Content-addressed image store: the file lives at <image root>/<path>.
CREATE TABLE images (
  sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  path text NOT NULL,
  mime text NOT NULL,
  width int,
  height int,
  bytes int NOT NULL
);

CREATE TABLE items (
  id text PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('demo', 'amazon')),
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  features text[] NOT NULL DEFAULT '{}',
  categories text[] NOT NULL DEFAULT '{}',
  price numeric(12, 2) CHECK (price >= 0),
  store text,
  details jsonb NOT NULL DEFAULT '{}',
  image_sha256 text REFERENCES images (sha256),
  -- Stage 1 re-captioning writes the new description here.
  caption text,
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A')
    || setweight(to_tsvector('english', muse_join(categories)), 'B')
    || setweight(to_tsvector('english', coalesce(caption, '') || ' ' || description), 'C')
    || setweight(to_tsvector('english', muse_join(features)), 'C')
  ) STORED,
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX items_search_idx ON items USING gin (search);
CREATE INDEX items_categories_idx ON items USING gin (categories);

-- Category tags with their item counts and the category filter's verdict.
CREATE TABLE categories (
  name text PRIMARY KEY,
  item_count int NOT NULL,
  is_product_type boolean,
  verdict_source text
);

CREATE TABLE profiles (
  id text PRIMARY KEY,
  -- Creation order, so "the profiles no batch has used yet" come out in the same order on every database.
  ordinal bigint GENERATED ALWAYS AS IDENTITY,
  seed bigint NOT NULL,
  seq int NOT NULL,
  category text NOT NULL,
  target_item_id text NOT NULL REFERENCES items (id),
  scenario_group text NOT NULL,
  scenario text NOT NULL,
  age int NOT NULL CHECK (age BETWEEN 5 AND 70),
  gender text NOT NULL CHECK (gender IN ('male', 'female', 'unknown')),
  name text NOT NULL,
  profession text,
  backstory text NOT NULL,
  requirement text NOT NULL,
  status text NOT NULL CHECK (status IN ('accepted', 'gated_out', 'duplicate')),
  -- The profile gate's verdict and the dedup score (stage 2), kept for audit.
  gate jsonb,
  max_bleu real,
  provider text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (seed, seq)
);

CREATE TABLE batches (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]+$'),
  seed bigint NOT NULL,
  size int NOT NULL CHECK (size > 0),
  concurrency int NOT NULL CHECK (concurrency > 0),
  provider text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
  id text PRIMARY KEY,
  batch_id text NOT NULL REFERENCES batches (id),
  idx int NOT NULL,
  profile_id text NOT NULL UNIQUE REFERENCES profiles (id),
  seed bigint NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  opening text CHECK (opening IN ('text', 'image')),
  image_opening jsonb,
  outcome text CHECK (outcome IN ('retrieval', 'forced')),
  failure text,
  started_at timestamptz,
  finished_at timestamptz,
  UNIQUE (batch_id, idx)
);

CREATE TABLE utterances (
  conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  idx int NOT NULL CHECK (idx >= 0),
  speaker text NOT NULL CHECK (speaker IN ('User', 'Assistant')),
  text text NOT NULL,
  action text NOT NULL CHECK (action IN ('chit-chat', 'recommend', 'reject', 'accept')),
  mentioned_item_ids text[] NOT NULL DEFAULT '{}',
  images jsonb NOT NULL DEFAULT '[]',
  meta jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, idx)
);

-- Down Migration
DROP TABLE utterances;
DROP TABLE conversations;
DROP TABLE batches;
DROP TABLE profiles;
DROP TABLE categories;
DROP TABLE items;
DROP TABLE images;
DROP FUNCTION muse_join(text[]);
