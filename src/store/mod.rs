//! The metadata store: every SQL statement lives under this module.
//!
//! One concrete `Store` over sqlx's `Any` driver serves both dialects (SQLite, the embedded default,
//! and PostgreSQL), because the queries are written in the SQL both accept (`$n` placeholders,
//! `ON CONFLICT`, text timestamps, integer booleans). Where the dialects differ, `Dialect` says so.
//! On SQLite, writes go through a single-connection pool so that read-modify-write transactions
//! never race; reads use a separate pool (WAL lets them run beside the writer).

mod activities;
mod changes;
mod checks;
mod counters;
mod datasets;
mod dialect;
mod documents;
mod exports;
mod facets;
mod filters;
mod jobs;
mod migrate;
mod organizations;
mod rate_limits;
mod resource_pages;
mod resources;
mod search;
mod suggest;
mod tokens;
mod uploads;
mod users;

pub use activities::{ActivityFilter, ActivityRow, ActivityViewer, COUNT_LIMIT};
pub use changes::{Changes, Made, Mark};
pub use checks::{CheckRecord, CheckSummary, ClaimedCheck};
pub use counters::ObjectCounts;
pub use datasets::{
    DatasetFilter, DatasetRow, Lookup, PageQuery, SortKey, TemporalFilter, Visibility,
};
pub use dialect::{Dialect, PoolState};
pub use exports::{
    DatasetColumns, DatasetExport, ExportedResource, OrganizationExport, ResourceKey,
};
pub use facets::{FACET_SIZE, Facet};
pub use jobs::Lease;
pub use organizations::MemberRow;
pub use rate_limits::RateCount;
pub use resource_pages::{ResourceCursor, ResourceQuery};
pub use resources::{FileRecord, Position};
pub use search::{OrganizationSort, SEARCH_VERSION};
pub use suggest::{SuggestKind, TERM_LENGTH};
pub use uploads::{ChunkedUpload, UploadPart};

use std::sync::Arc;

use sqlx::{Any, AnyPool, Transaction};

/// Errors the store reports; handlers turn them into HTTP answers through `From`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint refused the write; the text names what clashed.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Conflict(conflict_message(db.constraint(), db.message()).into());
        }
        StoreError::Other(anyhow::Error::new(e))
    }
}

/// What a client is told when a uniqueness constraint refuses a write: which kind of object
/// clashed, never the database's own words (they name tables and constraints).
fn conflict_message(constraint: Option<&str>, message: &str) -> &'static str {
    // PostgreSQL names the constraint (`datasets_slug_key`); SQLite says `UNIQUE constraint failed:
    // datasets.slug`. Both contain the table and the column.
    let what = constraint.unwrap_or(message);
    let has = |table: &str, column: &str| what.contains(table) && what.contains(column);
    if has("datasets", "slug") {
        "A dataset with this slug already exists"
    } else if has("organizations", "slug") {
        "An organization with this slug already exists"
    } else if has("users", "email") {
        "A user with this e-mail address already exists"
    } else if has("users", "slug") {
        "A user with this slug already exists"
    } else if has("resources", "id") {
        "A resource with this id already exists"
    } else {
        "This object conflicts with an existing one"
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The database handle shared by the API, the CLI and the jobs.
#[derive(Clone)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    dialect: Dialect,
    /// Where the database is, for the connection that watches other processes' changes.
    url: Arc<str>,
    changes: Arc<Changes>,
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://...`).
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        Self::connect_with(url, crate::config::DEFAULT_DEPENDENCY_TIMEOUT).await
    }

    /// Connects to `url`; a PostgreSQL server that gives no connection within `timeout` fails the
    /// query that needed one (see [`is_unavailable`]).
    pub async fn connect_with(url: &str, timeout: std::time::Duration) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url)?;
        let (read, write) = dialect.pools(url, timeout).await?;
        Ok(Store {
            read,
            write,
            dialect,
            url: url.into(),
            changes: Arc::default(),
        })
    }

    /// Starts a write transaction: every operation runs in one (see `ops`).
    pub async fn begin(&self) -> StoreResult<WriteTx> {
        Ok(WriteTx {
            tx: self.begin_raw().await?,
            dialect: self.dialect,
            changes: Arc::clone(&self.changes),
        })
    }

    /// A write transaction on the write pool. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that read first and then wrote while another process (the
    /// CLI beside a server, two nodes migrating) held the lock would fail at once with "database is
    /// locked", whereas this one waits for it (`busy_timeout`).
    async fn begin_raw(&self) -> StoreResult<Transaction<'static, Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.write.begin().await?,
        })
    }

    /// Tells this node and the others that a write outside a [`WriteTx`] was committed.
    pub(super) async fn changed(&self) -> StoreResult<()> {
        self.changed_in(None).await
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Closes the pools (waits for connections to be returned).
    /// A trivial query, for the readiness probe: the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Whether `error` says the database cannot be reached (down, unreachable, not answering in time,
/// shutting down) rather than that a query is wrong: the request may succeed later (503).
pub fn is_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(StoreError::Other(inner)) = e.downcast_ref::<StoreError>()
            && is_unavailable(inner.as_ref())
        {
            return true;
        }
        if let Some(e) = e.downcast_ref::<sqlx::Error>() {
            return match e {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
                // Class 08: connection exception; 57P01-57P03: the server is shutting down or
                // starting; 53300: too many connections.
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
                _ => false,
            };
        }
        next = e.source();
    }
    false
}

/// Text ↔ time helpers for rows.
pub(crate) fn ts(s: &str) -> StoreResult<chrono::DateTime<chrono::Utc>> {
    crate::domain::time::from_db(s)
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad timestamp {s:?}")))
}

pub(crate) fn ts_opt(s: Option<String>) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
    s.as_deref().map(ts).transpose()
}

pub(crate) fn db_ts(t: &chrono::DateTime<chrono::Utc>) -> String {
    crate::domain::time::to_db(t)
}

pub(crate) fn json_of<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(e.into()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Other(e.into()))
}

/// `s` as a literal inside a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `$from, $from+1, …` for `n` values.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `VALUES` rows of a multi-row insert: `rows` tuples of `width` placeholders, numbered from 1.
pub(crate) fn value_rows(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|i| format!("({})", placeholders(width * i + 1, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One write transaction, handed to the operations: every write method of the store that must be
/// atomic with others is a method of this type. Dropping it without [`WriteTx::commit`] rolls back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    dialect: Dialect,
    changes: Arc<Changes>,
}

impl WriteTx {
    /// A slug for a row of `table` made from `base`: `base` itself when free, else `base-N` with udata's
    /// suffixes. Inside the transaction that writes the row, through the slug's unique index and a
    /// per-base counter, never a scan: the cost is the same whatever the size of the catalog and
    /// however many rows share the title. Transactions allocating from the same base wait for each
    /// other (see [`Dialect::lock_name`]), so simultaneous creations get distinct slugs.
    pub async fn allocate_slug(
        &mut self,
        table: SlugTable,
        base: &str,
        own_id: Option<&str>,
    ) -> StoreResult<String> {
        let name = format!("slug:{}:{base}", table.name());
        self.dialect.lock_name(&mut self.tx, &name).await?;
        if !self.slug_taken(table, base, own_id).await? {
            return Ok(base.to_string());
        }
        loop {
            // The counter remembers the last suffix handed out for this base.
            let n: i64 = sqlx::query_scalar(
                "INSERT INTO slug_counters (kind, base, next) VALUES ($1, $2, 1)
                 ON CONFLICT (kind, base) DO UPDATE SET next = slug_counters.next + 1
                 RETURNING next",
            )
            .bind(table.name())
            .bind(base)
            .fetch_one(&mut *self.tx)
            .await?;
            let candidate = crate::domain::slug::with_suffix(base, n as u32);
            // A title that itself ends in `-N` may have taken the suffix: skip it.
            if !self.slug_taken(table, &candidate, own_id).await? {
                return Ok(candidate);
            }
        }
    }

    async fn slug_taken(
        &mut self,
        table: SlugTable,
        slug: &str,
        own_id: Option<&str>,
    ) -> StoreResult<bool> {
        let sql = format!(
            "SELECT 1 FROM {} WHERE slug = $1 AND id <> $2",
            table.name()
        );
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(slug)
            .bind(own_id.unwrap_or(""))
            .fetch_optional(&mut *self.tx)
            .await?;
        if found.is_some() {
            return Ok(true);
        }
        // An old slug stays reserved for the object it redirects to: given to another, it would
        // make old links serve someone else's object. The object may take it back.
        let Some(kind) = table.redirect_kind() else {
            return Ok(false);
        };
        let reserved: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM slug_redirects WHERE kind = $1 AND old_slug = $2 AND target_id <> $3",
        )
        .bind(kind)
        .bind(slug)
        .bind(own_id.unwrap_or(""))
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(reserved.is_some())
    }

    /// Forgets the redirect of `slug` (of `kind`): its object has taken it back as its slug.
    pub async fn drop_slug_redirect(&mut self, kind: &str, slug: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM slug_redirects WHERE kind = $1 AND old_slug = $2")
            .bind(kind)
            .bind(slug)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Makes `old_slug` answer with a redirect to object `target_id` of `kind`.
    pub async fn insert_slug_redirect(
        &mut self,
        kind: &str,
        old_slug: &str,
        target_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO slug_redirects (kind, old_slug, target_id) VALUES ($1, $2, $3)
             ON CONFLICT (kind, old_slug) DO UPDATE SET target_id = excluded.target_id",
        )
        .bind(kind)
        .bind(old_slug)
        .bind(target_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

/// The tables whose rows have slugs.
#[derive(Debug, Clone, Copy)]
pub enum SlugTable {
    Users,
    Organizations,
    Datasets,
}

impl SlugTable {
    /// The `slug_redirects.kind` of the table's renamed slugs (users keep none).
    fn redirect_kind(self) -> Option<&'static str> {
        match self {
            SlugTable::Users => None,
            SlugTable::Organizations => Some("organization"),
            SlugTable::Datasets => Some("dataset"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            SlugTable::Users => "users",
            SlugTable::Organizations => "organizations",
            SlugTable::Datasets => "datasets",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::conflict_message;

    #[test]
    fn conflicts_are_told_in_our_words() {
        // PostgreSQL names the constraint; SQLite only says it in its message.
        for (constraint, message, expected) in [
            (
                Some("datasets_slug_key"),
                "duplicate key value violates unique constraint \"datasets_slug_key\"",
                "A dataset with this slug already exists",
            ),
            (
                None,
                "UNIQUE constraint failed: datasets.slug",
                "A dataset with this slug already exists",
            ),
            (
                Some("users_email_key"),
                "duplicate key value violates unique constraint \"users_email_key\"",
                "A user with this e-mail address already exists",
            ),
            (
                None,
                "UNIQUE constraint failed: organizations.slug",
                "An organization with this slug already exists",
            ),
            (
                None,
                "UNIQUE constraint failed: job_leases.name",
                "This object conflicts with an existing one",
            ),
        ] {
            let said = conflict_message(constraint, message);
            assert_eq!(said, expected);
            assert!(!said.contains("constraint") && !said.contains('_'));
        }
    }
}

#[cfg(test)]
mod availability_tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_told_from_a_failing_query() {
        let wrapped = |e: sqlx::Error| StoreError::from(e);
        assert!(is_unavailable(&wrapped(sqlx::Error::PoolTimedOut)));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(is_unavailable(&wrapped(sqlx::Error::Io(refused))));
        // Through the layers that carry it to the HTTP edge.
        let carried = anyhow::Error::new(wrapped(sqlx::Error::PoolTimedOut)).context("listing");
        assert!(is_unavailable(carried.as_ref()));
        assert!(!is_unavailable(&wrapped(sqlx::Error::RowNotFound)));
        assert!(!is_unavailable(&StoreError::NotFound));
        let bug = anyhow::anyhow!("bad timestamp");
        assert!(!is_unavailable(bug.as_ref()));
    }
}
