//! The purge of soft-deleted datasets: each one goes for good in one transaction (its rows, its
//! resources, its file records), then its files are deleted. The file deletions are recorded as
//! tombstones in that transaction, so a crash resumes them at the next run.

use chrono::{DateTime, Utc};

use crate::domain::activity::Actor;
use crate::files::Files;
use crate::state::AppState;
use crate::store::{Lease, Store};

const LEASE: &str = "purge";

/// What a purge run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PurgeReport {
    pub datasets: usize,
    pub files: usize,
}

/// Purges the datasets deleted before `before` (every soft-deleted one when `None`), then deletes
/// their files. File deletions are recorded as tombstones first, so a crash resumes them next run.
/// The job's purge: no actor in the activity log.
pub async fn purge(state: &AppState, before: Option<DateTime<Utc>>) -> anyhow::Result<PurgeReport> {
    purge_as(state, &Actor::none(), before).await
}

/// [`purge`], recorded in the activity log as `actor`'s (the CLI's `--actor`).
pub async fn purge_as(
    state: &AppState,
    actor: &Actor,
    before: Option<DateTime<Utc>>,
) -> anyhow::Result<PurgeReport> {
    let (store, files) = (&state.store, &state.files);
    let Some(lease) = Lease::take(store, LEASE).await? else {
        tracing::info!("another process is purging; skipping");
        return Ok(PurgeReport::default());
    };
    let result = purge_locked(store, files, actor, before).await;
    lease.release().await?;
    result
}

async fn purge_locked(
    store: &Store,
    files: &Files,
    actor: &Actor,
    before: Option<DateTime<Utc>>,
) -> anyhow::Result<PurgeReport> {
    let mut report = PurgeReport::default();
    for id in store.list_deleted_datasets(before).await? {
        if store.purge_dataset(&id, before, actor).await?.is_some() {
            report.datasets += 1;
            tracing::info!(dataset = %id, "purged dataset");
        }
    }
    for key in store.list_file_tombstones().await? {
        files.delete(&key).await?;
        store.delete_file_tombstone(&key).await?;
        report.files += 1;
    }
    Ok(report)
}
