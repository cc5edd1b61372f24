-- Up Migration

-- A batch's budget cap (`--max-cost`) and what it has spent so far: kept on the batch row, so the check
-- before each paid call is one primary-key read however large the ledger grows.
ALTER TABLE batches ADD COLUMN max_cost_usd numeric(14, 6) CHECK (max_cost_usd >= 0);
ALTER TABLE batches ADD COLUMN spent_usd numeric(14, 8) NOT NULL DEFAULT 0;
-- The same for `muse eval`, whose judge calls are charged to the evaluation.
ALTER TABLE evals ADD COLUMN max_cost_usd numeric(14, 6) CHECK (max_cost_usd >= 0);
ALTER TABLE evals ADD COLUMN spent_usd numeric(14, 8) NOT NULL DEFAULT 0;
UPDATE batches b SET spent_usd = coalesce((SELECT sum(l.cost_usd) FROM llm_calls l
  WHERE l.batch_id = b.id OR l.conversation_id IN (SELECT c.id FROM conversations c WHERE c.batch_id = b.id)), 0);

-- Down Migration
ALTER TABLE evals DROP COLUMN spent_usd;
ALTER TABLE evals DROP COLUMN max_cost_usd;
ALTER TABLE batches DROP COLUMN spent_usd;
ALTER TABLE batches DROP COLUMN max_cost_usd;
