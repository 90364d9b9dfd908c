-- Views and downloads of datasets and resources (their `metrics`), keyed by the object's id (a
-- dataset's 24 hex digits or a resource's UUID: they never clash). Each node counts in memory and
-- adds its counts here periodically.
--
-- On SQLite the table lives in a database file of its own (`<database>-counters`), attached to every
-- connection as `counters` (see `store::dialect`): a commit in the main file moves the `PRAGMA
-- data_version` that the response cache watches (see `store::changes`), so a flush there would drop
-- every kept answer each time. Queries name the table unqualified (SQLite finds it in the attached
-- file), as on PostgreSQL. The table is also created when a connection attaches the file, so a
-- database copied without its counters file starts counting again from zero instead of failing.
CREATE TABLE IF NOT EXISTS counters.object_counters (
    id         TEXT    PRIMARY KEY,
    views      INTEGER NOT NULL DEFAULT 0,
    downloads  INTEGER NOT NULL DEFAULT 0
);
