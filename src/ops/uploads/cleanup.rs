//! The cleanup of what uploads left behind: abandoned chunked uploads and objects never recorded.

use std::time::Duration;

use crate::state::AppState;
use crate::store::Lease;

const CLEANUP_LEASE: &str = "uploads-cleanup";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CleanupReport {
    pub uploads: usize,
    pub objects: usize,
}

/// Removes what uploads left behind for longer than `retention`.
/// Chunked-upload parts left longer than `retention` (and their S3 multipart upload, aborted), and objects whose writing started (a pending
/// mark) but was never recorded (a crash mid-upload).
pub async fn cleanup(state: &AppState, retention: Duration) -> anyhow::Result<CleanupReport> {
    let (store, files) = (&state.store, &state.files);
    let Some(lease) = Lease::take(store, CLEANUP_LEASE).await? else {
        return Ok(CleanupReport::default());
    };
    let now = chrono::Utc::now();
    let before = now - chrono::Duration::from_std(retention).unwrap_or_default();
    let mut report = CleanupReport::default();
    let result: anyhow::Result<()> = async {
        for uuid in store.list_stale_uploads(&before).await? {
            let (keys, multipart) = store.delete_upload(&uuid).await?;
            for key in keys {
                files.delete(&key).await?;
                report.objects += 1;
            }
            if let Some((key, id)) = multipart {
                // Its parts, if it was never completed; its object, if it was but not recorded.
                files.abort_upload(&key, &id).await?;
                files.delete(&key).await?;
                report.objects += 1;
            }
            report.uploads += 1;
        }
        for key in store.list_stale_pending_files(&before).await? {
            // One object that cannot be removed (a backend error, a key it refuses) must not keep
            // the others forever: it is logged and tried again at the next run.
            if let Err(e) = files.delete(&key).await {
                tracing::warn!(key, error = ?e, "cannot remove an abandoned upload; skipped");
                continue;
            }
            store.delete_pending_file(&key).await?;
            report.objects += 1;
        }
        Ok(())
    }
    .await;
    lease.release().await?;
    result.map(|()| report)
}
