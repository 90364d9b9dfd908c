//! `GET /metrics`: the node's metrics in Prometheus' text format (`crate::metrics`).
//!
//! On the API's address it answers only with `Authorization: Bearer <RUDATA_METRICS_TOKEN>`: 401
//! without it or with another token (a scraper that was given the wrong token is told so, with
//! `WWW-Authenticate`; that the path exists is no secret, rudata's source says so), and 404 when no
//! token is set, as for any path that is not served. On `RUDATA_METRICS_BIND`'s address (a private
//! interface) it answers to anyone ([`metrics_router`]).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /metrics` on the API's address.
pub async fn get_metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return Err(ApiError::not_found());
    };
    if !bearer_is(&headers, token) {
        return Err(ApiError::Unauthorized(
            "The metrics need `Authorization: Bearer <metrics token>`.".into(),
        ));
    }
    Ok(render(&state))
}

/// Whether the request's `Authorization` is `Bearer <token>` (the scheme in any case, as HTTP's
/// authentication schemes are). Compared as SHA-256 digests, so the time taken tells nothing about
/// how much of the token was right.
fn bearer_is(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .and_then(|(scheme, given)| scheme.eq_ignore_ascii_case("bearer").then_some(given))
    else {
        return false;
    };
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

fn render(state: &AppState) -> Response {
    (
        [
            (header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        state.metrics.render(&state.store),
    )
        .into_response()
}

/// The routes of `RUDATA_METRICS_BIND`'s address: `/metrics`, to anyone; any other path is 404.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { render(&state) }),
        )
        .fallback(|| async { ApiError::not_found() })
        .with_state(state)
}
