//! Probes for orchestrators: `GET /healthz` (the process answers) and `GET /readyz` (it can serve:
//! the database and the file storage answer). `GET /health` stays as it was.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// How long each dependency may take to answer before the node is reported not ready: a probe must
/// answer within the orchestrator's own timeout even when a dependency hangs.
const READY_LIMIT: Duration = Duration::from_secs(2);
/// Seconds a client (or load balancer) should wait before asking again.
const RETRY_AFTER: &str = "5";
/// A key no object has: `HEAD` on it reaches the storage and answers "not found" when it is up.
const PROBE_KEY: &str = "readyz-probe";

/// `GET /healthz`: 200 while the process runs, whatever its dependencies say.
pub async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: 200 when the database answers a trivial query and the file storage answers, each
/// within [`READY_LIMIT`]; otherwise 503 with `Retry-After`, naming what failed (the details go to
/// the log only).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (db, files) = tokio::join!(
        tokio::time::timeout(READY_LIMIT, state.store.ping()),
        tokio::time::timeout(READY_LIMIT, state.files.exists(PROBE_KEY)),
    );
    let mut failed = Vec::new();
    match db {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = ?e, "readiness: the database does not answer");
            failed.push("database");
        }
        Err(_) => failed.push("database (timed out)"),
    }
    match files {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = ?e, "readiness: the file storage does not answer");
            failed.push("file storage");
        }
        Err(_) => failed.push("file storage (timed out)"),
    }
    if failed.is_empty() {
        return axum::Json(json!({"status": "ok"})).into_response();
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER)],
        axum::Json(json!({"message": format!("Not ready: {}", failed.join(", "))})),
    )
        .into_response()
}
