-- Parts of chunked uploads (udata's protocol). Their bytes live in the object store (key), so any node
-- can take any part; this table says which parts arrived, for which dataset and user, and when.
-- A re-sent part gets a new key; the row then points to it and the old object is deleted.
CREATE TABLE upload_parts (
    uuid        TEXT NOT NULL,
    idx         BIGINT NOT NULL,
    dataset_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    key         TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha1        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (uuid, idx)
);
CREATE INDEX upload_parts_updated ON upload_parts(updated_at);

-- Objects being written. The row is inserted before the first byte and removed in the transaction that
-- records the finished file, so after a crash the row names the object to clean up.
CREATE TABLE pending_files (
    key         TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL
);
