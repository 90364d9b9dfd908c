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
-- triggers exist in the SQLite dialect.
--
-- `term` is compared byte by byte (COLLATE "C"): a prefix is then one contiguous index range, whatever
-- the database's default collation (which may order `-` and letters in other ways).

-- 1..255: the positions a slug may have (slugs are at most 255 characters).
CREATE TABLE suggest_positions (
    i  BIGINT PRIMARY KEY
);
INSERT INTO suggest_positions (i) SELECT generate_series(1, 255);

CREATE TABLE suggest_datasets (
    head        BIGINT NOT NULL,
    term        TEXT COLLATE "C" NOT NULL,
    dataset_id  TEXT NOT NULL,
    PRIMARY KEY (head, term, dataset_id)
);
CREATE INDEX suggest_datasets_dataset ON suggest_datasets(dataset_id);

CREATE TABLE suggest_tags (
    head        BIGINT NOT NULL,
    term        TEXT COLLATE "C" NOT NULL,
    tag         TEXT COLLATE "C" NOT NULL,
    dataset_id  TEXT NOT NULL,
    PRIMARY KEY (head, term, tag, dataset_id)
);
CREATE INDEX suggest_tags_dataset ON suggest_tags(dataset_id, tag);

CREATE TABLE suggest_organizations (
    head    BIGINT NOT NULL,
    term    TEXT COLLATE "C" NOT NULL,
    org_id  TEXT NOT NULL,
    PRIMARY KEY (head, term, org_id)
);
CREATE INDEX suggest_organizations_org ON suggest_organizations(org_id);

CREATE TABLE suggest_users (
    head     BIGINT NOT NULL,
    term     TEXT COLLATE "C" NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (head, term, user_id)
);
CREATE INDEX suggest_users_user ON suggest_users(user_id);

-- The word-boundary suffixes of a slug (`head` = 1 for the whole slug).
CREATE FUNCTION suggest_terms(s TEXT) RETURNS TABLE (head BIGINT, term TEXT)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p.i = 1 THEN 1 ELSE 0 END::BIGINT, substr(s, p.i::INT, 32)
    FROM suggest_positions p
    WHERE p.i <= length(s) AND (p.i = 1 OR substr(s, p.i::INT - 1, 1) = '-')
$$;

-- An acronym as a term: lowercased, spaces as `-` (the same expression as in the SQLite dialect).
CREATE FUNCTION suggest_acronym(doc TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT NULLIF(substr(replace(lower(trim(doc::json ->> 'acronym')), ' ', '-'), 1, 32), '')
$$;

CREATE FUNCTION suggest_datasets_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM suggest_datasets WHERE dataset_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL THEN
        INSERT INTO suggest_datasets (head, term, dataset_id)
            SELECT t.head, t.term, NEW.id FROM suggest_terms(NEW.slug) t
            UNION SELECT 1, a, NEW.id FROM suggest_acronym(NEW.doc) a WHERE a IS NOT NULL
        ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM suggest_tags WHERE dataset_id = OLD.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER suggest_datasets_insert AFTER INSERT OR DELETE ON datasets
FOR EACH ROW EXECUTE FUNCTION suggest_datasets_sync();

-- Every dataset write rewrites its row; only a change of slug, visibility or acronym touches the terms.
CREATE TRIGGER suggest_datasets_update AFTER UPDATE OF slug, private, deleted, archived, doc ON datasets
FOR EACH ROW WHEN (
    OLD.slug IS DISTINCT FROM NEW.slug
    OR (OLD.private = 0 AND OLD.deleted IS NULL AND OLD.archived IS NULL)
        <> (NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL)
    OR (OLD.doc::json ->> 'acronym') IS DISTINCT FROM (NEW.doc::json ->> 'acronym')
) EXECUTE FUNCTION suggest_datasets_sync();

-- Tags (already slugs): the suffixes of each tag of a public dataset, one row per dataset carrying it.
CREATE FUNCTION suggest_tags_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM suggest_tags WHERE dataset_id = OLD.dataset_id AND tag = OLD.tag;
    ELSIF EXISTS (SELECT 1 FROM datasets d WHERE d.id = NEW.dataset_id
                  AND d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL) THEN
        INSERT INTO suggest_tags (head, term, tag, dataset_id)
            SELECT t.head, t.term, NEW.tag, NEW.dataset_id FROM suggest_terms(NEW.tag) t
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER suggest_tags_change AFTER INSERT OR DELETE ON dataset_tags
FOR EACH ROW EXECUTE FUNCTION suggest_tags_sync();

CREATE FUNCTION suggest_tags_visibility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM suggest_tags WHERE dataset_id = OLD.id;
    IF NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL THEN
        INSERT INTO suggest_tags (head, term, tag, dataset_id)
            SELECT t.head, t.term, g.tag, g.dataset_id
            FROM dataset_tags g CROSS JOIN LATERAL suggest_terms(g.tag) t
            WHERE g.dataset_id = NEW.id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER suggest_tags_visibility AFTER UPDATE OF private, deleted, archived ON datasets
FOR EACH ROW WHEN (
    (OLD.private = 0 AND OLD.deleted IS NULL AND OLD.archived IS NULL)
        <> (NEW.private = 0 AND NEW.deleted IS NULL AND NEW.archived IS NULL)
) EXECUTE FUNCTION suggest_tags_visibility();

-- Organizations: the slug's suffixes and the acronym, while not deleted.
CREATE FUNCTION suggest_organizations_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM suggest_organizations WHERE org_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted IS NULL THEN
        INSERT INTO suggest_organizations (head, term, org_id)
            SELECT t.head, t.term, NEW.id FROM suggest_terms(NEW.slug) t
            UNION SELECT 1, a, NEW.id FROM suggest_acronym(NEW.doc) a WHERE a IS NOT NULL
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER suggest_organizations_insert AFTER INSERT OR DELETE ON organizations
FOR EACH ROW EXECUTE FUNCTION suggest_organizations_sync();

CREATE TRIGGER suggest_organizations_update AFTER UPDATE OF slug, deleted, doc ON organizations
FOR EACH ROW WHEN (
    OLD.slug IS DISTINCT FROM NEW.slug OR (OLD.deleted IS NULL) <> (NEW.deleted IS NULL)
    OR (OLD.doc::json ->> 'acronym') IS DISTINCT FROM (NEW.doc::json ->> 'acronym')
) EXECUTE FUNCTION suggest_organizations_sync();

-- Users: the slug's suffixes (udata matches users on their slug), while not deleted.
CREATE FUNCTION suggest_users_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM suggest_users WHERE user_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted IS NULL THEN
        INSERT INTO suggest_users (head, term, user_id)
            SELECT t.head, t.term, NEW.id FROM suggest_terms(NEW.slug) t
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER suggest_users_insert AFTER INSERT OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION suggest_users_sync();

CREATE TRIGGER suggest_users_update AFTER UPDATE OF slug, deleted ON users
FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug OR (OLD.deleted IS NULL) <> (NEW.deleted IS NULL))
EXECUTE FUNCTION suggest_users_sync();

-- What exists already.
INSERT INTO suggest_datasets (head, term, dataset_id)
    SELECT t.head, t.term, d.id FROM datasets d CROSS JOIN LATERAL suggest_terms(d.slug) t
    WHERE d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL
    UNION SELECT 1, suggest_acronym(d.doc), d.id FROM datasets d
    WHERE d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL AND suggest_acronym(d.doc) IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO suggest_tags (head, term, tag, dataset_id)
    SELECT t.head, t.term, g.tag, g.dataset_id
    FROM dataset_tags g JOIN datasets d ON d.id = g.dataset_id CROSS JOIN LATERAL suggest_terms(g.tag) t
    WHERE d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL
ON CONFLICT DO NOTHING;
INSERT INTO suggest_organizations (head, term, org_id)
    SELECT t.head, t.term, o.id FROM organizations o CROSS JOIN LATERAL suggest_terms(o.slug) t
    WHERE o.deleted IS NULL
    UNION SELECT 1, suggest_acronym(o.doc), o.id FROM organizations o
    WHERE o.deleted IS NULL AND suggest_acronym(o.doc) IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO suggest_users (head, term, user_id)
    SELECT t.head, t.term, u.id FROM users u CROSS JOIN LATERAL suggest_terms(u.slug) t
    WHERE u.deleted IS NULL
ON CONFLICT DO NOTHING;

-- The catalog exports read resources in (dataset, position, id) order, a batch at a time, through
-- this index: each batch starts where the last one ended, never from the beginning.
CREATE INDEX resources_export ON resources(dataset_id, position, id);
