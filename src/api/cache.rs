//! The response cache: anonymous reads of the API answered from the bytes of an earlier identical
//! read, as long as nothing was written since.
//!
//! Exactness comes from the store's generations ([`crate::store::Changes`]): an answer is kept
//! under the generation current when its request started, and found only while that generation is
//! still current. A write committed by this node moves the generation before its response leaves
//! (its author reads it at once); another node's or the CLI's moves it when the watcher sees it
//! (within a second). While changes cannot be watched, nothing is kept or served from the cache.
//!
//! What is kept: answers (but server errors) to `GET` requests under `/api/` and of the web site's
//! pages (`web::is_page`; `/` keyed by `Accept-Language` too), anonymous or whose
//! API key authenticated, whose body has a known size under [`MAX_ENTRY`] (a streamed document of
//! a very large dataset is not kept). Not kept: `/api/1/me…`, the catalog exports (streamed), the
//! state of chunked uploads, and requests whose answer depends on the current time
//! (`last_update_range`). The key holds
//! everything else an answer depends on: the minute (see [`Key`]), the `Host` (absolute URLs are
//! built from it when no public URL is set), the path and query, `X-Fields`, and the API key's
//! keyed hash (an identity is the same for a key as long as the generation is).
//!
//! A remote check's write (`WriteTx::commit_for_dataset`) leaves the generation alone: an answer
//! that shows one dataset (its documents, its resources, their checks: the handler says so with
//! [`OnlyDataset`]) is dropped when a check of that dataset is recorded, and any other (lists,
//! search) at most a second later (see `store::changes`), so that the checks, many a second on a
//! large portal, do not empty the cache.
//!
//! Two ways in:
//!
//! - [`front`], before the router and every layer: a hit is answered there with what the layers
//!   outside the cache add (request id, `nosniff`, rate-limit headers, 304, access log), so that a
//!   read served from memory costs no layer, no routing and no query. It takes the requests whose
//!   answer needs nothing else from those layers (no `Origin`, no `If-Modified-Since`), and an API
//!   key only when this node holds its identity resolved (see `auth::identify_known`); anything
//!   else goes on through the layers. It compresses as the compression layer would, once per
//!   answer and coding: the compressed copies are kept with the answer.
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

use std::sync::{Arc, OnceLock};

use super::http_cache::Coding;
use crate::domain::rate_limit::Subject;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Changes, Made, Mark};

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
    /// `Accept-Language`, for the site's page in the visitor's language (`/`).
    language: Option<HeaderValue>,
}

#[derive(Clone)]
enum Entry {
    /// Shared: a hit clones a pointer, not the answer.
    Answer(Arc<Answer>),
    /// This request's answer cannot be kept: run it.
    Pass,
}

#[derive(Clone)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// The body compressed, per [`Coding`], made by the first request asking for it (`None`: the
    /// answer is not compressed, or its compression failed).
    encoded: Arc<[OnceLock<Option<Bytes>>; 3]>,
    /// What the checks' writes may make stale in it.
    made: Made,
    /// Its route and what it counts, for the metrics of a hit.
    tag: crate::metrics::Tag,
}

/// A response extension: what this answer shows of the remote checks' results comes from dataset
/// `0` alone (its documents, its resources and their checks), so a check of another dataset leaves
/// it in the cache. Without it, an answer is taken to show many datasets (a list).
#[derive(Clone, Debug)]
pub struct OnlyDataset(pub String);

/// `response`, marked as showing dataset `id` alone (see [`OnlyDataset`]).
pub fn only_dataset(mut response: Response, id: &str) -> Response {
    response
        .extensions_mut()
        .insert(OnlyDataset(id.to_string()));
    response
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<Key, Entry> for Weight {
    fn weight(&self, key: &Key, entry: &Entry) -> u64 {
        let body = match entry {
            // Room for the compressed copies too (a JSON answer compresses to a fifth or less).
            Entry::Answer(a) => a.body.len() + a.body.len() / 2,
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
    let since = state.store.changes().mark();
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
        return keep(entries, key, since, response, None).await;
    }
    let key = key_of(&req, generation, None);
    let guard = match entries.get_value_or_guard_async(&key).await {
        Ok(Entry::Answer(answer)) if state.store.changes().still_true(&answer.made) => {
            let mut response = Response::new(Body::from(answer.body.clone()));
            *response.status_mut() = answer.status;
            *response.headers_mut() = answer.headers.clone();
            response.extensions_mut().insert(answer.tag.clone());
            mark(&mut response, "hit");
            return response;
        }
        // A check changed what it shows: made again, and kept in its place.
        Ok(Entry::Answer(_)) => {
            let response = next.run(req).await;
            return keep(entries, key, since, response, None).await;
        }
        Ok(Entry::Pass) => return next.run(req).await,
        Err(guard) => guard,
    };
    let response = next.run(req).await;
    keep(entries, key, since, response, Some(guard)).await
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
    since: Mark,
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
    let dataset = parts.extensions.get::<OnlyDataset>().map(|d| d.0.as_str());
    let made = Changes::made(since, dataset);
    let body = match axum::body::to_bytes(body, MAX_ENTRY as usize).await {
        Ok(body) => body,
        // Not seen: the bodies of known size are in memory already.
        Err(e) => {
            return ApiError::Internal(anyhow::anyhow!("reading an answer: {e}")).into_response();
        }
    };
    insert(Entry::Answer(Arc::new(Answer {
        status: parts.status,
        headers: parts.headers.clone(),
        body: body.clone(),
        encoded: Arc::default(),
        made,
        tag: parts.extensions.get().cloned().unwrap_or_default(),
    })));
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
        language: crate::web::negotiates_language(req.uri().path())
            .then(|| req.headers().get(header::ACCEPT_LANGUAGE).cloned())
            .flatten(),
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
        // Whatever the layers would change or refuse: CORS, dates to compare, an absolute-form
        // target (its key differs), a head too large. (Compression is done here, as they do it.)
        || h.contains_key(header::ORIGIN)
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
    // Made stale by a check: made again by the layers.
    if !state.store.changes().still_true(&answer.made) {
        return Err(req);
    }
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
    let coding = super::http_cache::negotiate(req.headers());
    let mut response = Response::new(Body::empty());
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers.clone();
    mark(&mut response, "hit");
    let mut response = match super::http_cache::not_modified(req.headers(), &response) {
        Some(not_modified) => not_modified,
        None => {
            let body = match coding {
                Some(coding) => encoded(&answer.body, &answer.encoded, coding, &mut response),
                None => answer.body.clone(),
            };
            *response.body_mut() = Body::from(body);
            response
        }
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

/// The body to send for `coding`: its compressed copy (made now if it is the first request for it),
/// with the headers the compression layers would give it; or `body` as it is when the layers would
/// not compress it.
fn encoded(
    body: &Bytes,
    copies: &[OnceLock<Option<Bytes>>; 3],
    coding: Coding,
    response: &mut Response,
) -> Bytes {
    use super::http_cache::{encoded_tag, would_compress};
    if !would_compress(response.status(), response.headers(), body.len() as u64) {
        return body.clone();
    }
    let copy = copies[coding.index()].get_or_init(|| match coding.encode(body) {
        Ok(bytes) => Some(Bytes::from(bytes)),
        Err(e) => {
            tracing::warn!(error = %e, coding = coding.name(), "compressing a kept answer");
            None
        }
    });
    let Some(copy) = copy else {
        return body.clone();
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(coding.name()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(copy.len()));
    if let Some(tag) = h
        .get(header::ETAG)
        .and_then(|t| encoded_tag(t, coding.name()))
    {
        h.insert(header::ETAG, tag);
    }
    copy.clone()
}

fn mark(response: &mut Response, how: &'static str) {
    response
        .headers_mut()
        .insert(CACHE_HEADER, HeaderValue::from_static(how));
}

/// Whether the answer to `req` depends only on the catalog and what the key holds. The web site's
/// pages are anonymous reads of the catalog too.
fn cacheable(req: &Request) -> bool {
    let path = req.uri().path();
    if req.method() == Method::GET && crate::web::is_page(path) {
        return true;
    }
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
