//! Remote resource checks (DESIGN §3.5): a publisher's signal that a remote file changed, and one
//! check of a resource taken from the queue, recorded in one transaction (the resource's extras,
//! and on a change its date, size, type and checksum; the dataset's `last_update`; the queue row and
//! a line of history). When checks run is `jobs::checks`; what they fetch, `fetch`.

use chrono::{DateTime, Utc};

use super::datasets::lock;
use super::resources::MISSING_RESOURCE;
use crate::domain::activity::{Actor, NewActivity};
use crate::domain::checks::{Outcome, Schedule, Verdict, apply_verdict, is_checked, judge};
use crate::domain::dataset::Dataset;
use crate::domain::resource::Resource;
use crate::domain::time::now;
use crate::error::ApiError;
use crate::fetch::{FetchError, Fetcher};
use crate::state::AppState;
use crate::store::ClaimedCheck;

/// Lines of history a resource's checks endpoint returns.
pub const HISTORY_LIMIT: i64 = 100;

/// Queues an immediate check of resource `rid` (`POST …/check/`). Only remote HTTP(S) resources
/// are checked.
pub async fn signal_check(state: &AppState, dataset_id: &str, rid: &str) -> Result<(), ApiError> {
    let mut tx = state.store.begin().await?;
    lock(&mut tx, dataset_id).await?;
    let r = tx
        .find_resource(dataset_id, rid)
        .await?
        .ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
    if !is_checked(&r) || !tx.make_check_due(rid, now()).await? {
        return Err(ApiError::BadRequest(
            "Only remote resources with an HTTP(S) URL are checked".into(),
        ));
    }
    tx.commit().await?;
    Ok(())
}

/// The schedule's bounds from the configuration.
pub fn schedule(state: &AppState) -> Schedule {
    Schedule {
        min: state.config.checks.min_interval,
        max: state.config.checks.max_interval,
    }
}

/// Fetches a claimed check's URL, reading at most `max_size` bytes, and judges the answer (no
/// write).
pub async fn observe(
    fetcher: &Fetcher,
    claimed: &ClaimedCheck,
    schedule: Schedule,
    max_size: u64,
) -> (Verdict, DateTime<Utc>) {
    let outcome = match fetcher
        .check(&claimed.url, &claimed.previous.validators, max_size)
        .await
    {
        Ok(observed) => Outcome::Answer(observed),
        Err(e) => Outcome::Failed {
            timeout: matches!(e, FetchError::Timeout),
            error: e.to_string(),
        },
    };
    let at = now();
    (judge(&claimed.previous, &outcome, at, schedule), at)
}

/// Records a check's verdict, if `holder` still holds it and the resource still has that URL.
/// Returns whether it was recorded.
pub async fn record_check(
    state: &AppState,
    claimed: &ClaimedCheck,
    holder: &str,
    verdict: &Verdict,
    at: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let mut tx = state.store.begin().await?;
    let Some(before) = tx.lock_dataset(&claimed.dataset_id).await? else {
        return Ok(false);
    };
    let Some(mut r) = tx
        .find_resource(&claimed.dataset_id, &claimed.resource_id)
        .await?
    else {
        return Ok(false);
    };
    if r.url.trim() != claimed.url {
        return Ok(false);
    }
    let was_available = !r.is_reported_unavailable();
    let mut moved = false;
    if verdict.available.is_some() {
        moved = apply_verdict(&mut r, verdict);
        tx.update_resource(&claimed.dataset_id, &r).await?;
    }
    if moved {
        // `last_update` follows the resource's new date; the dataset's own `last_modified` is not
        // a publisher's edit and stays.
        let mut ds = before.clone();
        tx.update_dataset(&before, &mut ds).await?;
    }
    if !tx.finish_check(claimed, holder, verdict, at).await? {
        return Ok(false);
    }
    if let Some(activity) = check_activity(claimed, verdict, was_available, &before, &r) {
        tx.record(&Actor::none(), &activity).await?;
    }
    // Only this dataset's answers (and the lists') are made stale: see `store::changes`.
    tx.commit_for_dataset(&claimed.dataset_id).await?;
    // What a publisher wants to hear about, as a structured line too (it is in the activity log).
    if verdict.available == Some(false) && was_available {
        tracing::warn!(
            dataset = %claimed.dataset_id,
            resource = %claimed.resource_id,
            url = %claimed.url,
            status = verdict.status,
            error = verdict.error.as_deref(),
            "remote resource became unavailable"
        );
    } else if let Some(change) = verdict.change.as_ref().filter(|_| claimed.previous.checked) {
        tracing::info!(
            dataset = %claimed.dataset_id,
            resource = %claimed.resource_id,
            url = %claimed.url,
            detection = change.detection,
            "remote resource changed"
        );
    }
    Ok(true)
}

/// The activity log's entry for a check, when it tells a publisher something: the resource became
/// unavailable, or its content changed (a check is a job's write: no actor).
fn check_activity(
    claimed: &ClaimedCheck,
    verdict: &Verdict,
    was_available: bool,
    ds: &Dataset,
    r: &Resource,
) -> Option<NewActivity> {
    if verdict.available == Some(false) && was_available {
        let mut a = NewActivity::resource("dataset:resource:unavailable", ds, r)
            .with_extra("url", claimed.url.clone().into());
        if let Some(status) = verdict.status {
            a = a.with_extra("status", status.into());
        }
        if let Some(error) = &verdict.error {
            a = a.with_extra("error", error.clone().into());
        }
        Some(a)
    } else {
        let change = verdict
            .change
            .as_ref()
            .filter(|_| claimed.previous.checked)?;
        Some(
            NewActivity::resource("dataset:resource:changed", ds, r)
                .with_extra("url", claimed.url.clone().into())
                .with_extra("detection", change.detection.into()),
        )
    }
}

/// The resource a claimed check is of, unless it or its dataset is gone (deleted: its check waits
/// at the end of the schedule).
pub async fn resource_to_check(
    state: &AppState,
    claimed: &ClaimedCheck,
) -> Result<Option<Resource>, ApiError> {
    Ok(state
        .store
        .find_resource_anywhere(&claimed.resource_id)
        .await?
        .filter(|(_, row)| row.dataset.deleted.is_none())
        .map(|(r, _)| r))
}
