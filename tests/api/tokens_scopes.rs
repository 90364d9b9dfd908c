//! Scoped and expiring tokens (beyond udata): `scopes` on `POST /me/api_tokens/`, what each scope
//! allows, the refusal of bad scopes, and the record of a token's use.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, id_of};

/// A token made through the API for `user` with `body`; returns the answer's JSON.
async fn make(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let r = app.post("/api/1/me/api_tokens/", &user.key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

fn key_of(token: &Value) -> String {
    token["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_token_holds_admin_unless_told_otherwise_and_the_listing_shows_real_scopes() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = id_of(&app.dataset(&user.key, "Mine").await);
    let default = make(&app, &user, json!({"name": "ci"})).await;
    assert_eq!(default["scopes"], json!(["admin"]));
    let udata_style = make(&app, &user, json!({"scopes": ["admin"]})).await;
    assert_eq!(udata_style["scopes"], json!(["admin"]));
    let narrow = make(
        &app,
        &user,
        json!({"scopes": ["read", format!("dataset:{ds}")]}),
    )
    .await;
    assert_eq!(narrow["scopes"], json!(["read", format!("dataset:{ds}")]));
    let listed = app
        .get("/api/1/me/api_tokens/", Some(&user.key))
        .await
        .json();
    let scopes_of = |id: &Value| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == *id)
            .unwrap()["scopes"]
            .clone()
    };
    assert_eq!(scopes_of(&narrow["id"]), narrow["scopes"]);
    assert_eq!(scopes_of(&default["id"]), json!(["admin"]));
}

#[tokio::test]
async fn a_read_token_reads_what_its_user_may_see_privately_and_writes_nothing() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = app
        .post(
            "/api/1/datasets/",
            &user.key,
            json!({"title": "Secret", "description": "d", "private": true}),
        )
        .await;
    assert_eq!(ds.status, StatusCode::CREATED);
    let ds = id_of(&ds.json());
    let read = key_of(&make(&app, &user, json!({"scopes": ["read"]})).await);
    let path = format!("/api/1/datasets/{ds}/");
    assert_eq!(app.get(&path, Some(&read)).await.status, StatusCode::OK);
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/1/me/", Some(&read)).await.status,
        StatusCode::OK
    );
    for r in [
        app.put(&path, &read, json!({"title": "changed"})).await,
        app.delete(&path, &read).await,
        app.post("/api/1/me/api_tokens/", &read, json!({})).await,
        app.put("/api/1/me/", &read, json!({"about": "x"})).await,
        app.post(
            "/api/1/datasets/",
            &read,
            json!({"title": "t", "description": "d"}),
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        assert!(r.json()["message"].is_string());
    }
    assert_eq!(
        app.get(&path, Some(&user.key)).await.json()["title"],
        "Secret"
    );
}

#[tokio::test]
async fn a_narrow_token_cannot_make_a_wider_one() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let org = app.organization(&user.key, "Org").await;
    let ds = id_of(&app.dataset(&user.key, "Mine").await);
    let count = || async {
        let listed = app.get("/api/1/me/api_tokens/", Some(&user.key)).await;
        listed.json().as_array().unwrap().len()
    };
    for scope in [format!("organization:{org}"), format!("dataset:{ds}")] {
        let narrow = key_of(&make(&app, &user, json!({"scopes": [scope]})).await);
        let made = count().await;
        let r = app
            .post(
                "/api/1/me/api_tokens/",
                &narrow,
                json!({"scopes": ["admin"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{scope}");
        assert_eq!(count().await, made, "{scope}: nothing made");
    }
}

#[tokio::test]
async fn bad_scopes_are_400_with_the_field_named() {
    let app = TestApp::new().await;
    let alice = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let bobs_private = app
        .post(
            "/api/1/datasets/",
            &bob.key,
            json!({"title": "Bob's", "description": "d", "private": true}),
        )
        .await;
    let bobs_private = id_of(&bobs_private.json());
    let bobs_org = app.organization(&bob.key, "Bob's org").await;
    for scopes in [
        json!("admin"),
        json!([]),
        json!(["write"]),
        json!([42]),
        json!(["dataset:budget"]),
        json!(["dataset:5f1e2d3c4b5a697887960504"]),
        json!([format!("dataset:{bobs_private}")]),
        json!([format!("organization:{bobs_org}")]),
        json!(["read", "organization:"]),
        json!(vec!["read"; 21]),
    ] {
        let r = app
            .post(
                "/api/1/me/api_tokens/",
                &alice.key,
                json!({"scopes": scopes}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{scopes}: {}", r.text());
        assert!(
            r.json()["errors"]["scopes"].is_array(),
            "{scopes}: {}",
            r.text()
        );
    }
    // A private dataset of someone else is refused exactly as one that does not exist.
    let hidden = scope_errors(&app, &alice, format!("dataset:{bobs_private}")).await;
    let missing = scope_errors(&app, &alice, "dataset:5f1e2d3c4b5a697887960504".into()).await;
    assert_eq!(
        hidden.to_string().replace(&bobs_private, "ID"),
        missing
            .to_string()
            .replace("5f1e2d3c4b5a697887960504", "ID")
    );
    let listed = app
        .get("/api/1/me/api_tokens/", Some(&alice.key))
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_dataset_token_writes_on_that_dataset_only() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let mine = id_of(&app.dataset(&user.key, "Mine").await);
    let other = id_of(&app.dataset(&user.key, "Other").await);
    let key = key_of(&make(&app, &user, json!({"scopes": [format!("dataset:{mine}")]})).await);
    let r = app
        .put(
            &format!("/api/1/datasets/{mine}/"),
            &key,
            json!({"title": "Renamed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.remote(&mine, &key, "A file").await;
    assert_eq!(r["title"], "A file");
    let r = app
        .put(
            &format!("/api/1/datasets/{other}/"),
            &key,
            json!({"title": "Renamed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_token_records_its_use_without_a_write_per_request() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let made = make(&app, &user, json!({"name": "ci"})).await;
    assert_eq!(made["last_used_at"], Value::Null);
    let key = key_of(&made);
    let last_used = || async {
        let listed = app
            .get("/api/1/me/api_tokens/", Some(&user.key))
            .await
            .json();
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == made["id"])
            .unwrap()["last_used_at"]
            .clone()
    };
    assert_eq!(
        app.get("/api/1/me/", Some(&key)).await.status,
        StatusCode::OK
    );
    let first = last_used().await;
    assert!(first.is_string(), "{first}");
    // Within the minute, later uses write nothing.
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/1/datasets/", Some(&key)).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(last_used().await, first);
}

#[tokio::test]
async fn an_expiring_token_works_until_its_date() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let soon = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let made = make(&app, &user, json!({"expires_at": soon, "scopes": ["read"]})).await;
    assert!(made["expires_at"].is_string());
    assert_eq!(
        app.get("/api/1/me/", Some(&key_of(&made))).await.status,
        StatusCode::OK
    );
}

async fn scope_errors(app: &TestApp, user: &TestUser, scope: String) -> Value {
    let r = app
        .post(
            "/api/1/me/api_tokens/",
            &user.key,
            json!({"scopes": [scope]}),
        )
        .await;
    r.json()["errors"]["scopes"].clone()
}
