-- Search and filters. Everything below is derived from the stored documents and written by the same
-- transaction as the document it comes from, so lists and searches never lag behind a write.
-- Rows written by an earlier release are filled at first start by `Store::migrate` (the search text is
-- folded in Rust, which SQL cannot do): a row whose `search_version` is behind is (re)derived there.

-- Single values of the dataset document that lists filter on or count (facets).
ALTER TABLE datasets ADD COLUMN access_type TEXT NOT NULL DEFAULT 'open';
ALTER TABLE datasets ADD COLUMN frequency TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE datasets ADD COLUMN granularity TEXT;
-- `YYYY-MM-DD`: dates sort as text.
ALTER TABLE datasets ADD COLUMN temporal_start TEXT;
ALTER TABLE datasets ADD COLUMN temporal_end TEXT;
ALTER TABLE datasets ADD COLUMN search_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN search_version INTEGER NOT NULL DEFAULT 0;

-- A resource's schema beside its format: a resource write reads its own row's old values to keep
-- `dataset_terms` counts right, without reading the dataset's other resources.
ALTER TABLE resources ADD COLUMN schema_name TEXT;
ALTER TABLE resources ADD COLUMN schema_version TEXT;

-- Values of a dataset that can be many (`format`, `format_family`, `schema`, `schema_version` from
-- its resources; `geozone`, `badge` from the document), one row each, with how many resources hold it
-- (`n`; 1 for document values). A filter finds datasets through the primary key, and a facet counts
-- one row per dataset and value whatever the number of resources.
CREATE TABLE dataset_terms (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    dataset_id  TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (kind, value, dataset_id)
);
CREATE INDEX dataset_terms_dataset ON dataset_terms(dataset_id, kind);

-- Full-text search (FTS5) over folded text, one column per field so that a match tells where it is
-- (ranking: title, acronym, tags, description, organization name). The FTS rowid is `seq` below, a
-- stable integer key: the implicit rowid of `datasets` may change on VACUUM. `detail=column`: matches
-- need the column, never the position (no phrase queries), and the index is much smaller.
CREATE TABLE dataset_search (
    seq         INTEGER PRIMARY KEY,
    dataset_id  TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE dataset_fts USING fts5(
    title, acronym, tags, description, organization,
    tokenize = 'ascii', detail = column
);
CREATE TABLE organization_search (
    seq              INTEGER PRIMARY KEY,
    organization_id  TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE organization_fts USING fts5(
    name, acronym, description,
    tokenize = 'ascii', detail = column
);

-- The public list (anonymous callers, v2 search) in each sort order, covering the page query: a deep
-- page skips index entries, never table rows. The WHERE is the one `store::datasets` writes for the
-- public visibility, word for word (SQLite uses a partial index only when the query implies it).
CREATE INDEX datasets_public_created ON datasets(created_at, id)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
CREATE INDEX datasets_public_last_update ON datasets(last_update, id)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
CREATE INDEX datasets_public_title ON datasets(title, id)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
-- Filters on single values.
CREATE INDEX datasets_license ON datasets(license);
CREATE INDEX datasets_last_update ON datasets(last_update);
CREATE INDEX datasets_access_type ON datasets(access_type);
CREATE INDEX datasets_granularity ON datasets(granularity);
CREATE INDEX datasets_temporal ON datasets(temporal_start);
CREATE INDEX datasets_featured ON datasets(featured);
-- Datasets still to be derived at start (see the top of this file).
CREATE INDEX datasets_search_version ON datasets(search_version);
CREATE INDEX organizations_search_version ON organizations(search_version);
