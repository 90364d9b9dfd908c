//! Datasets' and resources' `metrics` counted for real: views (API reads of one dataset) and
//! downloads (files served, permalinks sent elsewhere), counted in memory and flushed as
//! increments; nothing counted for a refused or missing object; the flush leaves the response
//! cache's generation alone.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, id_of};
use crate::resource_helpers::{owner_with_dataset, upload_aaa};

async fn flush(app: &TestApp) -> usize {
    rudata::metrics::flush(&app.state).await.unwrap()
}

/// The totals stored for `id`: (views, downloads).
async fn stored(app: &TestApp, id: &str) -> (i64, i64) {
    let counts = app.state.store.object_counts(&[id]).await.unwrap();
    counts
        .get(id)
        .map(|c| (c.views, c.downloads))
        .unwrap_or_default()
}

fn resource<'a>(dataset: &'a Value, rid: &str) -> &'a Value {
    dataset["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rid)
        .unwrap()
}

#[tokio::test]
async fn n_downloads_and_views_give_exactly_n_after_a_flush() {
    let app = TestApp::new().await;
    let (owner, ds) = owner_with_dataset(&app).await;
    let file = upload_aaa(&app, &ds, &owner.key).await;
    let file_rid = id_of(&file);
    let file_path = TestApp::path_of(file["url"].as_str().unwrap());
    let remote = app.remote(&ds, &owner.key, "Remote").await;
    let remote_rid = id_of(&remote);

    // 5 downloads of the stored file: 4 whole, 1 a range from its first byte.
    for _ in 0..4 {
        let r = app.get(&file_path, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text(), "aaa");
    }
    let r = app
        .raw(
            Method::GET,
            &file_path,
            None,
            &[("range", "bytes=0-1")],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    // Not downloads: a later range (the same download, resumed), a HEAD.
    let r = app
        .raw(
            Method::GET,
            &file_path,
            None,
            &[("range", "bytes=1-2")],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    let r = app
        .raw(Method::HEAD, &file_path, None, &[], Vec::new())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The stored file's permalink sends to `/s/`, which counts the download when it is followed.
    let r = app
        .get(&format!("/api/1/datasets/r/{file_rid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    // 3 downloads of the remote file through its permalink (the second and third from the cache).
    for _ in 0..3 {
        let r = app
            .get(&format!("/api/1/datasets/r/{remote_rid}/"), None)
            .await;
        assert_eq!(r.status, StatusCode::FOUND);
    }
    // 6 views: v1 (computed, then from the cache), v2, v1 by the owner, compressed, with a field
    // mask. (Once SQLite's watcher has seen the writes above: it moves the generation once more at
    // its next poll, 200 ms.)
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let v1 = format!("/api/1/datasets/{ds}/");
    assert_eq!(app.get(&v1, None).await.status, StatusCode::OK);
    let hit = app.get(&v1, None).await;
    assert_eq!(hit.header("x-rudata-cache").as_deref(), Some("hit"));
    assert_eq!(
        app.get(&format!("/api/2/datasets/{ds}/"), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.get(&v1, Some(&owner.key)).await.status, StatusCode::OK);
    let gzip = app
        .raw(
            Method::GET,
            &v1,
            None,
            &[("accept-encoding", "gzip")],
            Vec::new(),
        )
        .await;
    assert_eq!(gzip.header("content-encoding").as_deref(), Some("gzip"));
    let masked = app
        .raw(
            Method::GET,
            &v1,
            None,
            &[("x-fields", "id,title")],
            Vec::new(),
        )
        .await;
    assert_eq!(masked.json().as_object().unwrap().len(), 2);
    // Not views: revalidations (304), answered before the router and through the layers.
    let etag = hit.header("etag").unwrap();
    for extra in [None, Some(("origin", "https://example.org"))] {
        let mut headers = vec![("if-none-match", etag.as_str())];
        headers.extend(extra);
        let r = app.raw(Method::GET, &v1, None, &headers, Vec::new()).await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    }

    // Nothing is stored before the flush; the flush writes the dataset and both resources. (The
    // generation is read once SQLite's watcher, polling every 200 ms, has seen the writes above.)
    assert_eq!(stored(&app, &ds).await, (0, 0));
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let generation = app.state.store.changes().current();
    assert!(generation.is_some());
    assert_eq!(flush(&app).await, 3);
    assert_eq!(stored(&app, &ds).await, (6, 8));
    assert_eq!(stored(&app, &file_rid).await, (0, 5));
    assert_eq!(stored(&app, &remote_rid).await, (0, 3));
    // A second flush adds nothing (the counts went with the first).
    assert_eq!(flush(&app).await, 0);
    assert_eq!(stored(&app, &ds).await, (6, 8));

    // The answers show them once computed again (a read not kept before: the slug's).
    let slug = app.get(&v1, None).await.json()["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let read = app
        .get(&format!("/api/1/datasets/{slug}/"), None)
        .await
        .json();
    assert_eq!(read["metrics"]["views"], 6);
    assert_eq!(read["metrics"]["resources_downloads"], 8);
    assert_eq!(resource(&read, &file_rid)["metrics"]["views"], 5);
    assert_eq!(resource(&read, &remote_rid)["metrics"]["views"], 3);
    let list = app.get("/api/1/datasets/?page_size=5", None).await.json();
    let listed = &list["data"].as_array().unwrap()[0];
    assert_eq!(listed["metrics"]["resources_downloads"], 8);
    assert_eq!(resource(listed, &remote_rid)["metrics"]["views"], 3);
    let v2 = app
        .get(&format!("/api/2/datasets/{slug}/"), None)
        .await
        .json();
    assert_eq!(v2["metrics"]["views"], 6);
    let page = app
        .get(&format!("/api/2/datasets/{ds}/resources/"), None)
        .await
        .json();
    let counted: Vec<i64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metrics"]["views"].as_i64().unwrap())
        .collect();
    assert_eq!(counted.iter().sum::<i64>(), 8, "{page}");
    let one = app
        .get(&format!("/api/1/datasets/{ds}/resources/{file_rid}/"), None)
        .await
        .json();
    assert_eq!(one["metrics"]["views"], 5);

    // The flushes moved no generation, so nothing kept was dropped (a second is five polls).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(app.state.store.changes().current(), generation);
}

#[tokio::test]
async fn nothing_is_counted_for_a_refused_or_missing_request() {
    let app = TestApp::new().await;
    let (owner, ds) = owner_with_dataset(&app).await;
    let file = upload_aaa(&app, &ds, &owner.key).await;
    let file_path = TestApp::path_of(file["url"].as_str().unwrap());
    let rid = id_of(&file);
    let private = app.dataset(&owner.key, "Private").await;
    let private_id = id_of(&private);
    let put = app
        .put(
            &format!("/api/1/datasets/{private_id}/"),
            &owner.key,
            serde_json::json!({"private": true}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let hidden = upload_aaa(&app, &private_id, &owner.key).await;
    let hidden_path = TestApp::path_of(hidden["url"].as_str().unwrap());
    let hidden_rid = id_of(&hidden);
    let stranger = app.user("stranger@example.org").await;

    for (path, key, status) in [
        (format!("/api/1/datasets/{private_id}/"), None, 404),
        (
            format!("/api/1/datasets/{private_id}/"),
            Some(&stranger.key),
            404,
        ),
        (format!("/api/2/datasets/{private_id}/"), None, 404),
        (hidden_path.clone(), None, 404),
        (format!("/api/1/datasets/r/{hidden_rid}/"), None, 404),
        (
            "/api/1/datasets/000000000000000000000000/".into(),
            None,
            404,
        ),
        (
            "/api/1/datasets/r/00000000-0000-0000-0000-000000000000".into(),
            None,
            404,
        ),
        (format!("{file_path}-not-there"), None, 404),
        (
            format!("/api/1/datasets/{ds}/"),
            Some(&"bad-key".to_string()),
            401,
        ),
    ] {
        // Twice: the second may come from the cache.
        for _ in 0..2 {
            let r = app.get(&path, key.map(String::as_str)).await;
            assert_eq!(r.status.as_u16(), status, "{path}: {}", r.text());
        }
    }
    // Past the end of the file: refused.
    let r = app
        .raw(
            Method::GET,
            &file_path,
            None,
            &[("range", "bytes=10-")],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    // Revalidated: nothing downloaded.
    let sha1 = file["checksum"]["value"].as_str().unwrap();
    let r = app
        .raw(
            Method::GET,
            &file_path,
            None,
            &[("if-none-match", &format!("\"{sha1}\""))],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);

    assert_eq!(flush(&app).await, 0);
    for id in [&ds, &rid, &private_id, &hidden_rid] {
        assert_eq!(stored(&app, id).await, (0, 0), "{id}");
    }
}

#[tokio::test]
async fn a_views_of_its_web_page_count_as_the_datasets_views() {
    let app = crate::cache::watched().await;
    let ds = app.dataset(&app.admin_key, "Seen on the web").await;
    let (id, slug) = (id_of(&ds), ds["slug"].as_str().unwrap().to_string());
    crate::cache::settle().await;
    // The second French view is answered from the response cache: counted all the same.
    for path in [
        format!("/fr/datasets/{slug}/"),
        format!("/fr/datasets/{slug}/"),
        format!("/en/datasets/{id}"),
    ] {
        assert_eq!(app.get(&path, None).await.status, StatusCode::OK, "{path}");
    }
    // A page that does not exist counts nothing.
    assert_eq!(
        app.get("/fr/datasets/nothing-here/", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(flush(&app).await, 1);
    assert_eq!(stored(&app, &id).await, (3, 0));
}

#[tokio::test]
async fn a_purged_dataset_takes_its_counts_with_it() {
    let app = TestApp::new().await;
    let (owner, ds) = owner_with_dataset(&app).await;
    let file = upload_aaa(&app, &ds, &owner.key).await;
    let rid = id_of(&file);
    let kept = id_of(&app.dataset(&owner.key, "Kept").await);
    let path = TestApp::path_of(file["url"].as_str().unwrap());
    assert_eq!(app.get(&path, None).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/1/datasets/{kept}/"), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(flush(&app).await, 3);
    let r = app
        .delete(&format!("/api/1/datasets/{ds}/"), &owner.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let report = rudata::ops::purge::purge(&app.state, None).await.unwrap();
    assert_eq!(report.datasets, 1);
    assert_eq!(stored(&app, &ds).await, (0, 0));
    assert_eq!(stored(&app, &rid).await, (0, 0));
    assert!(
        app.state
            .store
            .object_counts(&[&ds, &rid])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(stored(&app, &kept).await, (1, 0));
}
