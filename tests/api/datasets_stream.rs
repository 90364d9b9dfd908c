//! The full v1 document of a dataset streams its resources in batches: the same bytes as the
//! in-memory rendering, resources in order, and a quality computed from the store's summary that
//! follows every kind of resource write.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{get_ok, path_of, put_ok};
use crate::helpers::{TestApp, id_of};
use crate::v2_helpers::{dataset_with, ids, inline_resources};

/// The document as streamed, checked to be compact with keys in order (re-serialising it changes
/// nothing), and the same document as the list renders in memory.
async fn streamed_matches_listed(app: &TestApp, id: &str, key: Option<&str>) -> Value {
    let r = app.get(&path_of(id), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    let streamed = r.json();
    assert_eq!(r.text(), serde_json::to_string(&streamed).unwrap());
    let listed = app.get("/api/1/datasets/?page_size=1", key).await.json()["data"][0].clone();
    assert_eq!(listed["id"], id);
    assert_eq!(streamed, listed);
    streamed
}

#[tokio::test]
async fn a_dataset_of_many_resources_streams_the_document_it_renders() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    // 450 resources: two full batches and a partial one.
    let ds = created_big(&app, &user.key, 450).await;
    let id = id_of(&ds);
    for key in [None, Some(user.key.as_str())] {
        let doc = streamed_matches_listed(&app, &id, key).await;
        assert_eq!(ids(&doc), ids(&ds));
        let titles: Vec<String> = (0..450).map(|i| format!("R{i}")).collect();
        let got: Vec<&str> = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap())
            .collect();
        assert_eq!(got, titles);
        assert_eq!(doc["extras"], json!({"k": "v"}));
        assert_eq!(doc["tags"], json!(["streamed"]));
    }
}

#[tokio::test]
async fn batch_boundaries_and_empty_datasets_stream_whole_documents() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    for n in [0, 1, 200, 400] {
        let ds = dataset_with(&app, &user.key, &format!("Size {n}"), inline_resources(n)).await;
        let r = app.get(&path_of(&id_of(&ds)), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let doc = r.json();
        assert_eq!(r.text(), serde_json::to_string(&doc).unwrap());
        assert_eq!(ids(&doc), ids(&ds), "{n} resources");
        assert_eq!(doc["id"], ds["id"]);
        assert_eq!(
            doc["quality"]["has_resources"],
            if n > 0 { json!(true) } else { Value::Null }
        );
    }
}

async fn created_big(app: &TestApp, key: &str, n: usize) -> Value {
    crate::dataset_helpers::created(
        app,
        key,
        json!({"title": "Big", "description": "d", "resources": inline_resources(n),
               "frequency": "daily", "tags": ["streamed"], "extras": {"k": "v"},
               "temporal_coverage": {"start": "2020-01-01", "end": "2020-12-31"}}),
    )
    .await
}

/// The quality the stream (and API v2) compute from the store's columns follows inserts, updates,
/// whole-list writes and deletes as the in-memory one does.
#[tokio::test]
async fn quality_follows_every_resource_write() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let pdf = json!({"title": "p", "filetype": "remote", "type": "main", "format": "PDF",
                     "url": "https://example.com/p.pdf"});
    let ds = dataset_with(&app, &user.key, "Quality", vec![pdf]).await;
    let id = id_of(&ds);
    let quality = |doc: &Value| {
        let q = &doc["quality"];
        (
            q["has_open_format"].clone(),
            q["resources_documentation"].clone(),
            q["all_resources_available"].clone(),
        )
    };
    let check = |expected: (Value, Value, Value)| {
        let app = &app;
        let id = id.clone();
        async move {
            let doc = streamed_matches_listed(app, &id, None).await;
            assert_eq!(quality(&doc), expected, "{}", doc["quality"]);
            let v2 = app
                .get(&format!("/api/2/datasets/{id}/"), None)
                .await
                .json();
            assert_eq!(v2["quality"], doc["quality"]);
        }
    };
    check((json!(false), json!(false), json!(true))).await;
    // An insert in an open format, then a description on the first resource.
    let added = app.remote(&id, &user.key, "csv file").await;
    check((json!(true), json!(false), json!(true))).await;
    let rid = ids(&ds)[0].clone();
    let path = format!("/api/1/datasets/{id}/resources/{rid}/");
    let r = app
        .put(&path, &user.key, json!({"description": "Read me"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    check((json!(true), json!(true), json!(true))).await;
    // A check result from the platform.
    let r = app
        .put(
            &format!("/api/2/datasets/{id}/resources/{}/extras/", id_of(&added)),
            &app.admin_key,
            json!({"check:available": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    check((json!(true), json!(true), json!(false))).await;
    // A whole-list write (the dataset PUT with resources) drops the csv resource.
    let kept = get_ok(&app, &id, None).await["resources"][1].clone();
    put_ok(&app, &id, &user.key, json!({"resources": [kept]})).await;
    check((json!(false), json!(true), json!(true))).await;
    // A delete leaves no resource: the resource criteria no longer apply.
    let r = app.delete(&path, &user.key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    check((Value::Null, Value::Null, Value::Null)).await;
}
