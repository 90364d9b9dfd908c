//! Helpers shared by the resource test files (and the purge tests): a user with a dataset,
//! the `aaa` upload and its checksum, and a dataset's resource ids.

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, TestUser, id_of};

pub const AAA_SHA1: &str = "7e240de74fb1ed08fa08d38063f6a6a91462a815";

/// A user with a dataset of their own: `(user, dataset id)`.
pub async fn owner_with_dataset(app: &TestApp) -> (TestUser, String) {
    let user = app.user("owner@example.org").await;
    let ds = app.dataset(&user.key, "Test dataset").await;
    (user, id_of(&ds))
}

/// Uploads `test.txt` (`aaa`) and returns the resource JSON.
pub async fn upload_aaa(app: &TestApp, ds: &str, key: &str) -> Value {
    let r = app.upload(ds, key, "test.txt", b"aaa").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// The resource ids of dataset `ds` as `key` sees them, in order.
pub async fn resource_ids(app: &TestApp, ds: &str, key: &str) -> Vec<String> {
    let r = app.get(&format!("/api/1/datasets/{ds}/"), Some(key)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}
