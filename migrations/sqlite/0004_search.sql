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
-- WITHOUT ROWID: the rows are the primary key's entries, so no second copy and no lookup from one
-- to the other.
CREATE TABLE dataset_terms (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    dataset_id  TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (kind, value, dataset_id)
) WITHOUT ROWID;
CREATE INDEX dataset_terms_dataset ON dataset_terms(dataset_id, kind);

-- Tags likewise: rebuilt WITHOUT ROWID, the index on `tag` then holds the dataset id (the primary
-- key's columns), so a tag filter or the tag facet reads that index alone.
CREATE TABLE dataset_tags_v4 (
    dataset_id  TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (dataset_id, tag)
) WITHOUT ROWID;
INSERT INTO dataset_tags_v4 (dataset_id, tag) SELECT dataset_id, tag FROM dataset_tags;
DROP TABLE dataset_tags;
ALTER TABLE dataset_tags_v4 RENAME TO dataset_tags;
CREATE INDEX dataset_tags_tag ON dataset_tags(tag);

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
-- Whether a dataset is public, answered from this index alone: a count, or a filter that starts from
-- another index (a tag, a search), checks visibility without reading the dataset's row. UNIQUE, so
-- that the planner prefers it to the primary key for lookups by id.
CREATE UNIQUE INDEX datasets_public_id ON datasets(id)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
-- The purge reads deleted datasets only: indexing the others (nearly all) made SQLite's planner take
-- this index for `deleted IS NULL`, reading every row, instead of the public indexes above.
DROP INDEX datasets_deleted;
CREATE INDEX datasets_deleted ON datasets(deleted) WHERE deleted IS NOT NULL;
-- Filters on single values, and facets: counting the public datasets by license, organization or
-- frequency reads these indexes, not the rows. (Low-cardinality columns such as `access_type` get
-- none: an index would select a third of the rows.)
CREATE INDEX datasets_public_license ON datasets(license)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
CREATE INDEX datasets_public_organization ON datasets(organization_id)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
CREATE INDEX datasets_public_frequency ON datasets(frequency)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
CREATE INDEX datasets_granularity ON datasets(granularity);
CREATE INDEX datasets_temporal ON datasets(temporal_start);
CREATE INDEX datasets_featured ON datasets(featured) WHERE featured = 1;
-- Datasets still to be derived at start (see the top of this file).
CREATE INDEX datasets_search_version ON datasets(search_version);
CREATE INDEX organizations_search_version ON organizations(search_version);
