//! Rate limits: per client address without a key, per token with one; 429 in udata's shape with
//! `Retry-After` and the `RateLimit-*` headers; `X-Forwarded-For` believed only from trusted proxies;
//! random keys buy nothing. Requests carry their TCP peer (`ConnectInfo`), as `app::serve` gives it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use rudata::config::RateLimits;

use crate::helpers::{TestApp, TestResponse};

/// A test app with these limits and trusted proxies, at the start of a minute's window far enough
/// from its end that a scenario does not straddle two windows (counts start again at each minute).
async fn app_with(anonymous: u32, authenticated: u32, trusted: &[&str]) -> TestApp {
    let mut app = TestApp::new().await;
    let config = Arc::make_mut(&mut app.state.config);
    config.rate_limits = RateLimits {
        anonymous,
        authenticated,
    };
    config.trusted_proxies = trusted
        .iter()
        .map(|p| rudata::config::parse_trusted_proxy(p).unwrap())
        .collect();
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second >= 45 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    app
}

/// A GET from TCP peer `peer` with the given headers.
async fn get_from(app: &TestApp, peer: &str, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut req = Request::builder().uri(path).header("host", "rudata.test");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut req = req.body(Body::empty()).unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    app.send(req).await
}

fn remaining(r: &TestResponse) -> Option<u64> {
    r.header("ratelimit-remaining").map(|v| v.parse().unwrap())
}

/// Asserts a 429 in udata's shape, with `Retry-After` equal to `RateLimit-Reset`.
fn assert_limited(r: &TestResponse, limit: u32) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains(&format!("{limit} requests a minute")),
        "{message}"
    );
    assert_eq!(r.header("ratelimit-limit").unwrap(), limit.to_string());
    assert_eq!(remaining(r), Some(0));
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.header("ratelimit-reset").unwrap(), retry.to_string());
}

const LIST: &str = "/api/1/datasets/";

#[tokio::test]
async fn an_anonymous_client_past_its_limit_gets_429_with_retry_after_and_ratelimit_headers() {
    let app = app_with(3, 100, &[]).await;
    for left in [2, 1, 0] {
        // The same page each time: answers served from the response cache count as well.
        let r = get_from(&app, "192.0.2.1:5000", LIST, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.header("ratelimit-limit").as_deref(), Some("3"));
        assert_eq!(remaining(&r), Some(left));
        let reset: u64 = r.header("ratelimit-reset").unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
        assert!(r.header("retry-after").is_none());
    }
    assert_limited(&get_from(&app, "192.0.2.1:5001", LIST, &[]).await, 3);
    // Every route is limited, errors included; another address is not affected.
    assert_limited(
        &get_from(&app, "192.0.2.1:5002", "/api/1/nothing", &[]).await,
        3,
    );
    let other = get_from(&app, "192.0.2.2:5000", LIST, &[]).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(remaining(&other), Some(2));
    // The probes are never limited, and say nothing about limits.
    for probe in ["/healthz", "/readyz", "/health"] {
        let r = get_from(&app, "192.0.2.1:5003", probe, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{probe}: {}", r.text());
        assert!(r.header("ratelimit-limit").is_none(), "{probe}");
    }
}

#[tokio::test]
async fn a_token_has_its_own_limit_apart_from_its_address() {
    let app = app_with(2, 4, &[]).await;
    let alice = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let peer = "198.51.100.7:4000";
    for left in [3, 2, 1, 0] {
        let r = get_from(&app, peer, "/api/1/me/", &[("X-API-KEY", &alice.key)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.header("ratelimit-limit").as_deref(), Some("4"));
        assert_eq!(remaining(&r), Some(left));
    }
    assert_limited(
        &get_from(&app, peer, "/api/1/me/", &[("X-API-KEY", &alice.key)]).await,
        4,
    );
    // Alice's requests took nothing from her address, nor from Bob's token.
    let r = get_from(&app, peer, LIST, &[]).await;
    assert_eq!(
        (r.status, remaining(&r)),
        (StatusCode::OK, Some(1)),
        "{}",
        r.text()
    );
    let r = get_from(&app, peer, "/api/1/me/", &[("X-API-KEY", &bob.key)]).await;
    assert_eq!((r.status, remaining(&r)), (StatusCode::OK, Some(3)));
    // Alice is limited from any address.
    assert_limited(
        &get_from(&app, "203.0.113.1:1", LIST, &[("X-API-KEY", &alice.key)]).await,
        4,
    );
}

#[tokio::test]
async fn random_keys_buy_no_more_requests_than_none_and_are_refused_before_lookup() {
    let app = app_with(3, 1000, &[]).await;
    let peer = "192.0.2.9:7000";
    let random = |i: usize| format!("not-a-key-{i}");
    // Unknown keys: 401, counted against the address like anonymous requests.
    for (i, left) in [(0, 2), (1, 1)] {
        let r = get_from(&app, peer, LIST, &[("X-API-KEY", &random(i))]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
        assert_eq!(remaining(&r), Some(left));
    }
    let r = get_from(&app, peer, LIST, &[]).await;
    assert_eq!((r.status, remaining(&r)), (StatusCode::OK, Some(0)));
    assert_limited(&get_from(&app, peer, LIST, &[]).await, 3);
    // A fresh key every time does not get around the address's limit: one more lookup (the third
    // bad key), then refused before any lookup.
    let r = get_from(&app, peer, LIST, &[("X-API-KEY", &random(2))]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    for i in 3..20 {
        assert_limited(
            &get_from(&app, peer, LIST, &[("X-API-KEY", &random(i))]).await,
            3,
        );
    }
    // Refused before the lookup indeed: with the database gone, still a 429 (a lookup would fail).
    app.state.store.close().await;
    assert_limited(
        &get_from(&app, peer, LIST, &[("X-API-KEY", &random(99))]).await,
        3,
    );
}

#[tokio::test]
async fn a_valid_key_is_not_held_back_by_its_address() {
    let app = app_with(1, 10, &[]).await;
    let alice = app.user("alice@example.org").await;
    let peer = "192.0.2.10:7000";
    assert_eq!(get_from(&app, peer, LIST, &[]).await.status, StatusCode::OK);
    assert_limited(&get_from(&app, peer, LIST, &[]).await, 1);
    let r = get_from(&app, peer, LIST, &[("X-API-KEY", &alice.key)]).await;
    assert_eq!((r.status, remaining(&r)), (StatusCode::OK, Some(9)));
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let app = app_with(2, 100, &["10.0.0.0/8", "fd00::1"]).await;
    // An untrusted peer cannot pass for someone else: every request is its own, whatever it claims.
    for i in 0..2 {
        let spoofed = format!("198.51.100.{i}");
        let r = get_from(&app, "192.0.2.50:1", LIST, &[("X-Forwarded-For", &spoofed)]).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    assert_limited(
        &get_from(
            &app,
            "192.0.2.50:1",
            LIST,
            &[("X-Forwarded-For", "198.51.100.77")],
        )
        .await,
        2,
    );
    // The addresses it claimed were not counted.
    let proxied = |client: &'static str| [("X-Forwarded-For", client)];
    let r = get_from(&app, "10.0.0.1:1", LIST, &proxied("198.51.100.0")).await;
    assert_eq!((r.status, remaining(&r)), (StatusCode::OK, Some(1)));

    // Behind trusted proxies, the right-most address that is not one of them is the client: what the
    // client itself put on the left does not count.
    for spoofed in ["203.0.113.1", "203.0.113.2"] {
        let chain = format!("{spoofed}, 198.51.100.3, 10.0.0.2");
        let r = get_from(&app, "10.0.0.1:1", LIST, &[("X-Forwarded-For", &chain)]).await;
        assert_eq!(r.status, StatusCode::OK, "{chain}");
    }
    assert_limited(
        &get_from(
            &app,
            "10.0.0.1:1",
            LIST,
            &[("X-Forwarded-For", "198.51.100.3:6543")],
        )
        .await,
        2,
    );
    // A trusted IPv6 proxy; several lines of the header are one list, in order.
    let r = get_from(
        &app,
        "[fd00::1]:443",
        LIST,
        &[
            ("X-Forwarded-For", "203.0.113.3"),
            ("X-Forwarded-For", "198.51.100.3"),
        ],
    )
    .await;
    assert_limited(&r, 2);
    // Through a trusted proxy without the header, the proxy is the client.
    let r = get_from(&app, "10.0.0.1:1", LIST, &[]).await;
    assert_eq!((r.status, remaining(&r)), (StatusCode::OK, Some(1)));
}

#[tokio::test]
async fn ipv6_clients_of_one_64_network_share_a_limit() {
    let app = app_with(1, 100, &[]).await;
    let r = get_from(&app, "[2001:db8:1:2::1]:1", LIST, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_limited(
        &get_from(&app, "[2001:db8:1:2::ffff]:1", LIST, &[]).await,
        1,
    );
    let r = get_from(&app, "[2001:db8:1:3::1]:1", LIST, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn zero_turns_a_limit_off() {
    // Anonymous off, authenticated on.
    let app = app_with(0, 2, &[]).await;
    let alice = app.user("alice@example.org").await;
    for _ in 0..10 {
        let r = get_from(&app, "192.0.2.1:1", LIST, &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("ratelimit-limit").is_none());
    }
    for _ in 0..2 {
        let r = get_from(&app, "192.0.2.1:1", LIST, &[("X-API-KEY", &alice.key)]).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    assert_limited(
        &get_from(&app, "192.0.2.1:1", LIST, &[("X-API-KEY", &alice.key)]).await,
        2,
    );

    // Authenticated off, anonymous on.
    let app = app_with(2, 0, &[]).await;
    let alice = app.user("alice@example.org").await;
    for _ in 0..10 {
        let r = get_from(&app, "192.0.2.1:1", LIST, &[("X-API-KEY", &alice.key)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("ratelimit-limit").is_none());
    }
    for _ in 0..2 {
        assert_eq!(
            get_from(&app, "192.0.2.1:1", LIST, &[]).await.status,
            StatusCode::OK
        );
    }
    assert_limited(&get_from(&app, "192.0.2.1:1", LIST, &[]).await, 2);

    // Both off: nothing is counted or told.
    let app = app_with(0, 0, &[]).await;
    for _ in 0..10 {
        let r = get_from(&app, "192.0.2.1:1", LIST, &[("X-API-KEY", "bad")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.header("ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn nodes_add_up_their_counts_through_the_database() {
    use rudata::domain::rate_limit::{Subject, window_of};
    use rudata::jobs::rate_limits::exchange;
    let app = TestApp::new().await;
    // Another node: its own counts, the same database.
    let mut other = app.state.clone();
    other.rate_limits = Arc::default();
    let now = chrono::Utc::now().timestamp();
    let client = Subject::address("192.0.2.1".parse().unwrap());
    for _ in 0..3 {
        app.state.rate_limits.hit(client, 100, now);
    }
    for _ in 0..2 {
        other.rate_limits.hit(client, 100, now);
    }
    exchange(&app.state).await.unwrap();
    exchange(&other).await.unwrap();
    // The other node knows of all five (the next request would be the sixth).
    assert_eq!(other.rate_limits.peek(client, 100, now).count, 6);
    app.state.rate_limits.hit(client, 100, now);
    exchange(&app.state).await.unwrap();
    assert_eq!(app.state.rate_limits.peek(client, 100, now).count, 7);
    // Windows gone by leave the table.
    let forgotten = app
        .state
        .store
        .forget_rate_counts_before(window_of(now) + 1)
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
}
