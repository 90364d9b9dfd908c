//! How a node learns that the database changed, so that what it keeps from earlier reads (the
//! response cache of `api::cache`) is never served once stale.
//!
//! The store counts *generations*: every write transaction this process commits bumps the count
//! as soon as it is committed (a client reads its own write at once), and a watcher task bumps it
//! when any other process commits: on PostgreSQL, each write transaction sends a `NOTIFY` that
//! every node's `LISTEN`ing connection receives at commit; on SQLite, a dedicated connection polls
//! `PRAGMA data_version`, which moves whenever another connection (this process's, another node's,
//! the CLI's) has committed. Anything kept under an older generation is then out of date.
//! (A node's own notifications carry its id and are skipped; SQLite's data version cannot tell
//! whose commit it was, so there a node's own write moves the generation a second time, at the
//! next poll: one more computed answer, never a stale one.)
//!
//! While no watcher runs, or while it cannot reach the database, [`Changes::current`] says `None`:
//! nothing may be kept or served from what was kept, as a change could go unseen.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Connection;

use super::{Dialect, Store};

/// The PostgreSQL channel every write transaction notifies.
pub(super) const CHANNEL: &str = "rudata_changes";

/// How often SQLite's data version is read: the bound, with a margin, on how long another
/// process's write can go unseen (one second, as promised in the README).
const SQLITE_POLL: Duration = Duration::from_millis(200);

/// How long a lost watcher waits before it connects again.
const RETRY: Duration = Duration::from_secs(1);

pub struct Changes {
    generation: AtomicU64,
    watched: AtomicBool,
    /// This process, in the notifications it sends: its own come back to its listener, and were
    /// counted already at commit.
    node: String,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            generation: AtomicU64::new(0),
            watched: AtomicBool::new(false),
            node: uuid::Uuid::new_v4().to_string(),
        }
    }
}

impl Changes {
    /// The current generation, or `None` when changes by other processes could go unseen.
    pub fn current(&self) -> Option<u64> {
        self.watched
            .load(Ordering::Acquire)
            .then(|| self.generation.load(Ordering::Acquire))
    }

    /// The statement that tells the other nodes (PostgreSQL), signed with this node's id.
    pub(super) fn notify(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(self.node.as_str())
    }

    /// Something was committed: whatever was read before is out of date.
    pub(super) fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn set_watched(&self, watched: bool) {
        // A watcher that starts or resumes may have missed changes: a new generation first.
        self.bump();
        self.watched.store(watched, Ordering::Release);
    }
}

impl Store {
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// Starts the task that sees other processes' commits (see the module's documentation). It
    /// runs until the runtime stops; [`Changes::current`] is `None` until it has connected.
    pub fn watch_changes(&self) -> tokio::task::JoinHandle<()> {
        let changes = Arc::clone(&self.changes);
        let url = self.url.clone();
        let dialect = self.dialect;
        tokio::spawn(async move {
            loop {
                let stopped = match dialect {
                    Dialect::Sqlite => watch_sqlite(&url, &changes).await,
                    Dialect::Postgres => watch_postgres(&url, &changes).await,
                };
                changes.set_watched(false);
                if let Err(e) = stopped {
                    tracing::warn!(error = %e, "lost the watch on database changes; retrying");
                }
                tokio::time::sleep(RETRY).await;
            }
        })
    }
}

async fn watch_sqlite(url: &str, changes: &Changes) -> Result<(), sqlx::Error> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await?;
    let mut seen: i64 = sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(&mut conn)
        .await?;
    changes.set_watched(true);
    loop {
        tokio::time::sleep(SQLITE_POLL).await;
        let version: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut conn)
            .await?;
        if version != seen {
            seen = version;
            changes.bump();
        }
    }
}

async fn watch_postgres(url: &str, changes: &Changes) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    changes.set_watched(true);
    loop {
        // `None`: the connection was lost, and notifications with it.
        let Some(notification) = listener.try_recv().await? else {
            return Ok(());
        };
        if notification.payload() != changes.node {
            changes.bump();
        }
    }
}
