//! `/api/1/datasets/{id}/resources/{rid}/checks/` and `…/check/` (rudata extensions): a remote
//! resource's check history, and a publisher's signal that its file changed (an immediate check).

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::lookup;
use crate::auth::{AuthUser, Caller, require_edit};
use crate::domain::time::to_api;
use crate::error::ApiError;
use crate::ops::checks::HISTORY_LIMIT;
use crate::ops::resources::MISSING_RESOURCE;
use crate::state::AppState;

/// `GET …/checks/`: the resource's last checks, newest first, and when the next one is due.
pub async fn list_resource_checks(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_read(&state, caller.identity(), &key, &uri).await?;
    let rid = lookup::resource_key(&rid)?;
    if state
        .store
        .find_resource(&row.dataset.id, &rid)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(MISSING_RESOURCE.into()));
    }
    let schedule = state.store.find_check_schedule(&rid).await?;
    let history = state.store.list_check_history(&rid, HISTORY_LIMIT).await?;
    let data: Vec<Value> = history
        .iter()
        .map(|c| {
            json!({
                "date": to_api(&c.checked_at),
                "status": c.status,
                "available": c.available,
                "result": c.changed,
                "error": c.error,
            })
        })
        .collect();
    let response = axum::Json(json!({
        "checked": schedule.is_some(),
        "next_check": schedule.map(|(due, _)| to_api(&due)),
        "data": data,
    }))
    .into_response();
    Ok(crate::api::cache::only_dataset(response, &row.dataset.id))
}

/// `POST …/check/`: queues an immediate check of the resource (edit permission); 202.
pub async fn check_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let rid = lookup::resource_key(&rid)?;
    crate::ops::checks::signal_check(&state, &row.dataset.id, &rid).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"status": "queued"})),
    )
        .into_response())
}
