//! The response cache: anonymous reads of the API answered from the bytes of an earlier identical
//! read, as long as nothing was written since.
//!
//! Exactness comes from the store's generations ([`crate::store::Changes`]): an answer is kept
//! under the generation current when its request started, and found only while that generation is
//! still current. A write committed by this node moves the generation before its response leaves
//! (its author reads it at once); another node's or the CLI's moves it when the watcher sees it
//! (within a second). While changes cannot be watched, nothing is kept or served from the cache.
//!
//! What is kept: answers (but server errors) to `GET` requests without an API key under `/api/`,
//! whose body has a known size under [`MAX_ENTRY`] (a streamed document of a very large dataset is
//! not kept). Not
//! kept: `/api/1/me…` (always needs a key anyway), the catalog exports (streamed), and requests
//! whose answer depends on the current time (`last_update_range`). The key holds everything else
//! an answer depends on: the minute (see [`Key`]), the `Host` (absolute URLs are built from it when no public URL is set),
//! the path and query, and `X-Fields`.

use axum::body::HttpBody as _;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;

use crate::error::ApiError;
use crate::state::AppState;

/// The largest answer kept, in bytes.
const MAX_ENTRY: u64 = 4 << 20;

/// How many entries the cache expects to hold (it sizes its tables by this), for its byte budget.
const AVERAGE_ENTRY: u64 = 8 << 10;

/// The header telling whether an answer came from the cache (`hit`) or was computed (`miss`).
pub const CACHE_HEADER: &str = "x-rudata-cache";

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    generation: u64,
    /// The minute the answer was made in: what is derived from the time (a dataset's quality
    /// tells whether it was updated as often as its frequency says) is at most a minute old.
    minute: i64,
    host: Option<HeaderValue>,
    uri: String,
    fields: Option<HeaderValue>,
}

#[derive(Clone)]
enum Entry {
    Answer(Answer),
    /// This request's answer cannot be kept: run it.
    Pass,
}

#[derive(Clone)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<Key, Entry> for Weight {
    fn weight(&self, key: &Key, entry: &Entry) -> u64 {
        let body = match entry {
            Entry::Answer(a) => a.body.len(),
            Entry::Pass => 0,
        };
        (key.uri.len() + body + 256) as u64
    }
}

/// Answers kept, bounded by their size in bytes (least recently used first out).
pub struct ResponseCache {
    entries: Option<quick_cache::sync::Cache<Key, Entry, Weight>>,
}

impl ResponseCache {
    /// A cache of at most `bytes` bytes; `0` keeps nothing.
    pub fn new(bytes: u64) -> Self {
        let entries = (bytes > 0).then(|| {
            let items = (bytes / AVERAGE_ENTRY).max(16) as usize;
            quick_cache::sync::Cache::with_weighter(items, bytes, Weight)
        });
        ResponseCache { entries }
    }
}

/// Middleware: answers from the cache, or runs the request and keeps its answer. Identical
/// requests arriving while the answer is being computed wait for it rather than compute it again
/// (after a write, or at the turn of a minute, a popular page is computed once, not once per
/// waiting client).
pub async fn cached(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(entries) = &state.cache.entries else {
        return next.run(req).await;
    };
    if !cacheable(&req) {
        return next.run(req).await;
    }
    // Read before the request runs: what it reads is at least as new as this generation.
    let Some(generation) = state.store.changes().current() else {
        return next.run(req).await;
    };
    let key = Key {
        generation,
        minute: crate::domain::time::now().timestamp().div_euclid(60),
        host: req.headers().get(header::HOST).cloned(),
        uri: req.uri().to_string(),
        fields: req.headers().get(super::mask::HEADER).cloned(),
    };
    let guard = match entries.get_value_or_guard_async(&key).await {
        Ok(Entry::Answer(answer)) => {
            let mut response = Response::new(Body::from(answer.body));
            *response.status_mut() = answer.status;
            *response.headers_mut() = answer.headers;
            mark(&mut response, "hit");
            return response;
        }
        Ok(Entry::Pass) => return next.run(req).await,
        Err(guard) => guard,
    };
    let response = next.run(req).await;
    // Not kept: server errors (they may pass) and streamed or very large answers. Those who wait
    // for this key, and those who come after, then compute their own answer.
    if response.status().is_server_error()
        || response
            .body()
            .size_hint()
            .exact()
            .is_none_or(|n| n > MAX_ENTRY)
    {
        let _ = guard.insert(Entry::Pass);
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_ENTRY as usize).await {
        Ok(body) => body,
        // Not seen: the bodies of known size are in memory already.
        Err(e) => {
            return ApiError::Internal(anyhow::anyhow!("reading an answer: {e}")).into_response();
        }
    };
    let _ = guard.insert(Entry::Answer(Answer {
        status: parts.status,
        headers: parts.headers.clone(),
        body: body.clone(),
    }));
    let mut response = Response::from_parts(parts, Body::from(body));
    mark(&mut response, "miss");
    response
}

fn mark(response: &mut Response, how: &'static str) {
    response
        .headers_mut()
        .insert(CACHE_HEADER, HeaderValue::from_static(how));
}

/// Whether the answer to `req` depends only on the catalog and what the key holds.
fn cacheable(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == Method::GET
        && !req.headers().contains_key("x-api-key")
        && path.starts_with("/api/")
        && !path.starts_with("/api/1/me")
        && !path.starts_with("/api/1/site/")
        && !req
            .uri()
            .query()
            .is_some_and(|q| q.contains("last_update_range"))
}
