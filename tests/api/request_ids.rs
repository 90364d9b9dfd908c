//! Request ids: every answer carries an `X-Request-Id`, the client's own when it sent a usable one.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::helpers::{TestApp, TestResponse};

async fn get_with_id(app: &TestApp, path: &str, id: Option<&str>) -> TestResponse {
    let mut req = Request::builder().uri(path).header("host", "rudata.test");
    if let Some(id) = id {
        req = req.header("X-Request-Id", id);
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn a_client_request_id_is_echoed() {
    let app = TestApp::new().await;
    let r = get_with_id(&app, "/api/1/datasets/", Some("batch-42.step-7")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-request-id").as_deref(), Some("batch-42.step-7"));
}

#[tokio::test]
async fn errors_carry_the_request_id_too() {
    let app = TestApp::new().await;
    let r = get_with_id(&app, "/api/1/datasets/no-such-dataset/", Some("lost-1")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-request-id").as_deref(), Some("lost-1"));
}

#[tokio::test]
async fn a_request_without_id_gets_a_fresh_one_each_time() {
    let app = TestApp::new().await;
    let first = get_with_id(&app, "/api/1/datasets/", None)
        .await
        .header("x-request-id")
        .expect("an id");
    let second = get_with_id(&app, "/api/1/datasets/", None)
        .await
        .header("x-request-id")
        .expect("an id");
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert!(uuid::Uuid::parse_str(&second).is_ok(), "{second}");
    assert_ne!(first, second);
}

#[tokio::test]
async fn an_unusable_client_id_is_replaced() {
    let app = TestApp::new().await;
    let long = "x".repeat(129);
    for bad in [long.as_str(), "has space", "tab\there"] {
        let r = get_with_id(&app, "/api/1/datasets/", Some(bad)).await;
        let id = r.header("x-request-id").expect("an id");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} gave {id}");
    }
}
