//! Operational metrics (`GET /metrics`, Prometheus' text format) and the views and downloads of
//! datasets and resources (`counters`).
//!
//! Every handle is registered once, when the state is built; a request then costs two look-ups in
//! a family keyed by borrowed values (the method, the route's template, the status: no allocation,
//! no lock held across an await) and one histogram observation. The label sets stay bounded: the
//! route is the router's template (`/api/1/datasets/{id}`), never the path; what no route matched is
//! `unmatched`.
//!
//! Requests are observed in two places: [`observe`], the outermost layer of the router, and
//! [`Metrics::answered_early`], called by `api::cache::front` for the reads it answers before the
//! router. For the latter, the answers the cache keeps carry a [`Tag`] (the route that made them,
//! and what they count), put on them by [`tag`], the layer right inside the cache.

pub mod counters;

use std::hash::{Hash, Hasher};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::api::cache::CACHE_HEADER;
use crate::state::AppState;

pub use counters::{Count, Counters, flush};

/// The upper bounds of the latency histograms' buckets, in seconds: from half a millisecond (an
/// answer from the cache) to ten seconds (a large upload's final request).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route a request matched: the router's template, `unmatched` when none did.
#[derive(Clone, Debug, Default)]
pub struct Route(Option<MatchedPath>);

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl Hash for Route {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: Route,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: &'static str,
    route: Route,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UploadLabels {
    kind: &'static str,
}

type LatencyFamily = Family<LatencyLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// A scheduled job, as the metrics name it.
#[derive(Debug, Clone, Copy)]
pub enum Job {
    Purge,
    UploadCleanup,
    Checks,
}

impl Job {
    fn label(self) -> &'static str {
        match self {
            Job::Purge => "purge",
            Job::UploadCleanup => "upload_cleanup",
            Job::Checks => "checks",
        }
    }
}

/// Every metric of a node, registered once, and the node's views and downloads not yet flushed.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    cache: Family<ResultLabels, Counter>,
    uploads: Family<UploadLabels, Counter>,
    uploaded_bytes: Counter,
    job_runs: Family<JobLabels, Counter>,
    job_failures: Family<JobLabels, Counter>,
    checks: Family<ResultLabels, Counter>,
    pool_open: Family<PoolLabels, Gauge>,
    pool_idle: Family<PoolLabels, Gauge>,
    pool_max: Family<PoolLabels, Gauge>,
    /// Views and downloads counted since the last flush.
    pub counters: Counters,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("rudata");
        let requests = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            Family::clone(&requests),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to an answer's head, by method and route template",
            latency.clone(),
        );
        let cache = Family::default();
        registry.register(
            "response_cache",
            "Reads of the API looked up in the response cache: hit or miss",
            Family::clone(&cache),
        );
        let uploads = Family::default();
        registry.register(
            "uploads",
            "Files uploaded and recorded, single (one request) or chunked (in parts)",
            Family::clone(&uploads),
        );
        let uploaded_bytes = Counter::default();
        registry.register(
            "uploaded_bytes",
            "Bytes of the files uploaded and recorded",
            uploaded_bytes.clone(),
        );
        let job_runs = Family::default();
        registry.register(
            "job_runs",
            "Runs of the scheduled jobs (purge, upload_cleanup; checks: one per remote check)",
            Family::clone(&job_runs),
        );
        let job_failures = Family::default();
        registry.register(
            "job_failures",
            "Runs of the scheduled jobs that failed",
            Family::clone(&job_failures),
        );
        let checks = Family::default();
        registry.register(
            "check_results",
            "Remote checks by result: available, unavailable, postponed; changed also counts as one of the first two",
            Family::clone(&checks),
        );
        let pool_open = Family::default();
        registry.register(
            "db_pool_connections",
            "Connections open in the database pool",
            Family::clone(&pool_open),
        );
        let pool_idle = Family::default();
        registry.register(
            "db_pool_idle_connections",
            "Idle connections in the database pool",
            Family::clone(&pool_idle),
        );
        let pool_max = Family::default();
        registry.register(
            "db_pool_max_connections",
            "Connections the database pool may open",
            Family::clone(&pool_max),
        );
        Metrics {
            registry,
            requests,
            latency,
            cache,
            uploads,
            uploaded_bytes,
            job_runs,
            job_failures,
            checks,
            pool_open,
            pool_idle,
            pool_max,
            counters: Counters::default(),
        }
    }
}

/// What the response cache keeps with an answer, for [`Metrics::answered_early`]: the route that
/// made it, and the view or download it counts.
#[derive(Clone, Debug, Default)]
pub struct Tag {
    route: Route,
    count: Option<Count>,
}

/// The method as a label: the API's methods by name, anything else `other` (bounded).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Whether an answer of this status counts as a view or a download: not a refusal, nor an error,
/// nor a 304 (the client had it already).
fn counts(status: StatusCode) -> bool {
    (status.is_success() || status.is_redirection()) && status != StatusCode::NOT_MODIFIED
}

impl Metrics {
    fn request(&self, method: &Method, route: &Route, response: &Response, started: Instant) {
        let method = method_label(method);
        let labels = RequestLabels {
            method,
            route: route.clone(),
            status: response.status().as_u16(),
        };
        self.requests.get_or_create(&labels).inc();
        let labels = LatencyLabels {
            method,
            route: labels.route,
        };
        self.latency
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }

    fn cache_result(&self, result: &'static str) {
        self.cache.get_or_create(&ResultLabels { result }).inc();
    }

    /// A read `api::cache::front` answered from the cache (or refused, past its rate limit) before
    /// the router: counted as the router's layers would have counted it.
    pub fn answered_early(&self, tag: &Tag, response: &Response, started: Instant) {
        self.request(&Method::GET, &tag.route, response, started);
        // Answered from the cache, unless refused past its rate limit.
        if response.status() != StatusCode::TOO_MANY_REQUESTS {
            self.cache_result("hit");
        }
        if let Some(count) = tag.count.as_ref().filter(|_| counts(response.status())) {
            self.counters.count(count);
        }
    }

    /// A file uploaded and recorded.
    pub fn uploaded(&self, bytes: i64, chunked: bool) {
        let kind = if chunked { "chunked" } else { "single" };
        self.uploads.get_or_create(&UploadLabels { kind }).inc();
        self.uploaded_bytes.inc_by(bytes.max(0) as u64);
    }

    /// One run of a job, and whether it failed; hands `result` back.
    pub fn job<T, E>(&self, job: Job, result: Result<T, E>) -> Result<T, E> {
        let labels = JobLabels { job: job.label() };
        self.job_runs.get_or_create(&labels).inc();
        if result.is_err() {
            self.job_failures.get_or_create(&labels).inc();
        }
        result
    }

    /// One remote check: its run (a failure when it could not be recorded) and its result.
    pub fn check<E>(
        &self,
        verdict: &crate::domain::checks::Verdict,
        recorded: Result<bool, E>,
    ) -> Result<bool, E> {
        let result = match verdict.available {
            Some(true) => "available",
            Some(false) => "unavailable",
            None => "postponed",
        };
        self.checks.get_or_create(&ResultLabels { result }).inc();
        if verdict.change.is_some() {
            self.checks
                .get_or_create(&ResultLabels { result: "changed" })
                .inc();
        }
        self.job(Job::Checks, recorded)
    }

    /// The metrics in Prometheus' text format, the pools' gauges read now.
    pub fn render(&self, store: &crate::store::Store) -> String {
        for pool in store.pool_states() {
            let labels = PoolLabels { pool: pool.name };
            self.pool_open
                .get_or_create(&labels)
                .set(i64::from(pool.open));
            self.pool_idle.get_or_create(&labels).set(pool.idle as i64);
            self.pool_max
                .get_or_create(&labels)
                .set(i64::from(pool.max));
        }
        let mut text = String::new();
        // Writing into a `String` cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Middleware, outermost in the router: counts and times every request that reaches the router
/// (its route is matched by then), the cache's hits and misses, and the views and downloads its
/// answer counts.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = Route(req.extensions().get::<MatchedPath>().cloned());
    let response = next.run(req).await;
    let metrics = &state.metrics;
    metrics.request(&method, &route, &response, started);
    match response
        .headers()
        .get(CACHE_HEADER)
        .map(axum::http::HeaderValue::as_bytes)
    {
        Some(b"hit") => metrics.cache_result("hit"),
        Some(b"miss") => metrics.cache_result("miss"),
        _ => {}
    }
    if method == Method::GET
        && counts(response.status())
        && let Some(count) = response
            .extensions()
            .get::<Tag>()
            .and_then(|t| t.count.as_ref())
    {
        metrics.counters.count(count);
    }
    response
}

/// Middleware, right inside the response cache: puts on the answer to a `GET` (what the cache
/// keeps, and what counts) its [`Tag`] (the route, and the [`Count`] a handler put on it).
pub async fn tag(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let route = Route(req.extensions().get::<MatchedPath>().cloned());
    let mut response = next.run(req).await;
    let count = response.extensions_mut().remove::<Count>();
    response.extensions_mut().insert(Tag { route, count });
    response
}
