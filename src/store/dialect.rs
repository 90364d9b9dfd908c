//! Every difference between SQLite and PostgreSQL that the store deals with, in one place.
//!
//! The rest of the store writes SQL that both accept (`$n` placeholders, `ON CONFLICT`, `RETURNING`,
//! text timestamps, integer booleans). What cannot be written once is a method here, so that a
//! reader finds every dialect branch by looking at one file.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sha1::{Digest, Sha1};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

use super::search::{SearchIndex, Sql};
use super::{StoreResult, placeholders};
use crate::domain::search::SearchQuery;

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
    ///
    /// `timeout` bounds how long a query waits for a PostgreSQL connection (opening one, or checking
    /// an idle one still answers): past it the query fails with `PoolTimedOut` (503), instead of
    /// hanging while the server is down or unreachable. SQLite keeps a long wait: its database is a
    /// local file, and waiting there is queueing behind the single writer, not an outage.
    pub async fn pools(self, url: &str, timeout: Duration) -> anyhow::Result<(AnyPool, AnyPool)> {
        let options = AnyConnectOptions::from_str(url).context("parsing the database URL")?;
        match self {
            Dialect::Sqlite => {
                let counters: Arc<str> = counters_file(url)?.into();
                let pool = |max| {
                    let counters = Arc::clone(&counters);
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(60))
                        .after_connect(move |conn, _| {
                            let counters = Arc::clone(&counters);
                            Box::pin(async move {
                                // WAL: readers never block the writer; busy_timeout: other processes
                                // (the CLI beside a running server) wait instead of failing.
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                                conn.execute("PRAGMA busy_timeout = 30000").await?;
                                conn.execute("PRAGMA foreign_keys = ON").await?;
                                conn.execute("PRAGMA synchronous = NORMAL").await?;
                                attach_counters(conn, &counters).await?;
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
                    .acquire_timeout(timeout)
                    // Idle connections are checked before use (the default, said out loud): one
                    // that a network failure left dangling fails the check within `timeout`.
                    .test_before_acquire(true)
                    .connect_with(options)
                    .await
                    .context("connecting to PostgreSQL")?;
                Ok((pool.clone(), pool))
            }
        }
    }

    /// The state of the connection pools, for `/metrics`: `(name, open, idle, max)` of each.
    pub fn pool_states(self, read: &AnyPool, write: &AnyPool) -> Vec<PoolState> {
        let state = |name, pool: &AnyPool| PoolState {
            name,
            open: pool.size(),
            idle: pool.num_idle(),
            max: pool.options().get_max_connections(),
        };
        match self {
            Dialect::Sqlite => vec![state("read", read), state("write", write)],
            // One pool serves both.
            Dialect::Postgres => vec![state("all", read)],
        }
    }

    /// Whether the nodes share their rate-limit counts through the `rate_limits` table.
    /// PostgreSQL: yes, that is how several nodes hold one limit. SQLite serves one node, and a
    /// write every second would move `PRAGMA data_version`, which the response cache watches for
    /// other processes' writes (see `changes`): it would drop every kept answer each second.
    pub fn shares_rate_limits(self) -> bool {
        self == Dialect::Postgres
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

/// Full-text search: SQLite keeps an FTS5 table whose rowid is the `seq` of a key table; PostgreSQL
/// keeps one tsvector per field in the key table itself, and their concatenation (`document`). Both index text already folded in Rust
/// (`domain::search::fold`): words of ASCII letters and digits separated by spaces, which FTS5's
/// `ascii` tokenizer and PostgreSQL's `simple` configuration cut into the same words.
impl Dialect {
    /// Writes (or replaces) the row of `key` in `index`, from its folded fields in index order.
    pub async fn write_search_row(
        self,
        tx: &mut Transaction<'static, Any>,
        index: &SearchIndex,
        key: &str,
        values: &[String],
    ) -> StoreResult<()> {
        let fields: Vec<&str> = index.fields.iter().map(|(f, _)| *f).collect();
        match self {
            Dialect::Sqlite => {
                let seq: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {t} ({k}) VALUES ($1) ON CONFLICT ({k}) DO UPDATE SET {k} = excluded.{k}
                     RETURNING seq",
                    t = index.table,
                    k = index.key,
                )))
                .bind(key)
                .fetch_one(&mut **tx)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {} WHERE rowid = $1",
                    index.fts
                )))
                .bind(seq)
                .execute(&mut **tx)
                .await?;
                let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {} (rowid, {}) VALUES ($1, {})",
                    index.fts,
                    fields.join(", "),
                    placeholders(2, fields.len())
                )))
                .bind(seq);
                for v in values {
                    q = q.bind(v.as_str());
                }
                q.execute(&mut **tx).await?;
            }
            Dialect::Postgres => {
                let vectors: Vec<String> = (0..fields.len())
                    .map(|i| format!("to_tsvector('simple', ${})", i + 2))
                    .collect();
                let mut updates: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{f} = excluded.{f}"))
                    .collect();
                updates.push("document = excluded.document".to_string());
                let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {t} ({k}, {f}, document) VALUES ($1, {v}, {all})
                     ON CONFLICT ({k}) DO UPDATE SET {u}",
                    t = index.table,
                    k = index.key,
                    f = fields.join(", "),
                    v = vectors.join(", "),
                    all = vectors.join(" || "),
                    u = updates.join(", "),
                )))
                .bind(key);
                for v in values {
                    q = q.bind(v.as_str());
                }
                q.execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    /// Removes the row of `key` from `index`.
    pub async fn delete_search_row(
        self,
        tx: &mut Transaction<'static, Any>,
        index: &SearchIndex,
        key: &str,
    ) -> StoreResult<()> {
        if self == Dialect::Sqlite {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {fts} WHERE rowid = (SELECT seq FROM {t} WHERE {k} = $1)",
                fts = index.fts,
                t = index.table,
                k = index.key,
            )))
            .bind(key)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE {} = $1",
            index.table, index.key
        )))
        .bind(key)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Writes an organization's new (folded) name into the search rows of all its datasets.
    pub async fn rename_organization_in_search(
        self,
        tx: &mut Transaction<'static, Any>,
        org_id: &str,
        folded_name: &str,
    ) -> StoreResult<()> {
        let sql = match self {
            Dialect::Sqlite => {
                "UPDATE dataset_fts SET organization = $1 WHERE rowid IN (
                     SELECT s.seq FROM dataset_search s JOIN datasets d ON d.id = s.dataset_id
                     WHERE d.organization_id = $2)"
            }
            Dialect::Postgres => {
                "UPDATE dataset_search SET organization = to_tsvector('simple', $1),
                     document = title || acronym || tags || description || to_tsvector('simple', $1)
                 WHERE dataset_id IN (SELECT id FROM datasets WHERE organization_id = $2)"
            }
        };
        sqlx::query(sql)
            .bind(folded_name)
            .bind(org_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// A subquery of the objects of `index` holding every word of `query` (the last one as a prefix),
    /// with their `id` and `score` (see `store::search` for the rule, the same on both databases).
    pub(super) fn search_hits(
        self,
        index: &SearchIndex,
        query: &SearchQuery,
        sql: &mut Sql,
    ) -> String {
        let (last_weight, scored) = match index.fields.split_last() {
            Some(((_, w), rest)) => (*w, rest),
            None => (1, &[][..]),
        };
        let mut scores: Vec<String> = Vec::new();
        match self {
            Dialect::Sqlite => {
                let phrase = |w: &str, prefix: bool| {
                    if prefix {
                        format!("\"{w}\"*")
                    } else {
                        format!("\"{w}\"")
                    }
                };
                let all: Vec<String> = query.terms().map(|(w, p)| phrase(w, p)).collect();
                let all = sql.text(all.join(" "));
                for (word, prefix) in query.terms() {
                    let mut case = String::from("(CASE");
                    for (field, weight) in scored {
                        let p = sql.text(format!("{field} : {}", phrase(word, prefix)));
                        case.push_str(&format!(
                            " WHEN {fts}.rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH {p}) THEN {weight}",
                            fts = index.fts
                        ));
                    }
                    case.push_str(&format!(" ELSE {last_weight} END)"));
                    scores.push(case);
                }
                format!(
                    "SELECT s.{k} AS id, {score} AS score FROM {fts} JOIN {t} s ON s.seq = {fts}.rowid
                     WHERE {fts} MATCH {all}",
                    k = index.key,
                    t = index.table,
                    fts = index.fts,
                    score = scores.join(" + "),
                )
            }
            Dialect::Postgres => {
                let term = |w: &str, prefix: bool| {
                    if prefix {
                        format!("{w}:*")
                    } else {
                        w.to_string()
                    }
                };
                let all: Vec<String> = query.terms().map(|(w, p)| term(w, p)).collect();
                let all = sql.text(all.join(" & "));
                for (word, prefix) in query.terms() {
                    let p = sql.text(term(word, prefix));
                    let mut case = String::from("(CASE");
                    for (field, weight) in scored {
                        case.push_str(&format!(
                            " WHEN s.{field} @@ to_tsquery('simple', {p}) THEN {weight}"
                        ));
                    }
                    case.push_str(&format!(" ELSE {last_weight} END)"));
                    scores.push(case);
                }
                format!(
                    "SELECT s.{k} AS id, {score} AS score FROM {t} s
                     WHERE s.document @@ to_tsquery('simple', {all})",
                    k = index.key,
                    t = index.table,
                    score = scores.join(" + "),
                )
            }
        }
    }

    /// The expression lists sort titles by: bytewise on both (as MongoDB does), whatever the
    /// PostgreSQL database's locale; the public title index is built on the same expression.
    pub fn title_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "d.title",
            Dialect::Postgres => "d.title COLLATE \"C\"",
        }
    }
}

/// A connection pool's state (see [`Dialect::pool_states`]).
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    /// `read` and `write` on SQLite, `all` on PostgreSQL (one pool serves both).
    pub name: &'static str,
    pub open: u32,
    pub idle: usize,
    pub max: u32,
}

/// The file of SQLite's object counters: the database's, with `-counters` appended (an in-memory
/// database gets an in-memory one). Created empty (an empty file is an empty SQLite database) when
/// missing: `ATTACH` creates a file only on a connection opened with `mode=rwc`.
fn counters_file(url: &str) -> anyhow::Result<String> {
    let options =
        sqlx::sqlite::SqliteConnectOptions::from_str(url).context("parsing the database URL")?;
    let file = options.get_filename().to_string_lossy().into_owned();
    if file.is_empty() || file == ":memory:" {
        return Ok(":memory:".to_string());
    }
    let counters = format!("{file}-counters");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&counters)
        .with_context(|| format!("opening the counters file {counters}"))?;
    Ok(counters)
}

/// Attaches SQLite's counters file as `counters` (see `migrations/sqlite/0017_object_counters.sql`:
/// a flush written in the main file would move the `data_version` the response cache watches), and
/// creates its table when the file is new.
async fn attach_counters(conn: &mut sqlx::AnyConnection, file: &str) -> Result<(), sqlx::Error> {
    sqlx::query("ATTACH DATABASE $1 AS counters")
        .bind(file)
        .execute(&mut *conn)
        .await?;
    conn.execute("PRAGMA counters.journal_mode = WAL").await?;
    conn.execute("PRAGMA counters.synchronous = NORMAL").await?;
    conn.execute(
        "CREATE TABLE IF NOT EXISTS counters.object_counters (
             id TEXT PRIMARY KEY,
             views INTEGER NOT NULL DEFAULT 0,
             downloads INTEGER NOT NULL DEFAULT 0
         )",
    )
    .await?;
    Ok(())
}
