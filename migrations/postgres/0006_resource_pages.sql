-- API v2 resource pages, the `type` filter and dataset quality without reading resource documents.
-- `kind` (udata's `type`) and `title` copy the document's fields, `title_folded` is the title in
-- lowercase (what `?q=` searches); `open_format`, `documented` and `unavailable` are the per-resource
-- facts a dataset's quality is made of (`domain::resource`). Every resource write keeps them in step
-- with the document; this backfill fills the rows written before them. SQL's lower() folds ASCII
-- letters only: the migration step that follows in `Store::migrate` refolds the other titles in Rust.
ALTER TABLE resources ADD COLUMN kind TEXT NOT NULL DEFAULT 'main';
ALTER TABLE resources ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE resources ADD COLUMN title_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE resources ADD COLUMN open_format BIGINT NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN documented BIGINT NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN unavailable BIGINT NOT NULL DEFAULT 0;
UPDATE resources SET
    kind = COALESCE(doc::jsonb ->> 'type', 'main'),
    title = COALESCE(doc::jsonb ->> 'title', ''),
    -- translate(), not lower(): ASCII only whatever the database's locale, as in SQLite.
    title_folded = translate(COALESCE(doc::jsonb ->> 'title', ''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
    open_format = CASE WHEN COALESCE(format, '') <> ''
        AND lower(format) NOT IN ('pdf', 'doc', 'docx', 'word', 'xls', 'excel', 'xlsx') THEN 1 ELSE 0 END,
    documented = CASE WHEN doc::jsonb ->> 'type' = 'documentation'
        OR COALESCE(doc::jsonb ->> 'description', '') <> '' THEN 1 ELSE 0 END,
    unavailable = CASE WHEN doc::jsonb ->> 'filetype' = 'remote'
        AND doc::jsonb -> 'extras' -> 'check:available' = 'false'::jsonb THEN 1 ELSE 0 END;
-- A page of a dataset's resources (all, or of one type, or with words in its title) in dataset
-- order, and the batches the v1 document streams, are read through these indexes: skipping to page n,
-- counting and matching titles walk index entries only, and `id` breaks ties of `position` without a
-- sort. The first one replaces `resources_dataset`. The last one sums up a dataset's quality facts.
CREATE INDEX resources_dataset_order ON resources(dataset_id, position, id, title_folded);
CREATE INDEX resources_dataset_kind ON resources(dataset_id, kind, position, id, title_folded);
CREATE INDEX resources_dataset_quality ON resources(dataset_id, open_format, documented, unavailable);
DROP INDEX resources_dataset;
