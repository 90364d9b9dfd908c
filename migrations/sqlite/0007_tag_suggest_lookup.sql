-- The tag trigger of 0005 finds its dataset by its id alone, then tests its visibility: the same
-- change as in the PostgreSQL dialect, whose planner could otherwise read the whole public index
-- for each tag written. (SQLite already went through the primary key; the two dialects stay alike.)
DROP TRIGGER suggest_tags_insert;
CREATE TRIGGER suggest_tags_insert AFTER INSERT ON dataset_tags
WHEN (SELECT d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL
      FROM datasets d WHERE d.id = NEW.dataset_id)
BEGIN
    INSERT OR IGNORE INTO suggest_tags (head, term, tag, dataset_id)
        SELECT p.i = 1, substr(NEW.tag, p.i, 32), NEW.tag, NEW.dataset_id FROM suggest_positions p
        WHERE p.i <= length(NEW.tag) AND (p.i = 1 OR substr(NEW.tag, p.i - 1, 1) = '-');
END;
