-- Chunked uploads on S3 (see `ops::uploads::multipart`): one row per upload, inserted by whichever
-- node takes its first part (the primary key makes simultaneous first parts agree on one row, so on
-- one S3 multipart upload). `multipart_id` NULL: the upload's parts are stored as objects of their
-- own and concatenated at the end (chunks under S3's 5 MiB minimum part size). Otherwise each part
-- is `pieces` S3 parts (numbers idx * pieces + 1 ...) of the multipart upload `multipart_id` at
-- `key`, every part but the last `part_size` bytes. `completed`: the multipart upload was completed
-- into the object at `key` (not yet recorded as a resource's file). `claimed_at`: a final request
-- is assembling the upload (the claim that makes simultaneous final requests create one resource).
CREATE TABLE chunked_uploads (
    uuid          TEXT PRIMARY KEY,
    dataset_id    TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    key           TEXT,
    multipart_id  TEXT,
    part_size     INTEGER NOT NULL,
    pieces        INTEGER NOT NULL,
    total         INTEGER NOT NULL,
    completed     INTEGER NOT NULL DEFAULT 0,
    claimed_at    TEXT,
    updated_at    TEXT NOT NULL
);
CREATE INDEX chunked_uploads_updated ON chunked_uploads(updated_at);

-- A part sent as S3 multipart-upload parts: their ETags (a JSON array, in part-number order).
ALTER TABLE upload_parts ADD COLUMN etags TEXT;

-- The size of an upload's full parts, from its first part written in place: one index lookup per
-- part received (it was a read of every part of the upload).
CREATE INDEX upload_parts_in_place ON upload_parts(uuid, idx) WHERE offset_bytes IS NOT NULL;
