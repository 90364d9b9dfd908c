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
ALTER TABLE datasets ADD COLUMN search_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN search_version BIGINT NOT NULL DEFAULT 0;

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
    n           BIGINT NOT NULL,
    PRIMARY KEY (kind, value, dataset_id)
);
CREATE INDEX dataset_terms_dataset ON dataset_terms(dataset_id, kind);

-- The tag index holds the dataset id too: a tag filter or the tag facet reads that index alone.
DROP INDEX dataset_tags_tag;
CREATE INDEX dataset_tags_tag ON dataset_tags(tag, dataset_id);

-- Full-text search over folded text (`to_tsvector('simple', ...)`: the text is already folded in
-- Rust, so no stemming, no stop words, no extension), one tsvector per field so that a match tells
-- where it is (ranking: title, acronym, tags, description, organization name), and `document`, their
-- concatenation, which the GIN index serves for "every word somewhere". (An index on the
-- concatenation as an expression would have every recheck and every sequential scan concatenate the
-- five vectors again: six times slower on a broad word.)
CREATE TABLE dataset_search (
    dataset_id    TEXT PRIMARY KEY,
    title         tsvector NOT NULL,
    acronym       tsvector NOT NULL,
    tags          tsvector NOT NULL,
    description   tsvector NOT NULL,
    organization  tsvector NOT NULL,
    document      tsvector NOT NULL
);
CREATE INDEX dataset_search_document ON dataset_search USING gin (document);
CREATE TABLE organization_search (
    organization_id  TEXT PRIMARY KEY,
    name             tsvector NOT NULL,
    acronym          tsvector NOT NULL,
    description      tsvector NOT NULL,
    document         tsvector NOT NULL
);
CREATE INDEX organization_search_document ON organization_search USING gin (document);

-- The public list (anonymous callers, v2 search) in each sort order, covering the page query: a deep
-- page skips index entries, never table rows. Titles sort bytewise (COLLATE "C"), as MongoDB and
-- SQLite do, whatever the database's locale.
CREATE INDEX datasets_public_created ON datasets(created_at, id)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
CREATE INDEX datasets_public_last_update ON datasets(last_update, id)
    WHERE private = 0 AND deleted IS NULL AND archived IS NULL;
CREATE INDEX datasets_public_title ON datasets((title COLLATE "C"), id)
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
