-- Views and downloads of datasets and resources (their `metrics`), keyed by the object's id (a
-- dataset's 24 hex digits or a resource's UUID: they never clash). Each node counts in memory and
-- adds its counts here periodically, in one transaction written outside any catalog write: the
-- flush sends no notification, so it does not move the response cache's generation (see
-- `store::changes`). Increments add up, so the totals are exact across nodes.
CREATE TABLE object_counters (
    id         TEXT   PRIMARY KEY,
    views      BIGINT NOT NULL DEFAULT 0,
    downloads  BIGINT NOT NULL DEFAULT 0
);
