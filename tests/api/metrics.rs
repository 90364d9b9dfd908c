//! `GET /metrics`: who may read it, its format (every line a valid line of Prometheus' text
//! exposition format), and metrics that move with real requests, cache hits included.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};

use crate::helpers::{TestApp, id_of};
use crate::resource_helpers::{owner_with_dataset, upload_aaa};

const TOKEN: &str = "scrape-me-0123456789";

async fn app_with_token() -> TestApp {
    let mut app = TestApp::new().await;
    app.configure(|c| c.metrics_token = Some(TOKEN.into()));
    app
}

async fn scrape(app: &TestApp) -> String {
    let r = app
        .raw(
            Method::GET,
            "/metrics",
            None,
            &[("authorization", &format!("Bearer {TOKEN}"))],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.header("content-type").unwrap().starts_with("text/plain"),
        "{:?}",
        r.header("content-type")
    );
    r.text()
}

/// The samples of a scrape: `name{labels}` (labels as written) → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series.to_string(), value.parse().unwrap())
        })
        .collect()
}

fn sample(text: &str, series: &str) -> f64 {
    samples(text).get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn without_a_token_set_there_is_no_metrics_on_the_api_address() {
    let app = TestApp::new().await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["message"].is_string());
    // Not even with a token: none is the right one.
    let r = app
        .raw(
            Method::GET,
            "/metrics",
            None,
            &[("authorization", "Bearer anything")],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_token_is_refused_or_accepted() {
    let app = app_with_token().await;
    for auth in [
        None,
        Some("Bearer wrong-token".to_string()),
        Some(TOKEN.to_string()),
        Some(format!("Basic {TOKEN}")),
        Some(format!("Bearer {TOKEN}x")),
    ] {
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let r = app
            .raw(Method::GET, "/metrics", None, &headers, Vec::new())
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(r.json()["message"].is_string(), "{auth:?}");
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
        assert!(!r.text().contains("rudata_"), "{auth:?}");
    }
    // The scheme's case does not matter (RFC 9110), the token's does.
    for (auth, status) in [
        (format!("bearer {TOKEN}"), StatusCode::OK),
        (format!("BEARER {TOKEN}"), StatusCode::OK),
        (
            format!("Bearer {}", TOKEN.to_uppercase()),
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        let r = app
            .raw(
                Method::GET,
                "/metrics",
                None,
                &[("authorization", &auth)],
                Vec::new(),
            )
            .await;
        assert_eq!(r.status, status, "{auth}");
    }
    // An API key is not the metrics token, not even a sysadmin's.
    let r = app.get("/metrics", Some(&app.admin_key)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let text = scrape(&app).await;
    assert!(
        text.contains("# TYPE rudata_http_requests_total counter"),
        "{text}"
    );
}

/// Whether `line` is a line of the text exposition format: a `# HELP`/`# TYPE` comment, or a sample
/// `name{label="value",...} value`.
fn valid_line(line: &str) -> bool {
    fn name_ok(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    fn value_ok(v: &str) -> bool {
        matches!(v, "+Inf" | "-Inf" | "NaN") || v.parse::<f64>().is_ok()
    }
    if let Some(rest) = line.strip_prefix("# HELP ") {
        return rest.split_once(' ').is_some_and(|(n, _)| name_ok(n));
    }
    if let Some(rest) = line.strip_prefix("# TYPE ") {
        return rest.split_once(' ').is_some_and(|(n, t)| {
            name_ok(n) && ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t)
        });
    }
    let (series, value) = match line.rsplit_once(' ') {
        Some(x) => x,
        None => return false,
    };
    if !value_ok(value) {
        return false;
    }
    let Some((name, labels)) = series.split_once('{') else {
        return name_ok(series);
    };
    let Some(mut labels) = labels.strip_suffix('}') else {
        return false;
    };
    if !name_ok(name) {
        return false;
    }
    // label="value" pairs, values with \\, \" and \n escapes, separated by commas.
    while !labels.is_empty() {
        let Some((label, rest)) = labels.split_once("=\"") else {
            return false;
        };
        if !name_ok(label) {
            return false;
        }
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\' | '"' | 'n')) => {}
                    _ => return false,
                },
                Some((i, '"')) => break i,
                Some(_) => {}
                None => return false,
            }
        };
        labels = &rest[end + 1..];
        if let Some(more) = labels.strip_prefix(',') {
            labels = more;
        } else if !labels.is_empty() {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn every_line_is_a_valid_exposition_line() {
    let app = app_with_token().await;
    let (owner, ds) = owner_with_dataset(&app).await;
    upload_aaa(&app, &ds, &owner.key).await;
    app.get(&format!("/api/1/datasets/{ds}/"), None).await;
    app.get("/api/1/nothing-here", None).await;
    let text = scrape(&app).await;
    assert!(text.lines().count() > 30, "{text}");
    for line in text.lines() {
        assert!(valid_line(line), "not an exposition line: {line:?}");
    }
    // The checker itself refuses what is not one.
    for bad in [
        "rudata_x{route=\"a} 1",
        "rudata x 1",
        "rudata_x{route=\"a\"} one",
        "# TYPE rudata_x thing",
        "rudata_x{route=\"a\"b=\"c\"} 1",
    ] {
        assert!(!valid_line(bad), "{bad}");
    }
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status_cache_hits_included() {
    let app = app_with_token().await;
    let (owner, ds) = owner_with_dataset(&app).await;
    let path = format!("/api/1/datasets/{ds}/");
    // Once SQLite's watcher has seen the writes above (it moves the generation once more at its
    // next poll, 200 ms), a miss (computed, kept), a hit answered before the router
    // (`cache::front`), and a hit answered by the cache layer (a request with `Origin` goes
    // through the layers).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let first = app.get(&path, None).await;
    assert_eq!(first.header("x-rudata-cache").as_deref(), Some("miss"));
    let second = app.get(&path, None).await;
    assert_eq!(second.header("x-rudata-cache").as_deref(), Some("hit"));
    let third = app
        .raw(
            Method::GET,
            &path,
            None,
            &[("origin", "https://example.org")],
            Vec::new(),
        )
        .await;
    assert_eq!(third.header("x-rudata-cache").as_deref(), Some("hit"));
    // Two 404s on paths no route matches, and one on a route that does.
    app.get("/api/1/nothing-here", None).await;
    app.get("/api/1/nothing/else", None).await;
    app.get("/api/1/datasets/000000000000000000000000/", None)
        .await;
    let put = app
        .put(&path, &owner.key, serde_json::json!({"title": "Renamed"}))
        .await;
    assert_eq!(put.status, StatusCode::OK);

    let text = scrape(&app).await;
    let route = "route=\"/api/1/datasets/{id}\"";
    assert_eq!(
        sample(
            &text,
            &format!("rudata_http_requests_total{{method=\"GET\",{route},status=\"200\"}}")
        ),
        3.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("rudata_http_requests_total{{method=\"GET\",{route},status=\"404\"}}")
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            &format!("rudata_http_requests_total{{method=\"PUT\",{route},status=\"200\"}}")
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "rudata_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ),
        2.0
    );
    assert_eq!(
        sample(&text, "rudata_response_cache_total{result=\"hit\"}"),
        2.0
    );
    // The first read, and the three 404s (kept too: they are reads of the API).
    assert_eq!(
        sample(&text, "rudata_response_cache_total{result=\"miss\"}"),
        4.0
    );
    // No raw path in the labels: the label set stays bounded.
    assert!(!text.contains(&ds), "{text}");
    assert!(!text.contains("nothing-here"), "{text}");
    // The next scrape counts the previous one.
    let again = scrape(&app).await;
    assert_eq!(
        sample(
            &again,
            "rudata_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn latency_histograms_count_every_request_in_cumulative_buckets() {
    let app = app_with_token().await;
    let (_, ds) = owner_with_dataset(&app).await;
    for _ in 0..4 {
        app.get(&format!("/api/1/datasets/{ds}/"), None).await;
    }
    let text = scrape(&app).await;
    let labels = "method=\"GET\",route=\"/api/1/datasets/{id}\"";
    let count = sample(
        &text,
        &format!("rudata_http_request_duration_seconds_count{{{labels}}}"),
    );
    assert_eq!(count, 4.0, "{text}");
    let sum = sample(
        &text,
        &format!("rudata_http_request_duration_seconds_sum{{{labels}}}"),
    );
    assert!(sum > 0.0, "{text}");
    let prefix = format!("rudata_http_request_duration_seconds_bucket{{{labels},le=\"");
    let mut buckets: Vec<(f64, f64)> = samples(&text)
        .into_iter()
        .filter_map(|(series, value)| {
            let le = series.strip_prefix(&prefix)?.strip_suffix("\"}")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            Some((le, value))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.len() >= 10, "{text}");
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "cumulative: {buckets:?}"
    );
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, 4.0));
}

#[tokio::test]
async fn uploads_and_their_bytes_are_counted() {
    let app = app_with_token().await;
    let (owner, ds) = owner_with_dataset(&app).await;
    upload_aaa(&app, &ds, &owner.key).await;
    let r = app.upload(&ds, &owner.key, "b.csv", b"a,b\n1,2\n").await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Refused: not counted.
    let refused = app.upload(&ds, "not-a-key", "c.csv", b"x").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "rudata_uploads_total{kind=\"single\"}"),
        2.0,
        "{text}"
    );
    assert_eq!(sample(&text, "rudata_uploaded_bytes_total"), 11.0);
}

#[tokio::test]
async fn pool_gauges_tell_the_database_pools_state() {
    let app = app_with_token().await;
    let ds = app.dataset(&app.admin_key, "Pools").await;
    app.get(&format!("/api/1/datasets/{}/", id_of(&ds)), None)
        .await;
    let text = scrape(&app).await;
    let pools: Vec<&str> = match app.state.store.dialect() {
        rudata::store::Dialect::Sqlite => vec!["read", "write"],
        rudata::store::Dialect::Postgres => vec!["all"],
    };
    for pool in pools {
        let open = sample(
            &text,
            &format!("rudata_db_pool_connections{{pool=\"{pool}\"}}"),
        );
        let idle = sample(
            &text,
            &format!("rudata_db_pool_idle_connections{{pool=\"{pool}\"}}"),
        );
        let max = sample(
            &text,
            &format!("rudata_db_pool_max_connections{{pool=\"{pool}\"}}"),
        );
        assert!(open >= 1.0, "{pool}: {text}");
        assert!(idle <= open, "{pool}: {text}");
        assert!(max >= open, "{pool}: {text}");
    }
}
