-- Up Migration

-- Stage 4, optimisation: one rewrite per utterance and optimisation pass. A pass is named by the prompt
-- versions that made it, so `muse optimize` with a new prompt version adds rows beside the old ones.
CREATE TABLE rewrites (
  conversation_id text NOT NULL,
  idx int NOT NULL,
  pass text NOT NULL,
  colloquial boolean NOT NULL,
  rewrite text NOT NULL,
  -- The rewrite checker's two tests; a rewrite failing either leaves the original in the dataset.
  content_kept boolean NOT NULL,
  no_preamble boolean NOT NULL,
  accepted boolean GENERATED ALWAYS AS (content_kept AND no_preamble) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, pass, idx),
  FOREIGN KEY (conversation_id, idx) REFERENCES utterances (conversation_id, idx) ON DELETE CASCADE
);

-- Stage 4, filtering: the reviewer's scores and the screener's verdict, stored and never applied here:
-- thresholds belong to the export, so changing one costs no LLM call.
CREATE TABLE reviews (
  conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  pass text NOT NULL,
  content_quality int NOT NULL CHECK (content_quality BETWEEN 0 AND 2),
  logical_fluency int NOT NULL CHECK (logical_fluency BETWEEN 0 AND 2),
  user_consistency int NOT NULL CHECK (user_consistency BETWEEN 0 AND 2),
  total int GENERATED ALWAYS AS (content_quality + logical_fluency + user_consistency) STORED,
  fits_context boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, pass)
);

-- The pass whose texts and verdicts the dataset uses: set when that pass's review is stored.
ALTER TABLE conversations ADD COLUMN review_pass text;

-- Utterances as the dataset has them: the accepted rewrite of the conversation's pass, else the original.
CREATE VIEW dataset_utterances AS
  SELECT u.*, coalesce(r.rewrite, u.text) AS final_text, r.rewrite IS NOT NULL AS rewritten
  FROM utterances u
  JOIN conversations c ON c.id = u.conversation_id
  LEFT JOIN rewrites r ON r.conversation_id = u.conversation_id AND r.idx = u.idx AND r.pass = c.review_pass AND r.accepted;

-- Down Migration
DROP VIEW dataset_utterances;
ALTER TABLE conversations DROP COLUMN review_pass;
DROP TABLE reviews;
DROP TABLE rewrites;
