//! The response cache: anonymous reads of the API answered from the bytes of an earlier identical
//! read, as long as nothing was written since.
//!
//! Exactness comes from the store's generations ([`crate::store::Changes`]): an answer is kept
//! under the generation current when its request started, and found only while that generation is
//! still current. A write committed by this node moves the generation before its response leaves
//! (its author reads it at once); another node's or the CLI's moves it when the watcher sees it
//! (within a second). While changes cannot be watched, nothing is kept or served from the cache.
//!
//! What is kept: answers (but server errors) to `GET` requests under `/api/`, anonymous or whose
//! API key authenticated, whose body has a known size under [`MAX_ENTRY`] (a streamed document of
//! a very large dataset is not kept). Not kept: `/api/1/me…`, the catalog exports (streamed), the
//! state of chunked uploads, and requests whose answer depends on the current time
//! (`last_update_range`). The key holds
//! everything else an answer depends on: the minute (see [`Key`]), the `Host` (absolute URLs are
//! built from it when no public URL is set), the path and query, `X-Fields`, and the API key's
//! keyed hash (an identity is the same for a key as long as the generation is).
//!
//! Two ways in:
//!
//! - [`front`], before the router and every layer: a hit is answered there with what the layers
//!   outside the cache add (request id, `nosniff`, rate-limit headers, 304, access log), so that a
//!   read served from memory costs no layer, no routing and no query. It takes the requests whose
//!   answer needs nothing else from those layers (no `Origin`, no `Accept-Encoding`, no
//!   `If-Modified-Since`), and an API key only when this node holds its identity resolved (see
//!   `auth::identify_known`); anything else goes on through the layers.
//! - [`cached`], the layer: misses are computed and kept there, and the requests [`front`] does
//!   not take are answered from the cache there (anonymous ones; keyed ones are computed, as the
//!   key is checked further in).

use axum::body::HttpBody as _;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;

use crate::domain::rate_limit::Subject;
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
    /// The API key's keyed hash, for an authenticated read.
    token: Option<String>,
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
    /// Its route and what it counts, for the metrics of a hit.
    tag: crate::metrics::Tag,
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
    // A keyed read is answered from the cache only by `front`, once its key is checked: here it is
    // computed, and kept when its key authenticated.
    if let Some(api_key) = req.headers().get("x-api-key") {
        let token = state
            .config
            .token_key
            .hash(String::from_utf8_lossy(api_key.as_bytes()).trim());
        let key = key_of(&req, generation, Some(token));
        let response = next.run(req).await;
        if response
            .extensions()
            .get::<super::rate_limit::Authenticated>()
            .is_none()
        {
            return response;
        }
        return keep(entries, key, response, None).await;
    }
    let key = key_of(&req, generation, None);
    let guard = match entries.get_value_or_guard_async(&key).await {
        Ok(Entry::Answer(answer)) => {
            let mut response = Response::new(Body::from(answer.body));
            *response.status_mut() = answer.status;
            *response.headers_mut() = answer.headers;
            response.extensions_mut().insert(answer.tag);
            mark(&mut response, "hit");
            return response;
        }
        Ok(Entry::Pass) => return next.run(req).await,
        Err(guard) => guard,
    };
    let response = next.run(req).await;
    keep(entries, key, response, Some(guard)).await
}

type Entries = quick_cache::sync::Cache<Key, Entry, Weight>;
type Guard<'a> = quick_cache::sync::PlaceholderGuard<
    'a,
    Key,
    Entry,
    Weight,
    quick_cache::DefaultHashBuilder,
    quick_cache::sync::DefaultLifecycle<Key, Entry>,
>;

/// Keeps `response` under `key` (through the placeholder of those waiting for it, if any) when it
/// may be kept, and answers it.
async fn keep(
    entries: &Entries,
    key: Key,
    response: Response,
    guard: Option<Guard<'_>>,
) -> Response {
    let insert = |entry: Entry| match guard {
        Some(guard) => {
            let _ = guard.insert(entry);
        }
        None => entries.insert(key, entry),
    };
    // Not kept: server errors (they may pass) and streamed or very large answers. Those who wait
    // for this key, and those who come after, then compute their own answer.
    if response.status().is_server_error()
        || response
            .body()
            .size_hint()
            .exact()
            .is_none_or(|n| n > MAX_ENTRY)
    {
        insert(Entry::Pass);
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
    insert(Entry::Answer(Answer {
        status: parts.status,
        headers: parts.headers.clone(),
        body: body.clone(),
        tag: parts.extensions.get().cloned().unwrap_or_default(),
    }));
    let mut response = Response::from_parts(parts, Body::from(body));
    mark(&mut response, "miss");
    response
}

fn key_of(req: &Request, generation: u64, token: Option<String>) -> Key {
    Key {
        generation,
        minute: crate::domain::time::now().timestamp().div_euclid(60),
        host: req.headers().get(header::HOST).cloned(),
        uri: req.uri().to_string(),
        fields: req.headers().get(super::mask::HEADER).cloned(),
        token,
    }
}

/// Answers `req` from the cache before any layer, as the layers would have answered it from the
/// cache (see the module's documentation), or hands it back to go through them.
pub async fn front(state: &AppState, req: Request) -> Result<Response, Request> {
    let started = std::time::Instant::now();
    let Some(entries) = &state.cache.entries else {
        return Err(req);
    };
    let h = req.headers();
    if !cacheable(&req)
        // Whatever the layers would change or refuse: CORS, compression, dates to compare, an
        // absolute-form target (its key differs), a head too large.
        || h.contains_key(header::ORIGIN)
        || h.contains_key(header::ACCEPT_ENCODING)
        || h.contains_key(header::IF_MODIFIED_SINCE)
        || req.uri().authority().is_some()
        || crate::app::head_refused(&req)
    {
        return Err(req);
    }
    let Some(generation) = state.store.changes().current() else {
        return Err(req);
    };
    // Rate limits as `rate_limit::limit` counts them: a request past its limit goes on to be
    // refused there (nothing was counted here).
    let limits = state.config.rate_limits;
    let keyed = h.contains_key("x-api-key");
    let ip = super::rate_limit::client_ip(&req, &state.config.trusted_proxies);
    let now = chrono::Utc::now().timestamp();
    let counters = &state.rate_limits;
    let token = if keyed {
        if limits.anonymous > 0
            && !counters
                .peek(Subject::failed_keys(ip), limits.anonymous, now)
                .allowed()
        {
            return Err(req);
        }
        // Only a key this node holds resolved: any other is resolved (or refused) by the layers.
        let Some((hash, _)) = crate::auth::identify_known(state, req.headers()).await else {
            return Err(req);
        };
        if limits.authenticated > 0
            && !counters
                .peek(Subject::token(&hash), limits.authenticated, now)
                .allowed()
        {
            return Err(req);
        }
        Some(hash)
    } else {
        None
    };
    let key = key_of(&req, generation, token);
    let Some(Entry::Answer(answer)) = entries.get(&key) else {
        return Err(req);
    };
    // Counted once found (a miss goes on to be counted by the layers).
    let decision = match &key.token {
        Some(hash) => (limits.authenticated > 0)
            .then(|| counters.hit(Subject::token(hash), limits.authenticated, now)),
        None => (limits.anonymous > 0)
            .then(|| counters.hit(Subject::address(ip), limits.anonymous, now)),
    };
    if let Some(refused) = decision.as_ref().filter(|d| !d.allowed()) {
        let mut response = super::rate_limit::too_many_requests(refused);
        crate::app::finish(&req, &mut response, started);
        state
            .metrics
            .answered_early(&answer.tag, &response, started);
        return Ok(response);
    }
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    mark(&mut response, "hit");
    let mut response = match super::http_cache::not_modified(req.headers(), &response) {
        Some(not_modified) => not_modified,
        None => response,
    };
    if let Some(decision) = &decision {
        super::rate_limit::tell(response.headers_mut(), decision);
    }
    crate::app::finish(&req, &mut response, started);
    state
        .metrics
        .answered_early(&answer.tag, &response, started);
    Ok(response)
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
        && path.starts_with("/api/")
        && !path.starts_with("/api/1/me")
        && !path.starts_with("/api/1/site/")
        // A chunked upload's state (its parts, kept on storage as they come) is not the catalog's.
        && !path.contains("/upload/")
        && !req
            .uri()
            .query()
            .is_some_and(|q| q.contains("last_update_range"))
}
