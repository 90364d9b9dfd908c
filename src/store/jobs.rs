//! Leases for scheduled jobs: one runner at a time across processes and nodes; a crashed runner's lease expires.

use chrono::{DateTime, Utc};

use super::{Store, StoreResult, db_ts};

/// A job's lease, held until [`Lease::release`] (or until it expires, if its holder crashed).
pub struct Lease<'a> {
    store: &'a Store,
    name: &'static str,
    holder: String,
}

impl<'a> Lease<'a> {
    /// Takes the lease `name` for 10 minutes; `None` when another process holds it.
    pub async fn take(store: &'a Store, name: &'static str) -> anyhow::Result<Option<Lease<'a>>> {
        let holder = format!(
            "{}-{}",
            std::process::id(),
            crate::domain::ids::new_object_id()
        );
        let now = chrono::Utc::now();
        let taken = store
            .take_lease(name, &holder, now, now + chrono::Duration::minutes(10))
            .await?;
        Ok(taken.then_some(Lease {
            store,
            name,
            holder,
        }))
    }

    pub async fn release(self) -> anyhow::Result<()> {
        Ok(self.store.release_lease(self.name, &self.holder).await?)
    }
}

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
