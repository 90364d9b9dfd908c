//! Helpers shared by the dataset test files: paths, create/read/update calls that expect
//! success, list ids, and soft deletion.

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, TestResponse, id_of};

/// The API path of dataset `id` (an id or a slug).
pub fn path_of(id: &str) -> String {
    format!("/api/1/datasets/{id}/")
}

/// The ids of a list answer's `data`, in order.
pub fn data_ids(r: &TestResponse) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {}", r.text()))
        .iter()
        .map(id_of)
        .collect()
}

/// The ids listed at `path` for `key`, in order.
pub async fn list(app: &TestApp, path: &str, key: Option<&str>) -> Vec<String> {
    data_ids(&app.get(path, key).await)
}

/// The same ids as a sorted list (for set comparisons).
pub fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// POSTs a new dataset from `body`; returns the answer as it is.
pub async fn create(app: &TestApp, key: &str, body: Value) -> TestResponse {
    app.post("/api/1/datasets/", key, body).await
}

/// Creates a dataset from `body` (201 expected) and returns its JSON.
pub async fn created(app: &TestApp, key: &str, body: Value) -> Value {
    let r = create(app, key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// Every dataset in the store, seen by the sysadmin (deleted and private ones included).
pub async fn total_datasets(app: &TestApp) -> i64 {
    let r = app
        .get("/api/1/datasets/?page_size=1000", Some(&app.admin_key))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["total"].as_i64().unwrap()
}

/// Reads dataset `id` as `key` (200 expected); returns its JSON.
pub async fn get_ok(app: &TestApp, id: &str, key: Option<&str>) -> Value {
    let r = app.get(&path_of(id), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Updates dataset `id` with `body` as `key` (200 expected); returns its JSON.
pub async fn put_ok(app: &TestApp, id: &str, key: &str, body: Value) -> Value {
    let r = app.put(&path_of(id), key, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Deletes dataset `id` as `key` (204 expected).
pub async fn soft_delete(app: &TestApp, id: &str, key: &str) {
    let r = app.delete(&path_of(id), key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
}

/// The resource ids of a dataset's JSON, in order.
pub fn resource_ids(dataset: &Value) -> Vec<String> {
    dataset["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}
