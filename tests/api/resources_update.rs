//! Changing resources (checklist items 66–73, 75): new resources come first, reordering, PUT
//! on hosted and remote resources, and unknown resources.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of};
use crate::resource_helpers::{AAA_SHA1, owner_with_dataset, resource_ids, upload_aaa};

/// Checklist item 66.
#[tokio::test]
async fn new_resources_come_first() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let first = id_of(&upload_aaa(&app, &ds, &user.key).await);
    let second = id_of(&app.remote(&ds, &user.key, "remote").await);
    let third = id_of(&upload_aaa(&app, &ds, &user.key).await);
    assert_eq!(
        resource_ids(&app, &ds, &user.key).await,
        vec![third, second, first]
    );
}

/// Checklist item 67.
#[tokio::test]
async fn reorder_resources_by_ids_or_objects() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    for t in ["a", "b", "c"] {
        app.remote(&ds, &user.key, t).await;
    }
    let ids = resource_ids(&app, &ds, &user.key).await;
    let before = app
        .get(&format!("/api/1/datasets/{ds}/"), Some(&user.key))
        .await
        .json();
    let reversed: Vec<String> = ids.iter().rev().cloned().collect();
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!(reversed),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let listed: Vec<String> = r.json().as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(listed, reversed);
    assert_eq!(resource_ids(&app, &ds, &user.key).await, reversed);
    let after = app
        .get(&format!("/api/1/datasets/{ds}/"), Some(&user.key))
        .await
        .json();
    assert_eq!(after["last_modified"], before["last_modified"]);
    // Objects with ids work too, and may carry changes.
    let objects: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "title": format!("t-{id}")}))
        .collect();
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!(objects),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(resource_ids(&app, &ds, &user.key).await, ids);
    assert_eq!(r.json()[0]["title"], format!("t-{}", ids[0]));
}

/// Checklist item 68.
#[tokio::test]
async fn reorder_must_list_every_resource_exactly_once() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    for t in ["a", "b", "c"] {
        app.remote(&ds, &user.key, t).await;
    }
    let ids = resource_ids(&app, &ds, &user.key).await;
    let path = format!("/api/1/datasets/{ds}/resources/");
    let r = app.put(&path, &user.key, json!([ids[0], ids[1]])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "All resources must be reordered, you provided 2 out of 3"
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    let r = app
        .put(&path, &user.key, json!([ids[0], ids[1], ids[2], unknown]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "All resources must be reordered, you provided 4 out of 3"
    );
    for bad in [
        json!([ids[0], ids[0], ids[1]]),
        json!([ids[0], ids[1], unknown]),
    ] {
        let r = app.put(&path, &user.key, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let msg = r.json()["message"].as_str().unwrap().to_string();
        assert!(
            msg.starts_with("Resource ids must match existing ones in dataset, ie: {"),
            "{msg}"
        );
    }
    let r = app
        .put(
            &path,
            &user.key,
            json!([{"title": "x"}, {"id": ids[1]}, {"id": ids[2]}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["message"], "Each resource must have an 'id' field");
    // Nothing moved.
    assert_eq!(resource_ids(&app, &ds, &user.key).await, ids);
}

/// Checklist item 69.
#[tokio::test]
async fn put_hosted_resource_keeps_its_url() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let rid = id_of(&res);
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{rid}/"),
            &user.key,
            json!({"url": "https://example.com/elsewhere.txt", "title": "New title", "description": "New description", "extras": {"k": "v"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let got = r.json();
    assert_eq!(got["url"], res["url"]);
    assert_eq!(got["title"], "New title");
    assert_eq!(got["description"], "New description");
    assert_eq!(got["extras"], json!({"k": "v"}));
    let stored = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await
        .json();
    assert_eq!(stored["url"], res["url"]);
    assert_eq!(stored["title"], "New title");
}

/// Checklist item 70.
#[tokio::test]
async fn put_remote_resource_changes_its_url() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&app.remote(&ds, &user.key, "remote").await);
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{rid}/"),
            &user.key,
            json!({"url": "https://example.org/new.csv"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["url"], "https://example.org/new.csv");
    assert_eq!(r.json()["title"], "remote");
    let stored = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await
        .json();
    assert_eq!(stored["url"], "https://example.org/new.csv");
}

/// Checklist item 71.
#[tokio::test]
async fn put_hosted_resource_keeps_its_file_fields() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let rid = id_of(&res);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    let r = app
        .put(
            &path,
            &user.key,
            json!({"checksum": {"type": "md5", "value": "abc"}, "filesize": 999, "mime": "text/csv", "format": "csv"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for k in ["checksum", "filesize", "mime", "format", "url", "filetype"] {
        assert_eq!(r.json()[k], res[k], "{k}");
    }
    let r = app.put(&path, &user.key, json!({"checksum": null})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json()["checksum"],
        json!({"type": "sha1", "value": AAA_SHA1})
    );
    let stored = app.get(&path, None).await.json();
    for k in ["checksum", "filesize", "mime", "format", "url"] {
        assert_eq!(stored[k], res[k], "{k}");
    }
}

/// Checklist item 72.
#[tokio::test]
async fn put_remote_resource_changes_its_file_fields() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&app.remote(&ds, &user.key, "remote").await);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    let r = app
        .put(
            &path,
            &user.key,
            json!({"checksum": {"type": "md5", "value": "abc"}, "filesize": 999, "mime": "text/csv", "format": "json"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let got = r.json();
    assert_eq!(got["checksum"], json!({"type": "md5", "value": "abc"}));
    assert_eq!(got["filesize"], 999);
    assert_eq!(got["mime"], "text/csv");
    assert_eq!(got["format"], "json");
    let r = app.put(&path, &user.key, json!({"checksum": null})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["checksum"], json!(null));
    assert_eq!(app.get(&path, None).await.json()["checksum"], json!(null));
}

/// Checklist item 73.
#[tokio::test]
async fn filetype_cannot_change_after_creation() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&upload_aaa(&app, &ds, &user.key).await);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    let r = app
        .put(
            &path,
            &user.key,
            json!({"filetype": "remote", "title": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["message"], "Cannot modify filetype after creation");
    let got = app.get(&path, None).await.json();
    assert_eq!(got["filetype"], "file");
    assert_eq!(got["title"], "test.txt");
    // Sending the same filetype is fine.
    let r = app
        .put(&path, &user.key, json!({"filetype": "file", "title": "y"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Checklist item 75.
#[tokio::test]
async fn unknown_or_malformed_resource_id_is_not_found() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    app.remote(&ds, &user.key, "remote").await;
    let unknown = uuid::Uuid::new_v4();
    for rid in [unknown.to_string(), "not-a-uuid".to_string()] {
        let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
        let r = app.put(&path, &user.key, json!({"title": "x"})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{rid}");
        let r = app.delete(&path, &user.key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{rid}");
        let r = app.get(&path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{rid}");
    }
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{unknown}/"),
            &user.key,
            json!({}),
        )
        .await;
    assert_eq!(r.json()["message"], "Resource does not exist");
    assert_eq!(resource_ids(&app, &ds, &user.key).await.len(), 1);
}

/// Checklist item 75.
#[tokio::test]
async fn resource_of_another_dataset_is_not_found() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let other_ds = id_of(&app.dataset(&user.key, "Other").await);
    let rid = id_of(&app.remote(&other_ds, &user.key, "remote").await);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete(&path, &user.key).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(resource_ids(&app, &other_ds, &user.key).await, vec![rid]);
}
