//! Helpers shared by the API v2 test files: datasets with many inline resources, and requests with
//! a raw body and content type.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::dataset_helpers::created;
use crate::helpers::{TestApp, TestResponse, id_of};

/// `n` remote resources `R0`…: every third is documentation, the others main; csv and pdf alternate.
pub fn inline_resources(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "title": format!("R{i}"),
                "filetype": "remote",
                "type": if i % 3 == 0 { "documentation" } else { "main" },
                "format": if i % 2 == 0 { "csv" } else { "pdf" },
                "url": format!("https://example.com/{i}.csv"),
            })
        })
        .collect()
}

/// A dataset of `key`'s user with the given inline resources; returns its JSON.
pub async fn dataset_with(app: &TestApp, key: &str, title: &str, resources: Vec<Value>) -> Value {
    created(
        app,
        key,
        json!({"title": title, "description": "d", "resources": resources}),
    )
    .await
}

/// The resource ids of dataset JSON `ds`, in order.
pub fn ids(ds: &Value) -> Vec<String> {
    ds["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}

/// A request with a raw body of content type `content_type` (none when empty).
pub async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    content_type: &str,
    body: &str,
) -> TestResponse {
    let headers: Vec<(&str, &str)> = if content_type.is_empty() {
        vec![]
    } else {
        vec![("content-type", content_type)]
    };
    app.raw(method, path, key, &headers, body.as_bytes().to_vec())
        .await
}

/// Asserts a `{"message": ...}` answer with this status.
pub fn assert_message(r: &TestResponse, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": message }), "{}", r.text());
}
