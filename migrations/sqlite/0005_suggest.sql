-- Suggestions (autocomplete) at a cost that does not grow with the catalog.
--
-- A suggestion is a prefix match on folded text. The folded text is the slug, which rudata folds in
-- Rust (deunicode, lowercase, `-` between words) and keeps in step with the title or name. Each
-- `suggest_*` table holds, for every object that may be suggested, the word-boundary suffixes of its
-- slug cut to 32 characters ("budget-primitif-2024" gives "budget-primitif-2024", "primitif-2024" and
-- "2024"), so "prim" and "budget prim" both find it through one index range. `head` is 1 for the
-- suffix that starts the slug (and for the acronym): those rank first.
--
-- Only what may be shown to anyone is there: public datasets (not private, deleted or archived), the
-- tags of those datasets, organizations and users that are not deleted. The triggers below keep the
-- tables in step inside the writing transaction, whatever writes (API, CLI, jobs): no write path has to
-- remember them, and a dataset made private disappears from every suggestion as it commits. The same
-- triggers exist in the PostgreSQL dialect.

-- 1..255: the positions a slug may have (slugs are at most 255 characters).
CREATE TABLE suggest_positions (
    i  INTEGER PRIMARY KEY
);
INSERT INTO suggest_positions (i)
    WITH RECURSIVE p(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM p WHERE i < 255) SELECT i FROM p;

CREATE TABLE suggest_datasets (
    head        INTEGER NOT NULL,
    term        TEXT NOT NULL,
    dataset_id  TEXT NOT NULL,
    PRIMARY KEY (head, term, dataset_id)
);
CREATE INDEX suggest_datasets_dataset ON suggest_datasets(dataset_id);

CREATE TABLE suggest_tags (
    head        INTEGER NOT NULL,
    term        TEXT NOT NULL,
    tag         TEXT NOT NULL,
    dataset_id  TEXT NOT NULL,
    PRIMARY KEY (head, term, tag, dataset_id)
);
CREATE INDEX suggest_tags_dataset ON suggest_tags(dataset_id, tag);

CREATE TABLE suggest_organizations (
    head    INTEGER NOT NULL,
    term    TEXT NOT NULL,
    org_id  TEXT NOT NULL,
    PRIMARY KEY (head, term, org_id)
);
CREATE INDEX suggest_organizations_org ON suggest_organizations(org_id);

CREATE TABLE suggest_users (
    head     INTEGER NOT NULL,
    term     TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (head, term, user_id)
);
CREATE INDEX suggest_users_user ON suggest_users(user_id);

-- Datasets: the slug's suffixes and the acronym (lowercased, spaces as `-`), while public.
CREATE TRIGGER suggest_datasets_insert AFTER INSERT ON datasets
WHEN NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL
BEGIN
    INSERT OR IGNORE INTO suggest_datasets (head, term, dataset_id)
        SELECT p.i = 1, substr(NEW.slug, p.i, 32), NEW.id FROM suggest_positions p
        WHERE p.i <= length(NEW.slug) AND (p.i = 1 OR substr(NEW.slug, p.i - 1, 1) = '-');
    INSERT OR IGNORE INTO suggest_datasets (head, term, dataset_id)
        SELECT 1, substr(a, 1, 32), NEW.id
        FROM (SELECT replace(lower(trim(json_extract(NEW.doc, '$.acronym'))), ' ', '-') AS a)
        WHERE a <> '';
END;

-- Every dataset write rewrites its row; only a change of slug, visibility or acronym touches the terms.
CREATE TRIGGER suggest_datasets_update AFTER UPDATE OF slug, private, deleted, archived, doc ON datasets
WHEN OLD.slug IS NOT NEW.slug
    OR (OLD.private = 0 AND OLD.deleted IS NULL AND OLD.archived IS NULL)
        <> (NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL)
    OR json_extract(OLD.doc, '$.acronym') IS NOT json_extract(NEW.doc, '$.acronym')
BEGIN
    DELETE FROM suggest_datasets WHERE dataset_id = OLD.id;
    INSERT OR IGNORE INTO suggest_datasets (head, term, dataset_id)
        SELECT p.i = 1, substr(NEW.slug, p.i, 32), NEW.id FROM suggest_positions p
        WHERE p.i <= length(NEW.slug) AND (p.i = 1 OR substr(NEW.slug, p.i - 1, 1) = '-')
          AND NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL;
    INSERT OR IGNORE INTO suggest_datasets (head, term, dataset_id)
        SELECT 1, substr(a, 1, 32), NEW.id
        FROM (SELECT replace(lower(trim(json_extract(NEW.doc, '$.acronym'))), ' ', '-') AS a)
        WHERE a <> '' AND NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL;
END;

CREATE TRIGGER suggest_datasets_delete AFTER DELETE ON datasets
BEGIN
    DELETE FROM suggest_datasets WHERE dataset_id = OLD.id;
    DELETE FROM suggest_tags WHERE dataset_id = OLD.id;
END;

-- Tags (already slugs): the suffixes of each tag of a public dataset, one row per dataset carrying it.
CREATE TRIGGER suggest_tags_insert AFTER INSERT ON dataset_tags
WHEN EXISTS (SELECT 1 FROM datasets d WHERE d.id = NEW.dataset_id
             AND d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL)
BEGIN
    INSERT OR IGNORE INTO suggest_tags (head, term, tag, dataset_id)
        SELECT p.i = 1, substr(NEW.tag, p.i, 32), NEW.tag, NEW.dataset_id FROM suggest_positions p
        WHERE p.i <= length(NEW.tag) AND (p.i = 1 OR substr(NEW.tag, p.i - 1, 1) = '-');
END;

CREATE TRIGGER suggest_tags_delete AFTER DELETE ON dataset_tags
BEGIN
    DELETE FROM suggest_tags WHERE dataset_id = OLD.dataset_id AND tag = OLD.tag;
END;

CREATE TRIGGER suggest_tags_visibility AFTER UPDATE OF private, deleted, archived ON datasets
WHEN (OLD.private = 0 AND OLD.deleted IS NULL AND OLD.archived IS NULL)
    <> (NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL)
BEGIN
    DELETE FROM suggest_tags WHERE dataset_id = OLD.id;
    INSERT OR IGNORE INTO suggest_tags (head, term, tag, dataset_id)
        SELECT p.i = 1, substr(t.tag, p.i, 32), t.tag, t.dataset_id
        FROM dataset_tags t JOIN suggest_positions p ON p.i <= length(t.tag)
        WHERE t.dataset_id = NEW.id AND (p.i = 1 OR substr(t.tag, p.i - 1, 1) = '-')
          AND NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL;
END;

-- Organizations: the slug's suffixes and the acronym, while not deleted.
CREATE TRIGGER suggest_organizations_insert AFTER INSERT ON organizations
WHEN NEW.deleted IS NULL
BEGIN
    INSERT OR IGNORE INTO suggest_organizations (head, term, org_id)
        SELECT p.i = 1, substr(NEW.slug, p.i, 32), NEW.id FROM suggest_positions p
        WHERE p.i <= length(NEW.slug) AND (p.i = 1 OR substr(NEW.slug, p.i - 1, 1) = '-');
    INSERT OR IGNORE INTO suggest_organizations (head, term, org_id)
        SELECT 1, substr(a, 1, 32), NEW.id
        FROM (SELECT replace(lower(trim(json_extract(NEW.doc, '$.acronym'))), ' ', '-') AS a)
        WHERE a <> '';
END;

CREATE TRIGGER suggest_organizations_update AFTER UPDATE OF slug, deleted, doc ON organizations
WHEN OLD.slug IS NOT NEW.slug OR (OLD.deleted IS NULL) <> (NEW.deleted IS NULL)
    OR json_extract(OLD.doc, '$.acronym') IS NOT json_extract(NEW.doc, '$.acronym')
BEGIN
    DELETE FROM suggest_organizations WHERE org_id = OLD.id;
    INSERT OR IGNORE INTO suggest_organizations (head, term, org_id)
        SELECT p.i = 1, substr(NEW.slug, p.i, 32), NEW.id FROM suggest_positions p
        WHERE p.i <= length(NEW.slug) AND (p.i = 1 OR substr(NEW.slug, p.i - 1, 1) = '-')
          AND NEW.deleted IS NULL;
    INSERT OR IGNORE INTO suggest_organizations (head, term, org_id)
        SELECT 1, substr(a, 1, 32), NEW.id
        FROM (SELECT replace(lower(trim(json_extract(NEW.doc, '$.acronym'))), ' ', '-') AS a)
        WHERE a <> '' AND NEW.deleted IS NULL;
END;

CREATE TRIGGER suggest_organizations_delete AFTER DELETE ON organizations
BEGIN
    DELETE FROM suggest_organizations WHERE org_id = OLD.id;
END;

-- Users: the slug's suffixes (udata matches users on their slug), while not deleted.
CREATE TRIGGER suggest_users_insert AFTER INSERT ON users
WHEN NEW.deleted IS NULL
BEGIN
    INSERT OR IGNORE INTO suggest_users (head, term, user_id)
        SELECT p.i = 1, substr(NEW.slug, p.i, 32), NEW.id FROM suggest_positions p
        WHERE p.i <= length(NEW.slug) AND (p.i = 1 OR substr(NEW.slug, p.i - 1, 1) = '-');
END;

CREATE TRIGGER suggest_users_update AFTER UPDATE OF slug, deleted ON users
WHEN OLD.slug IS NOT NEW.slug OR (OLD.deleted IS NULL) <> (NEW.deleted IS NULL)
BEGIN
    DELETE FROM suggest_users WHERE user_id = OLD.id;
    INSERT OR IGNORE INTO suggest_users (head, term, user_id)
        SELECT p.i = 1, substr(NEW.slug, p.i, 32), NEW.id FROM suggest_positions p
        WHERE p.i <= length(NEW.slug) AND (p.i = 1 OR substr(NEW.slug, p.i - 1, 1) = '-')
          AND NEW.deleted IS NULL;
END;

CREATE TRIGGER suggest_users_delete AFTER DELETE ON users
BEGIN
    DELETE FROM suggest_users WHERE user_id = OLD.id;
END;

-- What exists already.
INSERT OR IGNORE INTO suggest_datasets (head, term, dataset_id)
    SELECT p.i = 1, substr(d.slug, p.i, 32), d.id
    FROM datasets d JOIN suggest_positions p ON p.i <= length(d.slug)
    WHERE (p.i = 1 OR substr(d.slug, p.i - 1, 1) = '-')
      AND d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL;
INSERT OR IGNORE INTO suggest_datasets (head, term, dataset_id)
    SELECT 1, substr(a, 1, 32), id
    FROM (SELECT id, replace(lower(trim(json_extract(doc, '$.acronym'))), ' ', '-') AS a FROM datasets
          WHERE private = 0 AND deleted IS NULL AND archived IS NULL)
    WHERE a <> '';
INSERT OR IGNORE INTO suggest_tags (head, term, tag, dataset_id)
    SELECT p.i = 1, substr(t.tag, p.i, 32), t.tag, t.dataset_id
    FROM dataset_tags t JOIN datasets d ON d.id = t.dataset_id JOIN suggest_positions p ON p.i <= length(t.tag)
    WHERE (p.i = 1 OR substr(t.tag, p.i - 1, 1) = '-')
      AND d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL;
INSERT OR IGNORE INTO suggest_organizations (head, term, org_id)
    SELECT p.i = 1, substr(o.slug, p.i, 32), o.id
    FROM organizations o JOIN suggest_positions p ON p.i <= length(o.slug)
    WHERE (p.i = 1 OR substr(o.slug, p.i - 1, 1) = '-') AND o.deleted IS NULL;
INSERT OR IGNORE INTO suggest_organizations (head, term, org_id)
    SELECT 1, substr(a, 1, 32), id
    FROM (SELECT id, replace(lower(trim(json_extract(doc, '$.acronym'))), ' ', '-') AS a FROM organizations
          WHERE deleted IS NULL)
    WHERE a <> '';
INSERT OR IGNORE INTO suggest_users (head, term, user_id)
    SELECT p.i = 1, substr(u.slug, p.i, 32), u.id
    FROM users u JOIN suggest_positions p ON p.i <= length(u.slug)
    WHERE (p.i = 1 OR substr(u.slug, p.i - 1, 1) = '-') AND u.deleted IS NULL;

-- The catalog exports read resources in (dataset, position, id) order, a batch at a time, through
-- this index: each batch starts where the last one ended, never from the beginning.
CREATE INDEX resources_export ON resources(dataset_id, position, id);
