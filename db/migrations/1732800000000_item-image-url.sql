-- Up Migration

-- Where the item's main image lives on the web, when the source says (Amazon's MAIN hi_res/large URL).
-- An agent is sent this URL instead of the stored bytes when it is there.
ALTER TABLE items ADD COLUMN image_url text CHECK (image_url ~ '^https?://');

-- Down Migration
ALTER TABLE items DROP COLUMN image_url;
