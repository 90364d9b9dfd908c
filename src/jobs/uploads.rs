//! Cleanup of abandoned uploads: chunked-upload parts left longer than the retention period, and
//! objects whose writing started (a pending mark) but was never recorded (a crash mid-upload).

use std::time::Duration;

use chrono::Utc;

use crate::files::Files;
use crate::store::Store;

const LEASE: &str = "uploads-cleanup";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CleanupReport {
    pub uploads: usize,
    pub objects: usize,
}

/// Removes what uploads left behind for longer than `retention`.
pub async fn cleanup(
    store: &Store,
    files: &Files,
    retention: Duration,
) -> anyhow::Result<CleanupReport> {
    let Some(lease) = super::Lease::take(store, LEASE).await? else {
        return Ok(CleanupReport::default());
    };
    let now = Utc::now();
    let before = now - chrono::Duration::from_std(retention).unwrap_or_default();
    let mut report = CleanupReport::default();
    let result: anyhow::Result<()> = async {
        for uuid in store.list_stale_uploads(&before).await? {
            for key in store.delete_upload(&uuid).await? {
                files.delete(&key).await?;
                report.objects += 1;
            }
            report.uploads += 1;
        }
        for key in store.list_stale_pending_files(&before).await? {
            files.delete(&key).await?;
            store.delete_pending_file(&key).await?;
            report.objects += 1;
        }
        Ok(())
    }
    .await;
    lease.release().await?;
    result.map(|()| report)
}

/// Runs inside `serve`: every hour (and at start).
pub async fn run_scheduler(store: Store, files: Files, retention: Duration) {
    loop {
        match cleanup(&store, &files, retention).await {
            Ok(r) if r.uploads > 0 || r.objects > 0 => {
                tracing::info!(
                    uploads = r.uploads,
                    objects = r.objects,
                    "removed abandoned uploads"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "upload cleanup failed"),
        }
        tokio::time::sleep(Duration::from_secs(3600).min(retention.max(Duration::from_secs(60))))
            .await;
    }
}
