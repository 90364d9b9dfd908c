-- Per-host politeness of the remote checks (`jobs::checks`), shared by every node of a portal: the
-- earliest time any node may send its next request to a host (its pace, `RUDATA_CHECK_HOST_DELAY`, or
-- the `Retry-After` of a 429/503). One row per host, taken by an upsert on its key; rows long past are
-- removed through `check_hosts_next_at`, so no statement reads more than the rows it changes.
CREATE TABLE check_hosts (
    host     TEXT PRIMARY KEY,
    next_at  TEXT NOT NULL
);
CREATE INDEX check_hosts_next_at ON check_hosts(next_at);

-- What each write transaction changed, for the response caches of the other processes (SQLite
-- only: PostgreSQL's NOTIFY carries the same). `PRAGMA data_version` tells a process that another
-- committed something; these rows tell it what: everything (`dataset_id` NULL: a publisher's write)
-- or one dataset's check results, which leave the other datasets' kept answers alone. Writes that
-- change no answer (the check queue's leases, the hosts above) add no row. AUTOINCREMENT: a number is
-- never handed out twice, so a reader that finds one missing knows it lagged (`store::changes`).
-- Only the last rows are kept.
CREATE TABLE cache_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    node        TEXT NOT NULL,
    dataset_id  TEXT
);
