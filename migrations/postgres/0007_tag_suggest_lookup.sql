-- The tag trigger of 0005 asked for its dataset as `id = … AND <public predicate>`. With statistics
-- of a table that grew since its last ANALYZE, PostgreSQL may read that through a partial index of the
-- public datasets (`datasets_public_*`, whose predicate is the same) and filter on the id: every
-- public dataset is then read for each tag written (28 ms per tag at 10,000 datasets, growing with
-- the catalog). The row is now found by its id alone (only the primary key can serve that), and its
-- visibility tested afterwards.
CREATE OR REPLACE FUNCTION suggest_tags_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    visible BOOLEAN;
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM suggest_tags WHERE dataset_id = OLD.dataset_id AND tag = OLD.tag;
        RETURN NULL;
    END IF;
    SELECT d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL INTO visible
        FROM datasets d WHERE d.id = NEW.dataset_id;
    IF visible THEN
        INSERT INTO suggest_tags (head, term, tag, dataset_id)
            SELECT t.head, t.term, NEW.tag, NEW.dataset_id FROM suggest_terms(NEW.tag) t
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
