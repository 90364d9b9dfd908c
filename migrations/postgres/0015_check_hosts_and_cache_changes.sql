-- Per-host politeness of the remote checks (`jobs::checks`), shared by every node of a portal: the
-- earliest time any node may send its next request to a host (its pace, `RUDATA_CHECK_HOST_DELAY`, or
-- the `Retry-After` of a 429/503). One row per host, taken by an upsert on its key (the row lock makes
-- two nodes' upserts wait for each other); rows long past are removed through `check_hosts_next_at`,
-- so no statement reads more than the rows it changes.
CREATE TABLE check_hosts (
    host     TEXT PRIMARY KEY,
    next_at  TEXT NOT NULL
);
CREATE INDEX check_hosts_next_at ON check_hosts(next_at);

-- (SQLite's `cache_changes` has no counterpart here: NOTIFY tells the other nodes what changed.)
