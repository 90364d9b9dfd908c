//! The response cache: anonymous reads answered again from memory, never once a write made them
//! stale, and never for what depends on the caller or on the time.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

const CACHE: &str = "x-rudata-cache";

/// A test app whose change watcher runs (the cache stays off until it does).
pub async fn watched() -> TestApp {
    let app = TestApp::new().await;
    for _ in 0..200 {
        if app.state.store.changes().current().is_some() {
            return app;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the change watcher did not start");
}

/// Waits until the watcher has seen this test's own writes. On SQLite it cannot tell them from
/// another process's, so it moves the generation once more at its next poll (200 ms): a hit
/// asserted across that poll would be a miss.
pub async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_second_anonymous_read_is_served_from_the_cache_with_the_same_bytes() {
    let app = watched().await;
    let ds = app.dataset(&app.admin_key, "Budget de Lyon").await;
    let id = ds["id"].as_str().unwrap();
    settle().await;
    for path in [
        "/api/1/datasets/?q=budget".to_string(),
        format!("/api/1/datasets/{id}/"),
        "/api/2/datasets/search/?q=budget&facets=license,tag".to_string(),
    ] {
        let first = app.get(&path, None).await;
        assert_eq!(first.status, StatusCode::OK, "{path}");
        assert_eq!(first.header(CACHE).as_deref(), Some("miss"), "{path}");
        let second = app.get(&path, None).await;
        assert_eq!(second.header(CACHE).as_deref(), Some("hit"), "{path}");
        assert_eq!(second.body, first.body, "{path}");
        assert_eq!(
            second.header("content-type"),
            first.header("content-type"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_kind_of_write_is_read_at_once_by_its_author_and_by_everyone() {
    let app = watched().await;
    let ds = app.dataset(&app.admin_key, "Budget").await;
    let id = ds["id"].as_str().unwrap().to_string();
    let doc = format!("/api/1/datasets/{id}/");
    let list = "/api/1/datasets/";
    settle().await;
    // Warm both, then write through the API: the next reads, anonymous ones included, see it.
    app.get(&doc, None).await;
    app.get(list, None).await;
    assert_eq!(
        app.get(&doc, None).await.header(CACHE).as_deref(),
        Some("hit")
    );
    let r = app
        .put(&doc, &app.admin_key, json!({"title": "Budget révisé"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get(&doc, None).await.json()["title"], "Budget révisé");

    let r = app
        .post(
            &format!("{doc}resources/"),
            &app.admin_key,
            json!({"title": "r", "url": "https://example.org/r.csv", "filetype": "remote"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        app.get(&doc, None).await.json()["resources"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(total(&app, list).await, 1);
    assert_eq!(
        app.delete(&doc, &app.admin_key).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(total(&app, list).await, 0);
    assert_eq!(app.get(&doc, None).await.status, StatusCode::GONE);

    // A write outside the API, through an operation (as the CLI and the jobs do).
    rudata::ops::datasets::restore_dataset(
        &app.state,
        &rudata::domain::activity::Actor::none(),
        &id,
    )
    .await
    .unwrap();
    assert_eq!(total(&app, list).await, 1);
    assert_eq!(app.get(&doc, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_authenticated_read_is_kept_for_its_key_only() {
    let app = watched().await;
    app.dataset(&app.admin_key, "Budget").await;
    let other = app.user("other@example.org").await;
    let list = "/api/1/datasets/";
    // A key's first use is written down (`last_used_at`): a change, as SQLite's watcher sees it.
    app.get(list, Some(&app.admin_key)).await;
    app.get(list, Some(&other.key)).await;
    settle().await;
    let mut bodies = Vec::new();
    for key in [&app.admin_key, &other.key] {
        let first = app.get(list, Some(key)).await;
        assert_eq!(first.status, StatusCode::OK);
        let second = app.get(list, Some(key)).await;
        assert_eq!(second.header(CACHE).as_deref(), Some("hit"));
        assert_eq!(second.body, first.body);
        assert!(
            second
                .header("cache-control")
                .unwrap()
                .starts_with("private")
        );
        bodies.push(first.json());
    }
    // The owner may edit, the other user may not: each was answered their own.
    assert_eq!(bodies[0]["data"][0]["permissions"]["edit"], true);
    assert_eq!(bodies[1]["data"][0]["permissions"]["edit"], false);
    // Anonymous callers get neither.
    let anonymous = app.get(list, None).await;
    assert_eq!(anonymous.json()["data"][0]["permissions"]["edit"], false);
    assert_eq!(
        anonymous.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    // A revoked key is refused at once, not answered from the cache.
    let created = app
        .post("/api/1/me/api_tokens/", &other.key, json!({}))
        .await
        .json();
    let id = created["id"].as_str().unwrap();
    let token = created["token"].as_str().unwrap();
    app.get(list, Some(token)).await;
    settle().await;
    app.get(list, Some(token)).await;
    let kept = app.get(list, Some(token)).await;
    assert_eq!(kept.header(CACHE).as_deref(), Some("hit"));
    let r = app
        .delete(&format!("/api/1/me/api_tokens/{id}/"), &other.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get(list, Some(token)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["message"], "Revoked API token");
}

#[tokio::test]
async fn what_depends_on_the_time_is_never_kept() {
    let app = watched().await;
    app.dataset(&app.admin_key, "Budget").await;
    for _ in 0..2 {
        let r = app
            .get(
                "/api/2/datasets/search/?last_update_range=last_30_days",
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header(CACHE), None, "a relative time range is not kept");
    }
    // An answer of a private dataset to its owner is never served to an anonymous caller.
    let private = app
        .post(
            "/api/1/datasets/",
            &app.admin_key,
            json!({"title": "Secret", "description": "d", "private": true}),
        )
        .await
        .json();
    let path = format!("/api/1/datasets/{}/", private["id"].as_str().unwrap());
    assert_eq!(
        app.get(&path, Some(&app.admin_key)).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_key_holds_the_field_mask_and_the_host() {
    let app = watched().await;
    app.dataset(&app.admin_key, "Budget").await;
    settle().await;
    let get = |fields: Option<&'static str>, host: &'static str| {
        let app = &app;
        async move {
            let mut req = Request::builder()
                .method(Method::GET)
                .uri("/api/1/datasets/")
                .header("host", host);
            if let Some(f) = fields {
                req = req.header("x-fields", f);
            }
            app.send(req.body(Body::empty()).unwrap()).await
        }
    };
    let full = get(None, "a.test").await;
    let masked = get(Some("data{title}"), "a.test").await;
    assert_eq!(masked.json()["data"][0], json!({"title": "Budget"}));
    assert!(full.json()["data"][0]["id"].is_string());
    let again = get(Some("data{title}"), "a.test").await;
    assert_eq!(again.header(CACHE).as_deref(), Some("hit"));
    assert_eq!(again.json()["data"][0], json!({"title": "Budget"}));
    // Absolute URLs are built from the Host when no public URL is set.
    let other = get(None, "b.test").await;
    assert_eq!(other.header(CACHE).as_deref(), Some("miss"));
    let uri = other.json()["data"][0]["uri"].as_str().unwrap().to_string();
    assert!(uri.starts_with("http://b.test/"), "{uri}");
}

async fn total(app: &TestApp, list: &str) -> i64 {
    app.get(list, None).await.json()["total"].as_i64().unwrap()
}

#[tokio::test]
async fn identical_requests_arriving_together_are_computed_once() {
    let app = watched().await;
    app.dataset(&app.admin_key, "Budget de Lyon").await;
    settle().await;
    let path = "/api/2/datasets/search/?q=budget&facets=license,format,organization,tag";
    let answers = futures_util::future::join_all((0..8).map(|_| app.get(path, None))).await;
    let misses = answers
        .iter()
        .filter(|r| r.header(CACHE).as_deref() == Some("miss"))
        .count();
    assert_eq!(misses, 1, "one computes, the others wait for its answer");
    assert!(answers.iter().all(|r| r.body == answers[0].body));
}

#[tokio::test]
async fn a_not_found_is_kept_until_the_catalog_changes() {
    let app = watched().await;
    settle().await;
    let path = "/api/1/datasets/budget/";
    assert_eq!(app.get(path, None).await.status, StatusCode::NOT_FOUND);
    let again = app.get(path, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.header(CACHE).as_deref(), Some("hit"));
    app.dataset(&app.admin_key, "Budget").await;
    assert_eq!(app.get(path, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn streamed_documents_are_not_kept() {
    let app = watched().await;
    let ds = app.dataset(&app.admin_key, "Volumineux").await;
    let id = ds["id"].as_str().unwrap();
    for i in 0..201 {
        app.remote(id, &app.admin_key, &format!("r{i}")).await;
    }
    let path = format!("/api/1/datasets/{id}/");
    let answers = futures_util::future::join_all((0..4).map(|_| app.get(&path, None))).await;
    for r in &answers {
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header(CACHE), None);
        assert_eq!(r.json()["resources"].as_array().unwrap().len(), 201);
    }
}
