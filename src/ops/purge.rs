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

/// How far a purge is, for a progress display: `done` of the `total` datasets, then files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeStep {
    Datasets { done: usize, total: usize },
    Files { done: usize, total: usize },
}

/// Purges the datasets deleted before `before` (every soft-deleted one when `None`), then deletes
/// their files. File deletions are recorded as tombstones first, so a crash resumes them next run.
/// The job's purge: no actor in the activity log.
pub async fn purge(state: &AppState, before: Option<DateTime<Utc>>) -> anyhow::Result<PurgeReport> {
    purge_with_progress(state, &Actor::none(), before, |_| {}).await
}

/// [`purge`], recorded in the activity log as `actor`'s (the CLI's `--actor`), telling `progress`
/// how far it is after each dataset and each file.
pub async fn purge_with_progress(
    state: &AppState,
    actor: &Actor,
    before: Option<DateTime<Utc>>,
    mut progress: impl FnMut(PurgeStep),
) -> anyhow::Result<PurgeReport> {
    let (store, files) = (&state.store, &state.files);
    let Some(lease) = Lease::take(store, LEASE).await? else {
        tracing::info!("another process is purging; skipping");
        return Ok(PurgeReport::default());
    };
    let result = purge_locked(store, files, actor, before, &mut progress).await;
    lease.release().await?;
    result
}

async fn purge_locked(
    store: &Store,
    files: &Files,
    actor: &Actor,
    before: Option<DateTime<Utc>>,
    progress: &mut impl FnMut(PurgeStep),
) -> anyhow::Result<PurgeReport> {
    let mut report = PurgeReport::default();
    let doomed = store.list_deleted_datasets(before).await?;
    let total = doomed.len();
    progress(PurgeStep::Datasets { done: 0, total });
    for (done, id) in doomed.into_iter().enumerate() {
        if store.purge_dataset(&id, before, actor).await?.is_some() {
            report.datasets += 1;
            tracing::info!(dataset = %id, "purged dataset");
        }
        progress(PurgeStep::Datasets {
            done: done + 1,
            total,
        });
    }
    let keys = store.list_file_tombstones().await?;
    let total = keys.len();
    progress(PurgeStep::Files { done: 0, total });
    for (done, key) in keys.into_iter().enumerate() {
        files.delete(&key).await?;
        store.delete_file_tombstone(&key).await?;
        report.files += 1;
        progress(PurgeStep::Files {
            done: done + 1,
            total,
        });
    }
    Ok(report)
}
