//! Remote resource checks against a real HTTP server the test runs on loopback (allowed through
//! `RUDATA_CHECK_ALLOW_NETWORKS`' setting): availability, change detection, the extras as udata
//! names them in v1 and v2, redirects, the SSRF guard, limits, the history and the signal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::helpers::{TestApp, id_of};

/// What the test server answers on a path.
#[derive(Clone, Default)]
pub struct Served {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Never answer.
    pub hang: bool,
}

impl Served {
    pub fn ok(body: &str) -> Served {
        Served {
            status: 200,
            headers: vec![("content-type".into(), "text/csv".into())],
            body: body.as_bytes().to_vec(),
            hang: false,
        }
    }

    pub fn status(status: u16) -> Served {
        Served {
            status,
            ..Default::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Served {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A loopback HTTP server whose answers the test changes, counting the GETs of each path.
#[derive(Clone, Default)]
pub struct Remote {
    pub port: u16,
    files: Arc<Mutex<HashMap<String, Served>>>,
    gets: Arc<Mutex<HashMap<String, usize>>>,
}

impl Remote {
    pub async fn start() -> Remote {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let remote = Remote {
            port: listener.local_addr().unwrap().port(),
            ..Default::default()
        };
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(remote.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        remote
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn serve(&self, path: &str, served: Served) {
        self.files.lock().unwrap().insert(path.into(), served);
    }

    pub fn gets(&self, path: &str) -> usize {
        self.gets.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn answer(State(remote): State<Remote>, req: Request<Body>) -> Response<Body> {
    let path = req.uri().path().to_string();
    if req.method() == Method::GET {
        *remote.gets.lock().unwrap().entry(path.clone()).or_default() += 1;
    }
    let served = remote.files.lock().unwrap().get(&path).cloned();
    let Some(served) = served else {
        return Response::builder().status(404).body(Body::empty()).unwrap();
    };
    if served.hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let etag = served
        .headers
        .iter()
        .find(|(k, _)| k == "etag")
        .map(|(_, v)| v.clone());
    let matched = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| Some(v.to_string()) == etag);
    let mut builder = Response::builder().status(if matched { 304 } else { served.status });
    for (k, v) in &served.headers {
        builder = builder.header(k, v);
    }
    if matched {
        return builder.body(Body::empty()).unwrap();
    }
    builder
        .header("content-length", served.body.len())
        .body(Body::from(served.body))
        .unwrap()
}

/// A test app whose remote URLs may point to loopback, with checks fast enough for a test.
pub async fn app() -> TestApp {
    let mut app = TestApp::new().await;
    app.configure(|c| {
        c.checks.allow_networks = vec!["127.0.0.0/8".parse().unwrap()];
        c.checks.host_delay = Duration::ZERO;
        c.checks.timeout = Duration::from_secs(2);
        c.checks.max_size = 1000;
        c.checks.max_size_by_format = Vec::new();
    });
    app
}

/// Runs the checks due now, as a node's job does.
pub async fn run_checks(app: &TestApp) -> usize {
    drain(&rudata::jobs::checks::Runner::new(app.state.clone()).unwrap()).await
}

/// Takes checks with `runner` until none is due; returns how many were recorded.
pub async fn drain(runner: &Arc<rudata::jobs::checks::Runner>) -> usize {
    let mut recorded = 0;
    loop {
        let round = runner.round().await.unwrap();
        recorded += round.recorded;
        if round.taken == 0 {
            return recorded;
        }
    }
}

pub async fn remote_resource(app: &TestApp, ds: &str, url: &str) -> String {
    remote_resource_of_format(app, ds, url, "csv").await
}

async fn remote_resource_of_format(app: &TestApp, ds: &str, url: &str, format: &str) -> String {
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &app.admin_key,
            json!({"title": "Remote", "filetype": "remote", "url": url, "format": format}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    id_of(&r.json())
}

async fn resource(app: &TestApp, ds: &str, rid: &str) -> Value {
    let r = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn signal(app: &TestApp, ds: &str, rid: &str) {
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/{rid}/check/"),
            &app.admin_key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
}

fn sha1_of(s: &str) -> String {
    hex::encode(Sha1::digest(s.as_bytes()))
}

#[tokio::test]
async fn a_new_remote_resource_is_checked_and_the_results_are_udatas_extras_in_v1_and_v2() {
    let app = app().await;
    let remote = Remote::start().await;
    remote.serve("/data.csv", Served::ok("a,b\n1,2\n"));
    let ds = id_of(&app.dataset(&app.admin_key, "Checked").await);
    let rid = remote_resource(&app, &ds, &remote.url("/data.csv")).await;
    assert_eq!(run_checks(&app).await, 1);
    let r = resource(&app, &ds, &rid).await;
    let extras = &r["extras"];
    assert_eq!(extras["check:available"], true, "{r}");
    assert_eq!(extras["check:status"], 200);
    assert_eq!(extras["check:timeout"], false);
    assert!(extras["check:date"].is_string());
    assert_eq!(extras["check:headers:content-type"], "text/csv");
    assert_eq!(extras["check:headers:content-length"], 8);
    assert_eq!(extras["analysis:checksum"], sha1_of("a,b\n1,2\n"));
    assert_eq!(extras["analysis:content-length"], 8);
    assert_eq!(extras["analysis:mime-type"], "text/csv");
    assert!(extras.get("check:error").is_none());
    assert_eq!(r["filesize"], 8);
    assert_eq!(r["mime"], "text/csv");
    assert_eq!(r["checksum"]["value"], sha1_of("a,b\n1,2\n"));
    let v2 = app
        .get(&format!("/api/2/datasets/resources/{rid}/"), None)
        .await;
    assert_eq!(v2.status, StatusCode::OK, "{}", v2.text());
    assert_eq!(v2.json()["resource"]["extras"], *extras, "{}", v2.text());
    // Nothing is due any more: a second run checks nothing.
    assert_eq!(run_checks(&app).await, 0);
    assert_eq!(remote.gets("/data.csv"), 1);
}

#[tokio::test]
async fn a_change_is_detected_by_content_then_last_modified_then_size() {
    let app = app().await;
    let remote = Remote::start().await;
    remote.serve("/f.csv", Served::ok("1111"));
    let ds = id_of(&app.dataset(&app.admin_key, "Changing").await);
    let rid = remote_resource(&app, &ds, &remote.url("/f.csv")).await;
    run_checks(&app).await;
    let first = resource(&app, &ds, &rid).await;

    // The same bytes: nothing changes but the check's date.
    signal(&app, &ds, &rid).await;
    run_checks(&app).await;
    let same = resource(&app, &ds, &rid).await;
    assert_eq!(same["last_modified"], first["last_modified"]);

    // Other bytes of the same length: told by the checksum.
    remote.serve("/f.csv", Served::ok("2222"));
    signal(&app, &ds, &rid).await;
    run_checks(&app).await;
    let by_sum = resource(&app, &ds, &rid).await;
    assert_eq!(
        by_sum["extras"]["analysis:last-modified-detection"],
        "computed-checksum"
    );
    assert_eq!(by_sum["checksum"]["value"], sha1_of("2222"));
    assert_ne!(by_sum["last_modified"], first["last_modified"]);

    // A Last-Modified header: the resource and the dataset take its date.
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    remote.serve("/f.csv", Served::ok("3333").header("last-modified", date));
    signal(&app, &ds, &rid).await;
    run_checks(&app).await;
    remote.serve(
        "/f.csv",
        Served::ok("4444").header("last-modified", "Thu, 22 Oct 2015 07:28:00 GMT"),
    );
    signal(&app, &ds, &rid).await;
    run_checks(&app).await;
    let by_header = resource(&app, &ds, &rid).await;
    assert_eq!(
        by_header["extras"]["analysis:last-modified-detection"],
        "last-modified-header"
    );
    assert_eq!(
        by_header["extras"]["analysis:last-modified-at"],
        "2015-10-22T07:28:00+00:00"
    );
    assert_eq!(by_header["last_modified"], "2015-10-22T07:28:00+00:00");

    // Only the size: told by the length.
    remote.serve("/f.csv", Served::ok("55555"));
    signal(&app, &ds, &rid).await;
    run_checks(&app).await;
    let by_size = resource(&app, &ds, &rid).await;
    assert_eq!(
        by_size["extras"]["analysis:last-modified-detection"],
        "content-length-header"
    );
    assert_eq!(by_size["filesize"], 5);
    let dataset = app
        .get(&format!("/api/1/datasets/{ds}/"), None)
        .await
        .json();
    assert_eq!(dataset["last_update"], by_size["last_modified"]);

    let history = app
        .get(
            &format!("/api/1/datasets/{ds}/resources/{rid}/checks/"),
            None,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text());
    let results: Vec<String> = history.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        results,
        [
            "content-length-header",
            "last-modified-header",
            "last-modified-header",
            "computed-checksum",
            "unchanged",
            "first"
        ]
    );
}

#[tokio::test]
async fn unanswered_and_failing_urls_make_the_resource_unavailable() {
    let app = app().await;
    let remote = Remote::start().await;
    remote.serve("/gone.csv", Served::status(404));
    remote.serve("/broken.csv", Served::status(500));
    remote.serve(
        "/slow.csv",
        Served {
            hang: true,
            ..Served::ok("x")
        },
    );
    let ds = id_of(&app.dataset(&app.admin_key, "Failing").await);
    let gone = remote_resource(&app, &ds, &remote.url("/gone.csv")).await;
    let broken = remote_resource(&app, &ds, &remote.url("/broken.csv")).await;
    let slow = remote_resource(&app, &ds, &remote.url("/slow.csv")).await;
    run_checks(&app).await;
    let r = resource(&app, &ds, &gone).await;
    assert_eq!(r["extras"]["check:available"], false);
    assert_eq!(r["extras"]["check:status"], 404);
    let r = resource(&app, &ds, &broken).await;
    assert_eq!(r["extras"]["check:available"], false);
    assert_eq!(r["extras"]["check:status"], 500);
    let r = resource(&app, &ds, &slow).await;
    assert_eq!(r["extras"]["check:available"], false);
    assert_eq!(r["extras"]["check:timeout"], true);
    assert_eq!(r["extras"]["check:error"], "timed out");
}

#[tokio::test]
async fn a_server_asking_to_wait_is_left_alone_for_its_retry_after() {
    let app = app().await;
    let remote = Remote::start().await;
    remote.serve(
        "/busy.csv",
        Served::status(429).header("retry-after", "3600"),
    );
    let ds = id_of(&app.dataset(&app.admin_key, "Busy").await);
    let rid = remote_resource(&app, &ds, &remote.url("/busy.csv")).await;
    run_checks(&app).await;
    let r = resource(&app, &ds, &rid).await;
    assert!(r["extras"].get("check:available").is_none(), "{r}");
    let history = app
        .get(
            &format!("/api/1/datasets/{ds}/resources/{rid}/checks/"),
            None,
        )
        .await
        .json();
    assert_eq!(history["data"][0]["result"], "postponed");
    assert_eq!(history["data"][0]["status"], 429);
    let next =
        chrono::DateTime::parse_from_rfc3339(history["next_check"].as_str().unwrap()).unwrap();
    assert!(next > chrono::Utc::now() + chrono::Duration::minutes(50));
}

#[tokio::test]
async fn redirects_are_followed_and_each_hop_is_checked() {
    let app = app().await;
    let remote = Remote::start().await;
    remote.serve("/a", Served::status(301).header("location", "/b"));
    remote.serve(
        "/b",
        Served::status(302).header("location", &remote.url("/final.csv")),
    );
    remote.serve("/final.csv", Served::ok("final"));
    remote.serve(
        "/inside",
        Served::status(302).header("location", "http://10.0.0.1/secret"),
    );
    remote.serve(
        "/local",
        Served::status(302).header(
            "location",
            &format!("http://localhost:{}/final.csv", remote.port),
        ),
    );
    remote.serve("/loop", Served::status(302).header("location", "/loop"));
    let ds = id_of(&app.dataset(&app.admin_key, "Redirects").await);
    let chain = remote_resource(&app, &ds, &remote.url("/a")).await;
    let inside = remote_resource(&app, &ds, &remote.url("/inside")).await;
    let local = remote_resource(&app, &ds, &remote.url("/local")).await;
    let looping = remote_resource(&app, &ds, &remote.url("/loop")).await;
    run_checks(&app).await;
    let r = resource(&app, &ds, &chain).await;
    assert_eq!(r["extras"]["check:available"], true, "{r}");
    assert_eq!(r["extras"]["analysis:checksum"], sha1_of("final"));
    for rid in [&inside, &local] {
        let r = resource(&app, &ds, rid).await;
        assert_eq!(r["extras"]["check:available"], false, "{r}");
        let error = r["extras"]["check:error"].as_str().unwrap();
        assert!(error.starts_with("refused"), "{error}");
    }
    let r = resource(&app, &ds, &looping).await;
    assert_eq!(r["extras"]["check:error"], "too many redirects");
}

#[tokio::test]
async fn a_body_past_the_size_limit_is_not_hashed() {
    let app = app().await;
    let remote = Remote::start().await;
    remote.serve("/big.csv", Served::ok(&"x".repeat(5000)));
    let ds = id_of(&app.dataset(&app.admin_key, "Big").await);
    let rid = remote_resource(&app, &ds, &remote.url("/big.csv")).await;
    run_checks(&app).await;
    let r = resource(&app, &ds, &rid).await;
    assert_eq!(r["extras"]["check:available"], true);
    assert!(r["extras"].get("analysis:checksum").is_none(), "{r}");
    assert_eq!(
        r["extras"]["analysis:error"],
        "File too large to be analysed"
    );
    assert_eq!(r["extras"]["analysis:content-length"], 5000);
}

#[tokio::test]
async fn each_format_has_its_size_limit_and_the_others_the_default() {
    let mut app = app().await;
    app.configure(|c| {
        c.checks.max_size = 1000;
        c.checks.max_size_by_format = vec![("csv".into(), 4000), ("xlsx".into(), 100)];
    });
    let remote = Remote::start().await;
    let big = "x".repeat(3000);
    for path in ["/big.csv", "/big.xlsx", "/big.bin"] {
        remote.serve(path, Served::ok(&big));
    }
    remote.serve("/small.xlsx", Served::ok("tiny"));
    let ds = id_of(&app.dataset(&app.admin_key, "Sizes").await);
    let mut hashed = Vec::new();
    for (path, format) in [
        ("/big.csv", "csv"),
        ("/big.xlsx", "XLSX"),
        ("/big.bin", "bin"),
        ("/small.xlsx", ".xlsx"),
    ] {
        let rid = remote_resource_of_format(&app, &ds, &remote.url(path), format).await;
        hashed.push((path, rid));
    }
    assert_eq!(run_checks(&app).await, 4);
    for (path, rid) in &hashed {
        let r = resource(&app, &ds, rid).await;
        let extras = &r["extras"];
        assert_eq!(extras["check:available"], true, "{path}: {r}");
        let expected = match *path {
            // Past the default (1000) but under CSV's own limit.
            "/big.csv" => Some(sha1_of(&big)),
            "/small.xlsx" => Some(sha1_of("tiny")),
            // Past XLSX's limit (100); past the default for a format without one.
            _ => None,
        };
        match expected {
            Some(sum) => assert_eq!(extras["analysis:checksum"], sum, "{path}: {r}"),
            None => {
                assert!(extras.get("analysis:checksum").is_none(), "{path}: {r}");
                assert_eq!(
                    extras["analysis:error"], "File too large to be analysed",
                    "{path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn loopback_urls_are_refused_unless_the_operator_allows_the_network() {
    let app = TestApp::new().await;
    let ds = id_of(&app.dataset(&app.admin_key, "Refused").await);
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &app.admin_key,
            json!({"title": "x", "filetype": "remote", "url": "http://127.0.0.1:9/x.csv"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
}

#[tokio::test]
async fn the_signal_needs_edit_permission_and_the_history_follows_the_datasets_visibility() {
    let app = app().await;
    let ds = app
        .post(
            "/api/1/datasets/",
            &app.admin_key,
            json!({"title": "Private", "description": "d", "private": true}),
        )
        .await
        .json();
    let ds = id_of(&ds);
    let rid = remote_resource(&app, &ds, "http://127.0.0.1:9/x.csv").await;
    let other = app.user("other@example.org").await;
    let signal_path = format!("/api/1/datasets/{ds}/resources/{rid}/check/");
    let history_path = format!("/api/1/datasets/{ds}/resources/{rid}/checks/");
    let anonymous = app
        .request(Method::POST, &signal_path, None, Some(&json!({})))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // As a resource PUT by someone who may not edit the dataset.
    let put = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{rid}/"),
            &other.key,
            json!({}),
        )
        .await;
    assert_eq!(put.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(&signal_path, &other.key, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&history_path, None).await.status,
        StatusCode::NOT_FOUND
    );
    let own = app.get(&history_path, Some(&app.admin_key)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.json()["checked"], true);
    let missing = format!("/api/1/datasets/{ds}/resources/{}/checks/", uuid_like());
    assert_eq!(
        app.get(&missing, Some(&app.admin_key)).await.status,
        StatusCode::NOT_FOUND
    );
}

fn uuid_like() -> String {
    "00000000-0000-4000-8000-000000000000".into()
}

#[tokio::test]
async fn datasets_are_filtered_by_the_availability_of_their_remote_resources() {
    let app = app().await;
    let remote = Remote::start().await;
    remote.serve("/ok.csv", Served::ok("ok"));
    let broken = id_of(&app.dataset(&app.admin_key, "Broken").await);
    let fine = id_of(&app.dataset(&app.admin_key, "Fine").await);
    let empty = id_of(&app.dataset(&app.admin_key, "Empty").await);
    remote_resource(&app, &broken, &remote.url("/ok.csv")).await;
    remote_resource(&app, &broken, &remote.url("/missing.csv")).await;
    remote_resource(&app, &fine, &remote.url("/ok.csv")).await;
    run_checks(&app).await;
    let ids = |v: &Value, key: &str| -> Vec<String> {
        let mut ids: Vec<String> = v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let mut available = vec![fine.clone(), empty.clone()];
    available.sort();
    for (path, key) in [
        ("/api/1/datasets/", "data"),
        ("/api/2/datasets/search/", "data"),
    ] {
        let r = app.get(&format!("{path}?available=false"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(ids(&r.json(), key), vec![broken.clone()], "{path}");
        assert_eq!(r.json()["total"], 1);
        let r = app.get(&format!("{path}?available=true"), None).await;
        assert_eq!(ids(&r.json(), key), available, "{path}");
        let r = app.get(&format!("{path}?available=maybe"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
    }
    // The publisher fixes the URL: the new one is checked at once, and the dataset is available.
    let rid = {
        let list = app
            .get(&format!("/api/1/datasets/{broken}/"), None)
            .await
            .json();
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["url"].as_str().unwrap().ends_with("/missing.csv"))
            .map(id_of)
            .unwrap()
    };
    let fixed = app
        .put(
            &format!("/api/1/datasets/{broken}/resources/{rid}/"),
            &app.admin_key,
            json!({"url": remote.url("/ok.csv")}),
        )
        .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text());
    assert_eq!(run_checks(&app).await, 1);
    let r = app.get("/api/1/datasets/?available=false", None).await;
    assert_eq!(r.json()["total"], 0, "{}", r.text());
}

#[tokio::test]
async fn the_checker_resolves_every_name_itself_and_never_connects_to_a_refused_address() {
    use std::net::{Ipv4Addr, Ipv6Addr};
    // Only the one address the test server listens on is allowed, not loopback as a whole.
    let mut app = app().await;
    app.configure(|c| c.checks.allow_networks = vec!["127.0.0.1/32".parse().unwrap()]);
    let public: Ipv4Addr = "93.184.215.14".parse().unwrap();
    let rebind = Arc::new(Mutex::new(public));
    let zone = {
        let rebind = Arc::clone(&rebind);
        move |name: &str| -> crate::hardening_hosts::Records {
            let here: Ipv4Addr = "127.0.0.1".parse().unwrap();
            match name {
                "here.example.org" => Some((vec![here], vec![])),
                // Also ::1, which is not allowed.
                "localhost.localdomain" => Some((vec![here], vec![Ipv6Addr::LOCALHOST])),
                "rebind.example.org" => Some((vec![*rebind.lock().unwrap()], vec![])),
                _ => None,
            }
        }
    };
    let dns = crate::hardening_hosts::dns_server_with(zone).await;
    app.state.hosts = Arc::new(rudata::hosts::HostGuard::new(&[dns]));
    let remote = Remote::start().await;
    let port = remote.port;
    remote.serve("/data.csv", Served::ok("data"));
    remote.serve(
        "/hop",
        Served::status(302).header(
            "location",
            &format!("http://localhost.localdomain:{port}/data.csv"),
        ),
    );
    let ds = id_of(&app.dataset(&app.admin_key, "Names").await);
    // A name that points to the allowed address: resolved by the checker's resolver, and fetched.
    let named = remote_resource(
        &app,
        &ds,
        &format!("http://here.example.org:{port}/data.csv"),
    )
    .await;
    assert_eq!(run_checks(&app).await, 1);
    let r = resource(&app, &ds, &named).await;
    assert_eq!(r["extras"]["check:available"], true, "{r}");
    assert_eq!(remote.gets("/data.csv"), 1);

    // An allowed address redirecting to a name that also points to ::1: refused at that hop.
    let hop = remote_resource(&app, &ds, &remote.url("/hop")).await;
    // A name that pointed to a public address when the resource was written, and points inside
    // when it is checked (DNS rebinding): refused by the check itself.
    let rebound = remote_resource(
        &app,
        &ds,
        &format!("http://rebind.example.org:{port}/data.csv"),
    )
    .await;
    *rebind.lock().unwrap() = "10.1.2.3".parse().unwrap();
    assert_eq!(run_checks(&app).await, 2);
    for (rid, error) in [
        (
            &hop,
            "refused: localhost.localdomain points to a local address",
        ),
        (
            &rebound,
            "refused: rebind.example.org points to a local address",
        ),
    ] {
        let r = resource(&app, &ds, rid).await;
        assert_eq!(r["extras"]["check:available"], false, "{r}");
        assert_eq!(r["extras"]["check:error"], error, "{r}");
        assert_eq!(r["extras"]["check:timeout"], false, "{r}");
        assert!(r["extras"].get("check:status").is_none(), "{r}");
    }
    // Nothing was fetched past the refusals.
    assert_eq!(remote.gets("/data.csv"), 1);
}
