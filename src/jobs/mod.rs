//! Scheduled work. Each job takes a lease in the store so that one process runs it at a time.

pub mod purge;
pub mod uploads;

use crate::store::Store;

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
