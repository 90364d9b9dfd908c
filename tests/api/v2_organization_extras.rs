//! API v2 extras of organizations: admins change them, no key is reserved, `custom` field
//! definitions are checked, a deleted organization is gone for everyone.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::v2_helpers::{assert_message, send_raw};

const JSON: &str = "application/json";

#[tokio::test]
async fn admins_merge_and_remove_organization_extras() {
    let app = TestApp::new().await;
    let admin = app.user("alice@example.org").await;
    let editor = app.user("carol@example.org").await;
    let stranger = app.user("bob@example.org").await;
    let org = app.organization(&admin.key, "Extras Org").await;
    app.add_member(&org, &editor, "editor").await;
    let path = format!("/api/2/organizations/{org}/extras/");
    let before = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    assert_eq!(app.get(&path, None).await.json(), json!({}));

    let r = send_raw(&app, Method::PUT, &path, None, JSON, "{").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    for key in [&stranger.key, &editor.key] {
        let r = app.put(&path, key, json!({"a": 1})).await;
        assert_message(
            &r,
            StatusCode::FORBIDDEN,
            "You do not have the permission to modify that object.",
        );
    }
    // Body errors come before the permission.
    let r = app.put(&path, &stranger.key, json!([1])).await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Wrong payload format, dict expected",
    );

    // No reserved keys here: an admin writes platform-looking keys too.
    let r = app
        .put(
            &path,
            &admin.key,
            json!({"a": 1, "b": null, "dcat": 1, "check:x": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"a": 1, "dcat": 1, "check:x": 2}));
    let after = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    assert_eq!(after["extras"], json!({"a": 1, "dcat": 1, "check:x": 2}));
    assert_ne!(after["last_modified"], before["last_modified"]);
    let by_slug = app
        .get("/api/2/organizations/extras-org/extras", None)
        .await;
    assert_eq!(by_slug.json(), json!({"a": 1, "dcat": 1, "check:x": 2}));

    // DELETE skips absent keys and values that are not strings.
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&admin.key),
        JSON,
        r#"["a", "nope", 1]"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&admin.key),
        JSON,
        r#"{"a": 1}"#,
    )
    .await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Wrong payload format, list expected",
    );
    let r = app
        .put(&path, &app.admin_key, json!({"by": "sysadmin"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        app.get(&path, None).await.json(),
        json!({"dcat": 1, "check:x": 2, "by": "sysadmin"})
    );
    let r = app
        .put(
            "/api/2/organizations/000000000000000000000000/extras/",
            &admin.key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

#[tokio::test]
async fn custom_field_definitions_are_checked() {
    let app = TestApp::new().await;
    let admin = app.user("alice@example.org").await;
    let org = app.organization(&admin.key, "Custom Org").await;
    let path = format!("/api/2/organizations/{org}/extras/");
    let ok = json!([{"title": "t", "description": "d", "type": "choice", "choices": ["a"]}]);
    let r = app.put(&path, &admin.key, json!({"custom": ok})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .put(
            &path,
            &admin.key,
            json!({"custom": [{"title": "t", "description": "d", "type": "x"}, {"title": "u"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let types = "Type 'None' of 'u' should be one of: ['str', 'int', 'float', 'bool', 'datetime', 'date', 'choice']";
    let mandatory =
        "The dictionary does not contain the mandatory keys: 'title', 'description', 'type'.";
    assert_eq!(
        r.json(),
        json!({
            "errors": {"extras": {"type": types, "custom": mandatory}},
            "message": format!("ValidationError (Organization:{org}) (type.{types} custom.{mandatory}: ['extras'])"),
        })
    );
    let r = app.put(&path, &admin.key, json!({"custom": "abc"})).await;
    assert_eq!(
        r.json()["errors"],
        json!({"extras": "'str' object has no attribute 'get'"})
    );
    // The stored definitions are unchanged by the refused writes.
    assert_eq!(app.get(&path, None).await.json(), json!({"custom": ok}));
}

#[tokio::test]
async fn a_deleted_organization_is_gone_for_everyone() {
    let app = TestApp::new().await;
    let admin = app.user("alice@example.org").await;
    let org = app.organization(&admin.key, "Doomed").await;
    let path = format!("/api/2/organizations/{org}/extras/");
    let r = app
        .delete(&format!("/api/1/organizations/{org}/"), &admin.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    for key in [None, Some(admin.key.as_str())] {
        let r = app.get(&path, key).await;
        assert_message(&r, StatusCode::GONE, "Organization has been deleted");
    }
    let r = app.put(&path, &admin.key, json!({"a": 1})).await;
    assert_message(&r, StatusCode::GONE, "Organization has been deleted");
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&app.admin_key),
        JSON,
        r#"["a"]"#,
    )
    .await;
    assert_message(&r, StatusCode::GONE, "Organization has been deleted");
    // Body errors first.
    let r = app.put(&path, &admin.key, json!("x")).await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Wrong payload format, dict expected",
    );
}
