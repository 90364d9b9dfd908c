-- Writes whose cost does not grow with the catalog or the dataset.

-- The last suffix handed out for each slug base (`title`, `title-1`, `title-2`…), so that a new slug is
-- found through the unique index and this row, never by scanning the slugs that share a prefix.
CREATE TABLE slug_counters (
    kind  TEXT NOT NULL,
    base  TEXT NOT NULL,
    next  BIGINT NOT NULL,
    PRIMARY KEY (kind, base)
);

-- A dataset's `last_update` is its newest resource change: found through this index after a resource
-- is added, changed or removed, without reading the other resources.
CREATE INDEX resources_dataset_modified ON resources(dataset_id, last_modified);

-- Users are found by e-mail case-insensitively (`lower(email) = lower($1)`): through this index, not
-- by reading every user.
CREATE INDEX users_email_lower ON users(lower(email));

-- Stored documents (`doc`) carry the version of their shape. Rows written before this migration hold
-- version 0; `store::documents` reads every version.
ALTER TABLE datasets ADD COLUMN doc_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN doc_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN doc_version BIGINT NOT NULL DEFAULT 0;

-- `version` was written on every dataset change and never read: the write transaction locks the row
-- instead (see `store::dialect`).
ALTER TABLE datasets DROP COLUMN version;
