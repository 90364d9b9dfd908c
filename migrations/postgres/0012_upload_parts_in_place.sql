-- A part written in place: its bytes are at `offset_bytes` of the upload's one file (`key`, shared by
-- the upload's parts), not in an object of their own (NULL). See `ops::uploads`.
ALTER TABLE upload_parts ADD COLUMN offset_bytes BIGINT;
