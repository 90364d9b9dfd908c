//! Authentication and tokens: checklist items 1–8.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn item_01_create_without_credentials_is_401_with_www_authenticate() {
    let app = TestApp::new().await;
    let r = app
        .request(
            axum::http::Method::POST,
            "/api/1/datasets/",
            None,
            Some(&json!({"title": "t", "description": "d"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["message"].is_string());
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"uData\"")
    );
}

#[tokio::test]
async fn item_02_fake_key_is_401_even_on_get() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/", Some("fake")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["message"], "Invalid API token");
}
