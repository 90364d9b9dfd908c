//! When abandoned uploads are cleaned up (`ops::uploads::cleanup`): every hour, and at start.

use std::time::Duration;

use crate::metrics::Job;
use crate::ops::uploads::cleanup;
use crate::state::AppState;

/// Runs inside `serve`: every hour (and at start).
pub async fn run_scheduler(state: AppState, retention: Duration) {
    loop {
        match state
            .metrics
            .job(Job::UploadCleanup, cleanup(&state, retention).await)
        {
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
