//! Every difference between SQLite and PostgreSQL that the store deals with, in one place.
//!
//! The rest of the store writes SQL that both accept (`$n` placeholders, `ON CONFLICT`, `RETURNING`,
//! text timestamps, integer booleans). What cannot be written once is a method here, so that a
//! reader finds every dialect branch by looking at one file.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sha1::{Digest, Sha1};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

use super::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect of a database URL, from its scheme.
    pub fn of_url(url: &str) -> anyhow::Result<Dialect> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Dialect::Postgres)
        } else {
            anyhow::bail!("unsupported database URL scheme (expected sqlite:// or postgres://)")
        }
    }

    /// The read pool and the write pool.
    ///
    /// SQLite: writes go through a single connection, so read-modify-write transactions never race
    /// and never meet `SQLITE_BUSY`; reads use a separate pool (WAL lets them run beside the writer).
    /// PostgreSQL: one pool serves both, and transactions lock the rows they change.
    pub async fn pools(self, url: &str) -> anyhow::Result<(AnyPool, AnyPool)> {
        let options = AnyConnectOptions::from_str(url).context("parsing the database URL")?;
        match self {
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
                Ok((read, write))
            }
            Dialect::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(options)
                    .await
                    .context("connecting to PostgreSQL")?;
                Ok((pool.clone(), pool))
            }
        }
    }

    /// The suffix that locks the selected rows until the transaction ends. SQLite needs none: its
    /// single writer connection already serialises every write transaction.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Serialises the transactions that decide about the same `name` (say, which slug a title gets)
    /// until they end. PostgreSQL: a transaction-scoped advisory lock keyed by a hash of the name.
    /// SQLite: nothing to do, for the reason given in [`Dialect::for_update`].
    pub async fn lock_name(
        self,
        tx: &mut Transaction<'static, Any>,
        name: &str,
    ) -> StoreResult<()> {
        if self == Dialect::Postgres {
            let digest = Sha1::digest(name.as_bytes());
            let mut key = [0u8; 8];
            key.copy_from_slice(&digest[..8]);
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(i64::from_be_bytes(key))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
