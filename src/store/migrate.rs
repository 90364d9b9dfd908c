//! Schema migrations: sqlx's checksummed migrator, run over the `Any` connection, and the one-time
//! adoption of databases made by rudata 0.1, whose own runner kept `schema_migrations`.

use std::borrow::Cow;

use anyhow::Context;
use sqlx::migrate::{Migrate, Migration, MigrationType, Migrator};
use sqlx::{AnyConnection, Connection, SqlSafeStr};

use super::{Dialect, Store};

/// The migrations of each dialect, embedded at build time, as sqlx names them from their files
/// (`<version>_<description>.sql`). Each is checksummed (SHA-384 of its text, as `sqlx::migrate!` and
/// sqlx's CLI compute it): a file edited after it was applied stops the start instead of leaving the
/// schemas apart. Add a new file to its list; a test checks the lists against the folders.
///
/// Not `sqlx::migrate!`: its proc-macro makes Cargo build a second, host-side copy of sqlx-core,
/// sqlx-sqlite, sqlx-postgres and the bundled SQLite C library (their features differ from ours, so
/// nothing is shared), which cost about 70–90 s more CPU and about 90 s more wall time on a cold build
/// of this 2-core machine; and it needs a build script to notice a new file.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "uploads",
        include_str!("../../migrations/sqlite/0002_uploads.sql"),
    ),
    (
        3,
        "flat writes",
        include_str!("../../migrations/sqlite/0003_flat_writes.sql"),
    ),
    (
        4,
        "search",
        include_str!("../../migrations/sqlite/0004_search.sql"),
    ),
    (
        5,
        "suggest",
        include_str!("../../migrations/sqlite/0005_suggest.sql"),
    ),
    (
        6,
        "resource pages",
        include_str!("../../migrations/sqlite/0006_resource_pages.sql"),
    ),
    (
        7,
        "tag suggest lookup",
        include_str!("../../migrations/sqlite/0007_tag_suggest_lookup.sql"),
    ),
    (
        8,
        "invitation emails",
        include_str!("../../migrations/sqlite/0008_invitation_emails.sql"),
    ),
    (
        9,
        "token key fingerprint",
        include_str!("../../migrations/sqlite/0009_token_key_fingerprint.sql"),
    ),
    (
        10,
        "rate limits",
        include_str!("../../migrations/sqlite/0010_rate_limits.sql"),
    ),
    (
        11,
        "token scopes",
        include_str!("../../migrations/sqlite/0011_token_scopes.sql"),
    ),
    (
        12,
        "upload parts in place",
        include_str!("../../migrations/sqlite/0012_upload_parts_in_place.sql"),
    ),
    (
        13,
        "multipart uploads",
        include_str!("../../migrations/sqlite/0013_multipart_uploads.sql"),
    ),
    (
        14,
        "resource checks",
        include_str!("../../migrations/sqlite/0014_resource_checks.sql"),
    ),
    (
        15,
        "check hosts and cache changes",
        include_str!("../../migrations/sqlite/0015_check_hosts_and_cache_changes.sql"),
    ),
    (
        16,
        "activities",
        include_str!("../../migrations/sqlite/0016_activities.sql"),
    ),
    (
        17,
        "object counters",
        include_str!("../../migrations/sqlite/0017_object_counters.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "uploads",
        include_str!("../../migrations/postgres/0002_uploads.sql"),
    ),
    (
        3,
        "flat writes",
        include_str!("../../migrations/postgres/0003_flat_writes.sql"),
    ),
    (
        4,
        "search",
        include_str!("../../migrations/postgres/0004_search.sql"),
    ),
    (
        5,
        "suggest",
        include_str!("../../migrations/postgres/0005_suggest.sql"),
    ),
    (
        6,
        "resource pages",
        include_str!("../../migrations/postgres/0006_resource_pages.sql"),
    ),
    (
        7,
        "tag suggest lookup",
        include_str!("../../migrations/postgres/0007_tag_suggest_lookup.sql"),
    ),
    (
        8,
        "invitation emails",
        include_str!("../../migrations/postgres/0008_invitation_emails.sql"),
    ),
    (
        9,
        "token key fingerprint",
        include_str!("../../migrations/postgres/0009_token_key_fingerprint.sql"),
    ),
    (
        10,
        "rate limits",
        include_str!("../../migrations/postgres/0010_rate_limits.sql"),
    ),
    (
        11,
        "token scopes",
        include_str!("../../migrations/postgres/0011_token_scopes.sql"),
    ),
    (
        12,
        "upload parts in place",
        include_str!("../../migrations/postgres/0012_upload_parts_in_place.sql"),
    ),
    (
        13,
        "multipart uploads",
        include_str!("../../migrations/postgres/0013_multipart_uploads.sql"),
    ),
    (
        14,
        "resource checks",
        include_str!("../../migrations/postgres/0014_resource_checks.sql"),
    ),
    (
        15,
        "check hosts and cache changes",
        include_str!("../../migrations/postgres/0015_check_hosts_and_cache_changes.sql"),
    ),
    (
        16,
        "activities",
        include_str!("../../migrations/postgres/0016_activities.sql"),
    ),
    (
        17,
        "object counters",
        include_str!("../../migrations/postgres/0017_object_counters.sql"),
    ),
];

fn migrator(dialect: Dialect) -> Migrator {
    let files = match dialect {
        Dialect::Sqlite => SQLITE_MIGRATIONS,
        Dialect::Postgres => POSTGRES_MIGRATIONS,
    };
    let migrations = files
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql.into_sql_str(),
                // sqlx's own rule for a migration that must run outside a transaction.
                sql.starts_with("-- no-transaction"),
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// The migration whose Rust half folds resource titles (see `resource_pages::refold_titles`).
const REFOLD_AFTER: i64 = 6;

/// The versions recorded as applied (none on a new database).
async fn applied_versions(conn: &mut AnyConnection, dialect: Dialect) -> anyhow::Result<Vec<i64>> {
    if !table_exists(conn, dialect, SQLX_TABLE).await? {
        return Ok(Vec::new());
    }
    Ok(
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// sqlx's bookkeeping table (its default name).
const SQLX_TABLE: &str = "_sqlx_migrations";

impl Store {
    /// Applies the migrations not yet applied, each in its own transaction.
    ///
    /// On PostgreSQL the whole run holds sqlx's migration lock (a session advisory lock keyed on the
    /// database name), so nodes starting together take turns and the later ones find nothing to do.
    /// SQLite has no such lock: a process that loses the race for a migration looks again.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = migrator(self.dialect);
        let mut conn = self.write.acquire().await?;
        conn.lock().await?;
        let result = async {
            adopt_legacy_versions(&mut conn, self.dialect, &migrator).await?;
            let before = applied_versions(&mut conn, self.dialect).await?;
            // The migrator takes the same lock again: advisory locks stack within a session.
            let mut attempt = 1;
            loop {
                match migrator.run(&mut *conn).await {
                    Ok(()) => break,
                    // SQLite has no migration lock: two processes starting together may both try the
                    // same migration; the second one's transaction fails and rolls back whole, and on
                    // a second look it finds the migration applied by the first.
                    Err(_) if self.dialect == Dialect::Sqlite && attempt < 5 => {
                        attempt += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    Err(e) => return Err(anyhow::Error::new(e).context("applying migrations")),
                }
            }
            if !before.contains(&REFOLD_AFTER) {
                // Unicode case folding of resource titles, which SQL cannot do alike on both
                // databases: the Rust half of that migration, right after it.
                let mut tx = conn.begin().await?;
                super::resource_pages::refold_titles(&mut tx)
                    .await
                    .context("folding resource titles")?;
                tx.commit().await?;
            }
            Ok(())
        }
        .await;
        let unlocked = conn.unlock().await;
        if unlocked.is_err() {
            // Closing the session releases its locks; it must not go back to the pool holding one.
            conn.close_on_drop();
        }
        result?;
        unlocked?;
        drop(conn);
        // The search rows and filter values of what was written before them (or before they
        // changed): Rust folds the text, which SQL cannot do alike on both databases. Outside the
        // migration lock and on the pools (SQLite's writer is the connection just released); the
        // batches are idempotent, so nodes starting together may share them.
        self.derive_pending()
            .await
            .context("deriving the search rows")?;
        Ok(())
    }
}

/// rudata 0.1 recorded applied versions in its own `schema_migrations(version, applied_at)`. The first
/// start of a later release writes those versions into sqlx's table, with the checksums of the files
/// this binary embeds (the same files: a released migration is never edited), all in one transaction,
/// so that the migrator sees them applied and runs only newer ones. `schema_migrations` stays as it
/// was: it keeps the dates, and rudata 0.1, if rolled back to, still finds its versions applied.
async fn adopt_legacy_versions(
    conn: &mut AnyConnection,
    dialect: Dialect,
    migrator: &Migrator,
) -> anyhow::Result<()> {
    // IMMEDIATE: on SQLite, another process adopting at the same time waits for this one (busy_timeout)
    // and then finds the versions recorded, instead of failing to upgrade its read to a write.
    let mut tx = match dialect {
        Dialect::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Dialect::Postgres => conn.begin().await?,
    };
    if !table_exists(&mut tx, dialect, "schema_migrations").await? {
        // A new database, or one made by a release that already used sqlx's table.
        return Ok(());
    }
    if table_exists(&mut tx, dialect, SQLX_TABLE).await? {
        let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&mut *tx)
            .await?;
        if recorded > 0 {
            // Adopted on an earlier start.
            return Ok(());
        }
    }
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await?;
    tx.ensure_migrations_table(SQLX_TABLE).await?;
    for version in &versions {
        let migration = migrator
            .iter()
            .find(|m| m.version == *version)
            .with_context(|| {
                format!(
                    "schema_migrations lists migration {version}, which this release does not have"
                )
            })?;
        // Records the migration as applied without running it (sqlx's "skip").
        tx.skip(SQLX_TABLE, migration).await?;
    }
    tx.commit().await?;
    tracing::info!(
        ?versions,
        "recorded the migrations applied by rudata 0.1 in _sqlx_migrations"
    );
    Ok(())
}

async fn table_exists(
    conn: &mut AnyConnection,
    dialect: Dialect,
    name: &str,
) -> sqlx::Result<bool> {
    let sql = match dialect {
        Dialect::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let count: i64 = sqlx::query_scalar(sql).bind(name).fetch_one(conn).await?;
    Ok(count > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded lists are what sqlx's resolver (the one `sqlx::migrate!` runs at build time) finds
    /// in the folders: the same versions, descriptions, kinds and checksums, none missing.
    #[tokio::test]
    async fn embedded_migrations_are_the_folders() {
        for (dialect, folder) in [(Dialect::Sqlite, "sqlite"), (Dialect::Postgres, "postgres")] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(folder);
            let resolved = Migrator::new(dir.as_path()).await.unwrap();
            let summary = |m: &Migrator| -> Vec<_> {
                m.iter()
                    .map(|m| {
                        let kind = m.migration_type;
                        let text = m.description.to_string();
                        (m.version, text, kind, m.checksum.to_vec(), m.no_tx)
                    })
                    .collect()
            };
            assert_eq!(summary(&migrator(dialect)), summary(&resolved), "{folder}");
        }
    }
}
