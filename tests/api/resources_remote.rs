//! Remote resources (checklist items 55–60, 74, 79): reading a resource, creating one by POST
//! and its validation, client-chosen ids, formats and schemas.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, id_of};
use crate::resource_helpers::{owner_with_dataset, resource_ids};

/// Checklist item 55.
#[tokio::test]
async fn get_resource_shows_title_url_and_latest_link() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = app.remote(&ds, &user.key, "Remote data").await;
    let rid = id_of(&res);
    let r = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["id"], rid.as_str());
    assert_eq!(body["title"], "Remote data");
    assert_eq!(body["url"], "https://example.com/data.csv");
    assert_eq!(
        body["latest"],
        format!("http://rudata.test/api/1/datasets/r/{rid}")
    );
    // Without the trailing slash too.
    let r = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], rid.as_str());
}

/// Checklist item 55.
#[tokio::test]
async fn resource_visibility_follows_its_dataset() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&app.remote(&ds, &user.key, "Remote data").await);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"private": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, Some(&user.key)).await.status, StatusCode::OK);
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"private": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path, None).await.status, StatusCode::GONE);
    assert_eq!(app.get(&path, Some(&user.key)).await.status, StatusCode::OK);
}

/// Checklist item 56.
#[tokio::test]
async fn create_remote_resource_with_extras() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({
                "title": "Remote", "description": "A remote file", "type": "main",
                "filetype": "remote", "format": "csv", "url": "https://example.com/x.csv",
                "extras": {"answer": 42, "label": "value", "nested": {"a": true}},
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let res = r.json();
    assert!(res.get("success").is_none());
    assert_eq!(res["filetype"], "remote");
    assert_eq!(res["type"], "main");
    assert_eq!(res["extras"]["answer"], 42);
    let rid = id_of(&res);
    let got = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await
        .json();
    assert_eq!(
        got["extras"],
        json!({"answer": 42, "label": "value", "nested": {"a": true}})
    );
    assert_eq!(got["description"], "A remote file");
    assert_eq!(got["format"], "csv");
}

/// Checklist item 57.
#[tokio::test]
async fn post_accepts_only_remote_resources() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    for body in [
        json!({"title": "x", "filetype": "file", "url": "https://example.com/x.csv"}),
        json!({"title": "x", "url": "https://example.com/x.csv"}),
    ] {
        let r = app
            .post(
                &format!("/api/1/datasets/{ds}/resources/"),
                &user.key,
                body.clone(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            r.json()["message"],
            "This endpoint only supports remote resources"
        );
    }
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

/// Checklist item 57.
#[tokio::test]
async fn post_resource_needs_edit_rights_on_an_existing_dataset() {
    let app = TestApp::new().await;
    let (_, ds) = owner_with_dataset(&app).await;
    let other = app.user("other@example.org").await;
    let body = json!({"title": "x", "filetype": "remote", "url": "https://example.com/x.csv"});
    let path = format!("/api/1/datasets/{ds}/resources/");
    let r = app.request(Method::POST, &path, None, Some(&body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.post(&path, &other.key, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json()["message"],
        "You do not have the permission to modify that object."
    );
    let r = app
        .post(
            "/api/1/datasets/5f0c9a3e2b1d4c0012345678/resources/",
            &other.key,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Checklist item 57.
#[tokio::test]
async fn post_resource_needs_title_and_public_url() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let path = format!("/api/1/datasets/{ds}/resources/");
    let r = app
        .post(
            &path,
            &user.key,
            json!({"filetype": "remote", "url": "https://example.com/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["errors"]["title"].is_array(), "{}", r.text());
    let r = app
        .post(
            &path,
            &user.key,
            json!({"title": "t", "filetype": "remote", "url": "not a url"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"]["url"][0], "Invalid URL \"not a url\"");
    let r = app
        .post(
            &path,
            &user.key,
            json!({"title": "t", "filetype": "remote", "url": "http://127.0.0.1/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["errors"]["url"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid URL \"http://127.0.0.1/x\"")
    );
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

/// Checklist item 58.
#[tokio::test]
async fn client_chosen_resource_id_is_ignored() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let forced = "6f1c7a3e-1111-4222-8333-444455556666";
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({"id": forced, "title": "t", "filetype": "remote", "url": "https://example.com/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let rid = id_of(&r.json());
    assert_ne!(rid, forced);
    assert!(uuid::Uuid::parse_str(&rid).is_ok());
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{rid}/"),
            &user.key,
            json!({"id": forced, "title": "renamed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["id"], rid.as_str());
    assert_eq!(r.json()["title"], "renamed");
    assert_eq!(resource_ids(&app, &ds, &user.key).await, vec![rid]);
}

/// Checklist item 59.
#[tokio::test]
async fn format_is_trimmed_and_lowercased() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({"title": "t", "filetype": "remote", "url": "https://example.com/x", "format": " FORMAT "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["format"], "format");
}

/// Checklist item 60.
#[tokio::test]
async fn post_with_array_body_is_rejected() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .request(
            Method::POST,
            &format!("/api/1/datasets/{ds}/resources/"),
            Some(&user.key),
            Some(&json!([{"title": "t", "filetype": "remote", "url": "https://example.com/x"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"]["request"], "expecting a JSON object");
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

/// Checklist item 74.
#[tokio::test]
async fn schema_is_kept_unless_set_to_null() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({"title": "t", "filetype": "remote", "url": "https://example.com/x.csv",
                   "schema": {"url": "https://example.com/schema.json"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["schema"]["url"], "https://example.com/schema.json");
    let rid = id_of(&r.json());
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    let r = app.put(&path, &user.key, json!({"title": "new"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["schema"]["url"], "https://example.com/schema.json");
    let r = app
        .put(&path, &user.key, json!({"title": "newer", "schema": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["schema"], json!(null));
    assert_eq!(app.get(&path, None).await.json()["schema"], json!(null));
}

/// Checklist item 79.
#[tokio::test]
async fn invalid_schema_url_is_rejected() {
    let app = TestApp::new().await;
    let user = app.user("owner@example.org").await;
    let r = app
        .post(
            "/api/1/datasets/",
            &user.key,
            json!({"title": "t", "description": "d", "resources": [
                {"title": "r", "filetype": "remote", "url": "https://example.com/x", "schema": {"url": "test"}}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["errors"]["resources"][0]["schema"]["url"][0],
        "Invalid URL \"test\""
    );
    let ds = id_of(&app.dataset(&user.key, "Test dataset").await);
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({"title": "r", "filetype": "remote", "url": "https://example.com/x", "schema": {"url": "test"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"]["schema"]["url"][0],
        "Invalid URL \"test\""
    );
}
