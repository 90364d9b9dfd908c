//! Leases for scheduled jobs: one runner at a time across processes and nodes; a crashed runner's lease expires.

use chrono::{DateTime, Utc};

use super::{Store, StoreResult, db_ts};

impl Store {
    /// Takes (or renews) the lease `name` for `holder` until `until`. False when another holder has a live lease.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        sqlx::query(
            "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(db_ts(&until))
        .bind(db_ts(&now))
        .execute(&self.write)
        .await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT holder FROM job_leases WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.write)
                .await?;
        Ok(current.as_deref() == Some(holder))
    }

    pub async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM job_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
