//! Rate limits at the HTTP edge: who the client is, which count a request goes to, and the answers
//! (`RateLimit-*` headers on every limited route, 429 past the limit). The counting itself is
//! `domain::rate_limit`; its sharing between nodes, `jobs::rate_limits`.
//!
//! - A request without `X-API-KEY` counts against its client's address, under the anonymous limit.
//! - A request whose key authenticates counts against its token, under the authenticated limit.
//! - A request whose key does not authenticate (unknown, revoked, expired...) counts against its
//!   client's address like an anonymous one, and against that address's failed keys: once those
//!   reach the anonymous limit, the address's keys are refused before they are looked up. So random
//!   keys buy no more requests than none, and cost no more lookups than the anonymous limit.
//!
//! The layer sits outside the response cache (an answer served from it is a request like any other)
//! and outside `authenticate`, which marks the responses of authenticated requests
//! ([`mark_authenticated`], just inside it). The client's address is the TCP peer's; a trusted
//! proxy's `X-Forwarded-For` is read from the right, the first address that is not itself a trusted
//! proxy being the client.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::domain::rate_limit::{Decision, Subject};
use crate::state::AppState;

/// Probes of load balancers and orchestrators, never limited.
const EXEMPT: &[&str] = &["/health", "/healthz", "/readyz"];

/// Marks the response of a request that an API key authenticated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Authenticated;

/// Middleware, just inside `authenticate`: tells [`limit`] that the key authenticated.
pub async fn mark_authenticated(req: Request, next: Next) -> Response {
    let authenticated = req
        .extensions()
        .get::<Caller>()
        .is_some_and(|c| c.identity().is_some());
    let mut response = next.run(req).await;
    if authenticated {
        response.extensions_mut().insert(Authenticated);
    }
    response
}

/// Middleware: counts the request, answers 429 past its limit, and tells the client where it stands.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = state.config.rate_limits;
    if (limits.anonymous == 0 && limits.authenticated == 0) || EXEMPT.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let counters = &state.rate_limits;
    let now = chrono::Utc::now().timestamp();
    let ip = client_ip(&req, &state.config.trusted_proxies);
    let Some(key) = req.headers().get("x-api-key") else {
        if limits.anonymous == 0 {
            return next.run(req).await;
        }
        let decision = counters.hit(Subject::address(ip), limits.anonymous, now);
        if !decision.allowed() {
            return too_many_requests(&decision);
        }
        let mut response = next.run(req).await;
        tell(response.headers_mut(), &decision);
        return response;
    };
    // The key as `authenticate` reads it.
    let key = String::from_utf8_lossy(key.as_bytes()).trim().to_string();
    let token = Subject::token(&state.config.token_key.hash(&key));
    // Before the lookup: an address that sent too many bad keys, or a token past its limit.
    if limits.anonymous > 0 {
        let failed = counters.peek(Subject::failed_keys(ip), limits.anonymous, now);
        if !failed.allowed() {
            return too_many_requests(&failed);
        }
    }
    if limits.authenticated > 0 {
        let used = counters.peek(token, limits.authenticated, now);
        if !used.allowed() {
            return too_many_requests(&used);
        }
    }
    let mut response = next.run(req).await;
    let decision = if response
        .extensions_mut()
        .remove::<Authenticated>()
        .is_some()
    {
        (limits.authenticated > 0).then(|| counters.hit(token, limits.authenticated, now))
    } else {
        (limits.anonymous > 0).then(|| {
            counters.hit(Subject::failed_keys(ip), limits.anonymous, now);
            counters.hit(Subject::address(ip), limits.anonymous, now)
        })
    };
    if let Some(decision) = decision {
        tell(response.headers_mut(), &decision);
    }
    response
}

/// The client's address: the TCP peer's, or, when the peer is a trusted proxy, the right-most
/// address of `X-Forwarded-For` that is not a trusted proxy. Without a peer address (a request
/// handed in-process without `ConnectInfo`), `0.0.0.0`.
pub fn client_ip(req: &Request, trusted: &[ipnet::IpNet]) -> IpAddr {
    let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.ip().to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    // Each proxy appends the address it received the request from: read from the right, through
    // the trusted proxies, up to the first address one of them saw that is not another of them.
    // What an unreadable entry holds was not written by a trusted proxy: the last trusted hop is
    // then the client.
    let values: Vec<&HeaderValue> = req.headers().get_all("x-forwarded-for").iter().collect();
    for value in values.into_iter().rev() {
        let Ok(value) = value.to_str() else {
            return client;
        };
        for hop in value.rsplit(',') {
            let Some(ip) = parse_hop(hop.trim()) else {
                return client;
            };
            client = ip;
            if !is_trusted(&ip) {
                return client;
            }
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, or an address and port (`192.0.2.1:4711`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (IETF httpapi draft).
pub(crate) fn tell(headers: &mut HeaderMap, d: &Decision) {
    headers.insert("ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(d.remaining()));
    headers.insert("ratelimit-reset", HeaderValue::from(d.reset));
}

/// 429 in udata's shape, with `Retry-After` and the `RateLimit-*` headers.
pub(crate) fn too_many_requests(d: &Decision) -> Response {
    let message = format!(
        "Too many requests: the limit is {} requests a minute. Retry in {} seconds.",
        d.limit, d.reset
    );
    let body = serde_json::json!({ "message": message });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    tell(response.headers_mut(), d);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(d.reset));
    response
}
