-- Up Migration

-- The batch a call was made for when it belongs to no conversation (stage 2's gate and backstory calls
-- made for a batch's profiles), so `muse cost` counts what a batch really spent.
ALTER TABLE llm_calls ADD COLUMN batch_id text;
CREATE INDEX llm_calls_batch_idx ON llm_calls (batch_id) WHERE batch_id IS NOT NULL;
-- Stage 2's calls are found by their key (profile:<seed>:<seq>...) when an export states who wrote a profile.
CREATE INDEX llm_calls_call_key_idx ON llm_calls (call_key) WHERE conversation_id IS NULL;

-- Down Migration
DROP INDEX llm_calls_call_key_idx;
DROP INDEX llm_calls_batch_idx;
ALTER TABLE llm_calls DROP COLUMN batch_id;
