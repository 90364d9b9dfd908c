-- Remote resource checks (DESIGN §3.5, `ops::checks`). One row per remote resource: when it is due,
-- who holds it (a lease, so that the nodes of a portal share the queue and a crashed node's checks
-- are taken again once `lease_until` has passed), and what the previous check saw (the validators
-- sent as `If-None-Match` / `If-Modified-Since`, the size and checksum a change is told by). The row
-- goes with its resource. A new resource or a new URL makes the row due at once (`WriteTx`).
CREATE TABLE resource_checks (
    resource_id    TEXT PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE,
    dataset_id     TEXT NOT NULL,
    url            TEXT NOT NULL,
    host           TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    interval_secs  BIGINT NOT NULL DEFAULT 0,
    lease_holder   TEXT,
    lease_until    TEXT,
    checked_at     TEXT,
    available      INTEGER,
    status         INTEGER,
    failures       INTEGER NOT NULL DEFAULT 0,
    etag           TEXT,
    last_modified  TEXT,
    content_length BIGINT,
    checksum       TEXT
);
-- The queue: the due rows, oldest first.
CREATE INDEX resource_checks_due ON resource_checks(due_at);
-- `checks status`: recent failures by host.
CREATE INDEX resource_checks_host ON resource_checks(available, host);

-- What each check saw, newest first per resource (`GET .../checks/`).
CREATE TABLE resource_check_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id  TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    checked_at   TEXT NOT NULL,
    status       INTEGER,
    available    INTEGER NOT NULL,
    changed      TEXT,
    error        TEXT
);
CREATE INDEX resource_check_history_resource ON resource_check_history(resource_id, checked_at);

-- The datasets with an unavailable resource, for `?available=false|true`: a short index of the
-- resources found unavailable, never a scan of all resources (`unavailable` leads, so that SQLite
-- sees the index as covering the subquery and prefers it to reading `resources_dataset_quality` whole).
CREATE INDEX resources_unavailable ON resources(unavailable, dataset_id) WHERE unavailable = 1;

-- Remote resources written before this migration are due now.
INSERT INTO resource_checks (resource_id, dataset_id, url, host, due_at)
SELECT id, dataset_id, json_extract(doc, '$.url'), '', strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', 'now')
FROM resources WHERE json_extract(doc, '$.filetype') = 'remote' AND COALESCE(json_extract(doc, '$.url'), '') <> '';
