//! How a node learns that the database changed, so that what it keeps from earlier reads (the
//! response cache of `api::cache`) is never served once stale.
//!
//! The store counts *generations*: every write transaction this process commits bumps the count
//! as soon as it is committed (a client reads its own write at once), and a watcher task bumps it
//! when any other process commits: on PostgreSQL, each write transaction sends a `NOTIFY` that
//! every node's `LISTEN`ing connection receives at commit; on SQLite, a dedicated connection polls
//! `PRAGMA data_version`, which moves whenever another connection (this process's, another node's,
//! the CLI's) has committed, and then reads what was committed from `cache_changes`, a row each
//! write transaction adds. Anything kept under an older generation is then out of date. (A node's
//! own notifications and rows carry its id and are skipped: they were counted at commit.)
//!
//! A remote check's write is narrower ([`WriteTx::commit_for_dataset`]): it changes one dataset's
//! documents, and the lists and search pages that show them. It leaves the generation alone, so
//! the other datasets' kept answers stay; it makes that dataset's answers stale at once, and the
//! lists' at most once a second (`LISTS_EVERY`), however many checks a second a portal records.
//! An answer kept says which of the two it is ([`Made`]).
//!
//! While no watcher runs, or while it cannot reach the database, [`Changes::current`] says `None`:
//! nothing may be kept or served from what was kept, as a change could go unseen.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::Connection;

use super::{Dialect, Store, StoreResult, WriteTx};

/// The PostgreSQL channel every write transaction notifies.
pub(super) const CHANNEL: &str = "rudata_changes";

/// How often SQLite's data version is read: the bound, with a margin, on how long another
/// process's write can go unseen (one second, as promised in the README).
const SQLITE_POLL: Duration = Duration::from_millis(200);

/// How long a lost watcher waits before it connects again.
const RETRY: Duration = Duration::from_secs(1);

/// The lists and search pages show the checks' results at most this late: their kept answers are
/// dropped at most this often while checks are recorded.
const LISTS_EVERY: Duration = Duration::from_secs(1);

/// Datasets whose check results this node remembers the moment of; past it, it forgets them all
/// and moves the generation (every kept answer is dropped once), so the memory stays bounded.
const MAX_DATASETS: usize = 100_000;

/// The rows of `cache_changes` kept (SQLite): far more than a watcher reads in one poll.
const LOG_KEPT: i64 = 1024;

pub struct Changes {
    generation: AtomicU64,
    watched: AtomicBool,
    /// This process, in the notifications it sends: its own come back to its listener, and were
    /// counted already at commit.
    node: String,
    /// Counts the datasets' check writes; `datasets` holds the count at each one's last.
    checks: AtomicU64,
    datasets: RwLock<HashMap<String, u64>>,
    /// The lists' own count, moved at most once every `LISTS_EVERY` while `lists_behind`.
    lists: AtomicU64,
    lists_behind: AtomicBool,
    /// When `lists` last moved, in milliseconds since `started`.
    lists_moved: AtomicU64,
    started: Instant,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            generation: AtomicU64::new(0),
            watched: AtomicBool::new(false),
            node: uuid::Uuid::new_v4().to_string(),
            checks: AtomicU64::new(0),
            datasets: RwLock::new(HashMap::new()),
            lists: AtomicU64::new(0),
            lists_behind: AtomicBool::new(false),
            lists_moved: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}

/// Where a request started among the checks' writes: read before it runs, with the generation.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    checks: u64,
    lists: u64,
}

/// What a kept answer was made from, beyond its generation: one dataset's documents (a check of
/// another leaves it true), or anything else (lists, search, pages over several datasets).
#[derive(Debug, Clone)]
pub struct Made {
    mark: Mark,
    dataset: Option<Arc<str>>,
}

impl Changes {
    /// The current generation, or `None` when changes by other processes could go unseen.
    pub fn current(&self) -> Option<u64> {
        self.watched
            .load(Ordering::Acquire)
            .then(|| self.generation.load(Ordering::Acquire))
    }

    /// Where a request starting now stands among the checks' writes.
    pub fn mark(&self) -> Mark {
        Mark {
            checks: self.checks.load(Ordering::Acquire),
            lists: self.lists(),
        }
    }

    /// What an answer made since `mark` depends on: dataset `dataset` alone, or (`None`) more.
    pub fn made(mark: Mark, dataset: Option<&str>) -> Made {
        Made {
            mark,
            dataset: dataset.map(Arc::from),
        }
    }

    /// Whether no check wrote what an answer `made` so shows since it was made (its generation is
    /// still current: the caller found it under it).
    pub fn still_true(&self, made: &Made) -> bool {
        match &made.dataset {
            Some(id) => {
                let datasets = self.datasets.read().unwrap_or_else(|p| p.into_inner());
                datasets.get(&**id).is_none_or(|at| *at <= made.mark.checks)
            }
            None => self.lists() == made.mark.lists,
        }
    }

    /// The lists' count: moved now if a check was recorded since it last moved, and that was at
    /// least `LISTS_EVERY` ago.
    fn lists(&self) -> u64 {
        if self.lists_behind.load(Ordering::Acquire) {
            let now = self.started.elapsed().as_millis() as u64;
            let moved = self.lists_moved.load(Ordering::Acquire);
            if now.saturating_sub(moved) >= LISTS_EVERY.as_millis() as u64
                && self
                    .lists_moved
                    .compare_exchange(moved, now, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                // Cleared before the count moves: a check recorded meanwhile sets it again.
                self.lists_behind.store(false, Ordering::Release);
                self.lists.fetch_add(1, Ordering::AcqRel);
            }
        }
        self.lists.load(Ordering::Acquire)
    }

    /// A check wrote dataset `id`: its answers are stale now, the lists' soon.
    fn bump_dataset(&self, id: &str) {
        let at = self.checks.fetch_add(1, Ordering::AcqRel) + 1;
        {
            let mut datasets = self.datasets.write().unwrap_or_else(|p| p.into_inner());
            if datasets.len() >= MAX_DATASETS && !datasets.contains_key(id) {
                // Forgotten moments would make stale answers look true: drop every answer first.
                self.bump();
                datasets.clear();
            }
            // The later moment wins: two checks of one dataset may take their moments in one
            // order and get here in the other.
            datasets
                .entry(id.to_string())
                .and_modify(|m| *m = (*m).max(at))
                .or_insert(at);
        }
        self.lists_behind.store(true, Ordering::Release);
    }

    /// The statement that tells the other nodes (PostgreSQL), signed with this node's id, and
    /// naming the dataset of a check's write.
    fn notify(
        &self,
        dataset: Option<&str>,
    ) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let payload = match dataset {
            Some(id) => format!("{} {id}", self.node),
            None => self.node.clone(),
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
    }

    /// Tells the other processes, inside the transaction (or on the connection) that wrote: a
    /// `NOTIFY` on PostgreSQL, a row of `cache_changes` on SQLite.
    pub(super) async fn announce(
        &self,
        dialect: Dialect,
        conn: &mut sqlx::AnyConnection,
        dataset: Option<&str>,
    ) -> StoreResult<()> {
        match dialect {
            Dialect::Postgres => {
                self.notify(dataset).execute(&mut *conn).await?;
            }
            Dialect::Sqlite => {
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO cache_changes (node, dataset_id) VALUES ($1, $2) RETURNING seq",
                )
                .bind(self.node.as_str())
                .bind(dataset)
                .fetch_one(&mut *conn)
                .await?;
                if seq % 256 == 0 {
                    sqlx::query("DELETE FROM cache_changes WHERE seq <= $1")
                        .bind(seq - LOG_KEPT)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Something was committed here: everything read before (`None`), or what depends on one
    /// dataset's check results, is out of date.
    pub(super) fn committed(&self, dataset: Option<&str>) {
        match dataset {
            Some(id) => self.bump_dataset(id),
            None => self.bump(),
        }
    }

    /// Something was committed: whatever was read before is out of date.
    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Another process committed what `node` and `dataset` say (this node's own were counted).
    fn seen(&self, node: &str, dataset: Option<&str>) {
        if node != self.node {
            self.committed(dataset);
        }
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

    /// Tells this node and the others that a write outside a [`WriteTx`] was committed: one that
    /// changes anything (`None`), or only what a check of dataset `dataset` changes.
    pub(super) async fn changed_in(&self, dataset: Option<&str>) -> StoreResult<()> {
        self.changes.committed(dataset);
        let mut conn = self.write.acquire().await?;
        self.changes
            .announce(self.dialect, &mut conn, dataset)
            .await
    }
}

impl WriteTx {
    /// Commits, and tells every node: this one at once, the others through PostgreSQL's `NOTIFY`
    /// (sent with the commit) or SQLite's `cache_changes` (see [`Changes`]).
    pub async fn commit(self) -> StoreResult<()> {
        self.commit_announcing(None).await
    }

    /// Commits a write that changed only what a remote check of dataset `dataset_id` changes (its
    /// resources, its `last_update`, its check queue and history): the answers kept for other
    /// datasets stay, that dataset's are dropped at once and the lists' within a second.
    pub async fn commit_for_dataset(self, dataset_id: &str) -> StoreResult<()> {
        self.commit_announcing(Some(dataset_id)).await
    }

    async fn commit_announcing(mut self, dataset: Option<&str>) -> StoreResult<()> {
        self.changes
            .announce(self.dialect, &mut self.tx, dataset)
            .await?;
        self.tx.commit().await?;
        self.changes.committed(dataset);
        Ok(())
    }
}

async fn watch_sqlite(url: &str, changes: &Changes) -> Result<(), sqlx::Error> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await?;
    let mut seen: i64 = sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(&mut conn)
        .await?;
    let mut last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM cache_changes")
        .fetch_one(&mut conn)
        .await?;
    changes.set_watched(true);
    loop {
        tokio::time::sleep(SQLITE_POLL).await;
        let version: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut conn)
            .await?;
        if version == seen {
            continue;
        }
        seen = version;
        // Another connection committed: what it changed, if anything the caches show.
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT seq, node, dataset_id FROM cache_changes WHERE seq > ? ORDER BY seq",
        )
        .bind(last)
        .fetch_all(&mut conn)
        .await?;
        if rows.first().is_some_and(|(seq, _, _)| *seq != last + 1) {
            // Rows went before this watcher read them: anything may have changed.
            changes.bump();
        }
        for (seq, node, dataset) in rows {
            changes.seen(&node, dataset.as_deref());
            last = seq;
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
        let mut payload = notification.payload().splitn(2, ' ');
        let node = payload.next().unwrap_or_default();
        changes.seen(node, payload.next());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checks_write_makes_only_its_datasets_answers_stale() {
        let changes = Changes::default();
        let generation = changes.generation.load(Ordering::Acquire);
        let before = changes.mark();
        let a = Changes::made(before, Some("a"));
        let b = Changes::made(before, Some("b"));
        changes.committed(Some("a"));
        assert!(!changes.still_true(&a));
        assert!(changes.still_true(&b));
        assert!(changes.still_true(&Changes::made(changes.mark(), Some("a"))));
        // The generation, which every kept answer is found under, did not move.
        assert_eq!(changes.generation.load(Ordering::Acquire), generation);
        // A publisher's write moves it.
        changes.committed(None);
        assert_eq!(changes.generation.load(Ordering::Acquire), generation + 1);
    }

    #[test]
    fn a_write_seen_from_another_node_counts_and_this_nodes_own_does_not() {
        let changes = Changes::default();
        let a = Changes::made(changes.mark(), Some("a"));
        changes.seen(&changes.node.clone(), Some("a"));
        assert!(changes.still_true(&a));
        changes.seen("another-node", Some("a"));
        assert!(!changes.still_true(&a));
    }
}
