//! The probes: `/healthz` (alive), `/readyz` (database and storage answer).

use axum::http::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let app = TestApp::new().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    // The old probe is kept.
    assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn readyz_is_200_when_the_database_and_storage_answer() {
    let app = TestApp::new().await;
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "ok");
}

#[tokio::test]
async fn readyz_is_503_with_retry_after_when_the_database_is_gone() {
    let app = TestApp::new().await;
    app.state.store.close().await;
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.headers["retry-after"], "5");
    assert!(
        r.json()["message"].as_str().unwrap().contains("database"),
        "{}",
        r.text()
    );
    // Alive all the same.
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}
