-- The activity log (`GET /api/1/activity/`, `store::activities`): one row per write, inserted in the
-- write's own transaction. `related_*` is the object the entry is about (a dataset, its resources'
-- changes included; an organization; a user), `organization_id` its organization when recorded (udata's
-- `organization`), `actor_id`/`token_id` who wrote and through which API token (none: a job, or the CLI
-- without --actor). `related_title` keeps the object's name for when it is gone (purged).
-- `changes` is a JSON list of field names, `extras` a JSON object.
CREATE TABLE activities (
    id              TEXT PRIMARY KEY,
    created_at      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    actor_id        TEXT,
    token_id        TEXT,
    related_kind    TEXT NOT NULL,
    related_id      TEXT NOT NULL,
    related_title   TEXT NOT NULL,
    organization_id TEXT,
    changes         TEXT NOT NULL,
    extras          TEXT NOT NULL
);
-- Newest first, for the whole log and under each filter: a page is a walk down one of these.
CREATE INDEX activities_created ON activities(created_at, id);
CREATE INDEX activities_related ON activities(related_id, created_at, id);
CREATE INDEX activities_organization ON activities(organization_id, created_at, id);
CREATE INDEX activities_actor ON activities(actor_id, created_at, id);
CREATE INDEX activities_kind ON activities(kind, created_at, id);
