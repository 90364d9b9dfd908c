//! Deleting a resource (checklist item 77): its file stays served, the path without trailing
//! slash, and who may delete.

use axum::http::{Method, StatusCode};

use crate::helpers::{TestApp, id_of};
use crate::resource_helpers::{owner_with_dataset, resource_ids, upload_aaa};

/// Checklist item 77.
#[tokio::test]
async fn delete_resource_keeps_its_file_served() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let keep = id_of(&app.remote(&ds, &user.key, "remote").await);
    let rid = id_of(&res);
    let url = res["url"].as_str().unwrap().to_string();
    let r = app
        .delete(&format!("/api/1/datasets/{ds}/resources/{rid}/"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    assert_eq!(resource_ids(&app, &ds, &user.key).await, vec![keep]);
    let r = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The file stays downloadable.
    let r = app.get(&TestApp::path_of(&url), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
    // A second delete finds nothing.
    let r = app
        .delete(&format!("/api/1/datasets/{ds}/resources/{rid}/"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Checklist item 77.
#[tokio::test]
async fn delete_resource_without_trailing_slash() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&app.remote(&ds, &user.key, "remote").await);
    // The guide's own example omits the slash.
    let r = app
        .delete(&format!("/api/1/datasets/{ds}/resources/{rid}"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

/// Checklist item 77.
#[tokio::test]
async fn delete_resource_needs_edit_rights() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let other = app.user("other@example.org").await;
    let rid = id_of(&app.remote(&ds, &user.key, "remote").await);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    assert_eq!(
        app.delete(&path, &other.key).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.request(Method::DELETE, &path, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(resource_ids(&app, &ds, &user.key).await, vec![rid]);
    // A sysadmin may.
    assert_eq!(
        app.delete(&path, &app.admin_key).await.status,
        StatusCode::NO_CONTENT
    );
}
