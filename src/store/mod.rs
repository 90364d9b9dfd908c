//! The metadata store: every SQL statement lives under this module.
//!
//! One concrete `Store` over sqlx's `Any` driver serves both dialects (SQLite, the embedded default,
//! and PostgreSQL), because the queries are written in the SQL both accept (`$n` placeholders,
//! `ON CONFLICT`, text timestamps, integer booleans). Where the dialects differ, `Dialect` says so.
//! On SQLite, writes go through a single-connection pool so that read-modify-write transactions
//! never race; reads use a separate pool (WAL lets them run beside the writer).

mod datasets;
mod jobs;
mod migrate;
mod organizations;
mod tokens;
mod uploads;
mod users;

pub use datasets::{
    DatasetEdit, DatasetFilter, DatasetRow, FileRecord, Lookup, PageQuery, SortKey, Visibility,
};
pub use organizations::MemberRow;
pub use uploads::UploadPart;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

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
            return StoreError::Conflict(db.message().to_string());
        }
        StoreError::Other(anyhow::Error::new(e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The database handle shared by the API, the CLI and the jobs.
#[derive(Clone)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    dialect: Dialect,
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://...`).
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            anyhow::bail!("unsupported database URL scheme (expected sqlite:// or postgres://)")
        };
        let options = AnyConnectOptions::from_str(url).context("parsing the database URL")?;
        let (read, write) = match dialect {
            Dialect::Sqlite => {
                let pool = |max| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(60))
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                // WAL: readers never block the writer; busy_timeout: other processes
                                // (the CLI beside a running server) wait instead of failing.
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                                conn.execute("PRAGMA busy_timeout = 30000").await?;
                                conn.execute("PRAGMA foreign_keys = ON").await?;
                                conn.execute("PRAGMA synchronous = NORMAL").await?;
                                Ok(())
                            })
                        })
                };
                let write = pool(1)
                    .connect_with(options.clone())
                    .await
                    .context("opening the database")?;
                let read = pool(8)
                    .connect_with(options)
                    .await
                    .context("opening the database")?;
                (read, write)
            }
            Dialect::Postgres => {
                // One pool serves reads and writes: PostgreSQL locks rows (`FOR UPDATE`) where SQLite
                // needs a single writer.
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(options)
                    .await
                    .context("connecting to PostgreSQL")?;
                (pool.clone(), pool)
            }
        };
        Ok(Store {
            read,
            write,
            dialect,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Closes the pools (waits for connections to be returned).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
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

/// The first of `base`, `base-1`, `base-2`… not used in `table` by another row than `own_id`.
/// Runs on whatever executor the caller holds, so a transaction sees its own writes.
pub(crate) async fn free_slug<'e, E>(
    executor: E,
    table: SlugTable,
    base: &str,
    own_id: Option<&str>,
) -> StoreResult<String>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT slug FROM {} WHERE (slug = $1 OR slug LIKE $2 ESCAPE '\\') AND id <> $3",
        table.name()
    );
    let pattern = format!("{}-%", escape_like(base));
    let taken: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(base)
        .bind(pattern)
        .bind(own_id.unwrap_or(""))
        .fetch_all(executor)
        .await?;
    Ok((0..)
        .map(|n| crate::domain::slug::with_suffix(base, n))
        .find(|s| !taken.contains(s))
        .expect("an unbounded range always has a free slug"))
}

/// The tables whose rows have slugs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SlugTable {
    Users,
    Organizations,
    Datasets,
}

impl SlugTable {
    fn name(self) -> &'static str {
        match self {
            SlugTable::Users => "users",
            SlugTable::Organizations => "organizations",
            SlugTable::Datasets => "datasets",
        }
    }
}
