-- rudata schema, PostgreSQL dialect. Timestamps are fixed-width UTC text ("2026-01-02T03:04:05.000000+00:00")
-- so that they sort as text; booleans are 0/1 integers so one query text serves both dialects.

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL UNIQUE,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    website     TEXT,
    about       TEXT,
    active      BIGINT NOT NULL DEFAULT 1,
    sysadmin    BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    deleted     TEXT
);

-- Only a keyed hash of each token is kept; the plaintext is shown once at creation.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT,
    token_hash    TEXT NOT NULL UNIQUE,
    token_prefix  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    user_agents   TEXT NOT NULL DEFAULT '[]',
    revoked_at    TEXT,
    expires_at    TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Organizations keep their descriptive fields in `doc` (JSON); what is looked up or filtered is a column.
CREATE TABLE organizations (
    id             TEXT PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    doc            TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    deleted        TEXT
);

CREATE TABLE members (
    org_id   TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    since    TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    comment     TEXT,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Datasets a partial editor may edit.
CREATE TABLE assignments (
    org_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    dataset_id  TEXT NOT NULL,
    PRIMARY KEY (user_id, dataset_id)
);

-- A renamed slug keeps answering (308) to the new one.
CREATE TABLE slug_redirects (
    kind       TEXT NOT NULL,
    old_slug   TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    PRIMARY KEY (kind, old_slug)
);

-- `doc` holds the whole dataset (JSON, without resources); the columns duplicate what lists filter and sort on.
-- `version` increases on every write so concurrent editors never overwrite each other's changes.
CREATE TABLE datasets (
    id               TEXT PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL,
    search_text      TEXT NOT NULL,
    owner_id         TEXT,
    organization_id  TEXT,
    private          BIGINT NOT NULL,
    featured         BIGINT NOT NULL,
    license          TEXT,
    created_at       TEXT NOT NULL,
    last_modified    TEXT NOT NULL,
    last_update      TEXT NOT NULL,
    deleted          TEXT,
    archived         TEXT,
    version          BIGINT NOT NULL,
    doc              TEXT NOT NULL
);
CREATE INDEX datasets_created ON datasets(created_at);
CREATE INDEX datasets_owner ON datasets(owner_id);
CREATE INDEX datasets_org ON datasets(organization_id);
CREATE INDEX datasets_deleted ON datasets(deleted);

CREATE TABLE dataset_tags (
    dataset_id  TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (dataset_id, tag)
);
CREATE INDEX dataset_tags_tag ON dataset_tags(tag);

-- Resources in dataset order (`position` ascending; a new resource takes MIN(position) - 1 to come first).
CREATE TABLE resources (
    id             TEXT PRIMARY KEY,
    dataset_id     TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    position       BIGINT NOT NULL,
    format         TEXT,
    last_modified  TEXT NOT NULL,
    doc            TEXT NOT NULL
);
CREATE INDEX resources_dataset ON resources(dataset_id, position);

-- Every file a resource ever had. No foreign key to resources: files outlive a deleted resource
-- and are removed only when their dataset is purged.
CREATE TABLE resource_files (
    key          TEXT PRIMARY KEY,
    resource_id  TEXT NOT NULL,
    dataset_id   TEXT NOT NULL,
    filename     TEXT NOT NULL,
    sha1         TEXT NOT NULL,
    filesize     BIGINT NOT NULL,
    mime         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX resource_files_resource ON resource_files(resource_id, created_at);
CREATE INDEX resource_files_dataset ON resource_files(dataset_id);

-- Object keys whose deletion was decided (a purge) but not yet done: a crash resumes it.
CREATE TABLE file_tombstones (
    key  TEXT PRIMARY KEY
);

-- One runner at a time for each scheduled job, across processes and nodes.
CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
