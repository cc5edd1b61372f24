-- Up Migration

-- `muse eval`: one row per evaluation (a source, a sample, a judge), named by all of them, so running
-- the same evaluation again finds its stored judgements and calls no model.
CREATE TABLE evals (
  id text PRIMARY KEY,
  source text NOT NULL,
  sample int NOT NULL CHECK (sample > 0),
  seed bigint NOT NULL,
  judge_version text NOT NULL,
  provider text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The sampled conversations, copied in so each judge activity loads one by reference; images are in
-- the content-addressed image store. scores is null until the judge has answered.
CREATE TABLE eval_items (
  eval_id text NOT NULL REFERENCES evals (id) ON DELETE CASCADE,
  k int NOT NULL CHECK (k >= 0),
  record_id text NOT NULL,
  persona text NOT NULL,
  scenario text NOT NULL,
  dialogue jsonb NOT NULL,
  images jsonb NOT NULL,
  scores jsonb,
  judged_at timestamptz,
  PRIMARY KEY (eval_id, k)
);

-- Down Migration
DROP TABLE eval_items;
DROP TABLE evals;
