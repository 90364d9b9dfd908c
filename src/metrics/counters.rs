//! Views and downloads of datasets and resources (their `metrics`), counted in memory per node and
//! added to the store's totals every `RUDATA_COUNTER_FLUSH` (and at a graceful stop): no request
//! writes. The totals are exact across nodes, since each flush adds increments.
//!
//! What counts: a `GET` of one dataset through the API (v1 or v2) or of its web page is a view of
//! the dataset (the answer carries a [`Count`]); a file served by `/s/{key}` (whole, or from
//! its first byte) is a download of its resource and of the resource's dataset, and so is the
//! permalink `/api/1/datasets/r/{rid}` when it sends the client elsewhere (a remote file, or the
//! files' public URL): when it sends them to `/s/`, the download is counted there, once. Nothing is
//! counted for an answer that refuses or fails (4xx, 5xx).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::state::AppState;
use crate::store::ObjectCounts;

/// What an answer counts, put on it (a response extension) by its handler; counted by
/// `metrics::observe` once the answer is known to be a success, and kept with the answer by the
/// response cache.
#[derive(Clone, Debug)]
pub enum Count {
    /// A view of the dataset of this id.
    View(Arc<str>),
    /// A download of a resource's file.
    Download {
        dataset: Arc<str>,
        resource: Arc<str>,
    },
}

/// Counts not yet flushed, by object id.
#[derive(Default)]
pub struct Counters {
    pending: Mutex<HashMap<Arc<str>, ObjectCounts>>,
}

impl Counters {
    /// Counts one view or download (an id's first count since the last flush allocates its entry;
    /// the next ones do not).
    pub fn count(&self, count: &Count) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match count {
            Count::View(dataset) => pending.entry(Arc::clone(dataset)).or_default().views += 1,
            Count::Download { dataset, resource } => {
                pending.entry(Arc::clone(resource)).or_default().downloads += 1;
                pending.entry(Arc::clone(dataset)).or_default().downloads += 1;
            }
        }
    }

    fn take(&self) -> HashMap<Arc<str>, ObjectCounts> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts back counts a flush could not write, to go with the next one.
    fn restore(&self, counts: HashMap<Arc<str>, ObjectCounts>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (id, c) in counts {
            let entry = pending.entry(id).or_default();
            entry.views += c.views;
            entry.downloads += c.downloads;
        }
    }
}

/// Adds this node's counts to the store's totals, in one transaction; returns how many objects
/// were counted. On failure the counts are kept for the next flush.
pub async fn flush(state: &AppState) -> anyhow::Result<usize> {
    let pending = state.metrics.counters.take();
    if pending.is_empty() {
        return Ok(0);
    }
    let rows: Vec<(String, ObjectCounts)> =
        pending.iter().map(|(id, c)| (id.to_string(), *c)).collect();
    match state.store.add_object_counts(&rows).await {
        Ok(()) => Ok(rows.len()),
        Err(e) => {
            state.metrics.counters.restore(pending);
            Err(e.into())
        }
    }
}

/// Runs inside `serve`: a flush every `interval`.
pub async fn run(state: AppState, interval: std::time::Duration) {
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = flush(&state).await {
            tracing::warn!(error = ?e, "cannot flush the view and download counters; kept for the next flush");
        }
    }
}
