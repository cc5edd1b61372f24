-- Up Migration

-- The text the retrieval index embeds, as the method lists it: title, the stage-1 description,
-- categories, features and the original description. Generated here so the planner can tell in SQL
-- which items are missing from the index or changed since (a new caption changes this text).
ALTER TABLE items ADD COLUMN index_text text GENERATED ALWAYS AS (
  title || E'\n' || coalesce(caption, '') || E'\n' || muse_join(categories) || E'\n' || muse_join(features) || E'\n' || description
) STORED;

-- Vectors are stored normalised (unit length), so a dot product is the cosine; dims guards a model
-- whose dimensions change under the same name.
ALTER TABLE item_embeddings ADD COLUMN dims int NOT NULL CHECK (dims > 0);
ALTER TABLE item_embeddings ADD CONSTRAINT item_embeddings_vector_length_check CHECK (cardinality(vector) = dims);

-- Down Migration
ALTER TABLE item_embeddings DROP CONSTRAINT item_embeddings_vector_length_check;
ALTER TABLE item_embeddings DROP COLUMN dims;
ALTER TABLE items DROP COLUMN index_text;
