//! Issue 10 item 4 on S3: the parts of a chunked upload go straight into one S3 multipart upload
//! (as S3 parts), and the final request completes it into the resource's object: no part object,
//! no second copy. Chunks under S3's 5 MiB minimum part size are stored as objects and concatenated,
//! as before. Abandoned multipart uploads are aborted by the cleanup.
//!
//! With `TEST_S3_ENDPOINT` (moto), what is in the bucket is checked: the multipart uploads in
//! progress (`GET /bucket?uploads`, which moto answers unsigned) and the objects under the test's
//! folder. On local storage the same requests run the parts-in-place path: the bytes, the sha1 and
//! the one-resource outcome are checked there too.

use axum::http::StatusCode;
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::common::{curl, test_s3};
use crate::helpers::TestApp;

const MIB: usize = 1024 * 1024;

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// `n` parts of `full` bytes (the last shorter), a different byte pattern in each.
fn content(full: usize, n: usize) -> Vec<u8> {
    (0..full * n - full / 3)
        .map(|i| b'a' + ((i / 7 + i / full) % 26) as u8)
        .collect()
}

async fn setup(app: &TestApp) -> (String, String, String) {
    let user = app.user("multipart@example.org").await;
    let ds = app.dataset(&user.key, "Multipart").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/1/datasets/{ds}/upload/");
    (user.key, ds, path)
}

/// The keys of the multipart uploads in progress under this test's folder of the bucket (S3 only).
fn multipart_uploads(app: &TestApp) -> Option<Vec<String>> {
    let (s3, prefix) = (test_s3()?, app.s3_prefix.clone()?);
    let endpoint = s3.endpoint.unwrap();
    let url = format!("{endpoint}/{}?uploads&prefix={prefix}/", s3.bucket);
    let (status, body) = curl(&[&url]);
    assert_eq!(status, 200, "{body}");
    Some(
        body.split("<Key>")
            .skip(1)
            .map(|s| s.split("</Key>").next().unwrap().to_string())
            .collect(),
    )
}

/// The objects under the test's folder of the bucket (S3 only).
async fn objects(app: &TestApp) -> Option<Vec<String>> {
    app.s3_prefix.as_ref()?;
    Some(app.state.files.list("").await.unwrap())
}

async fn send(app: &TestApp, path: &str, key: &str, uuid: &str, i: usize, parts: &[&[u8]]) {
    let r = app
        .send_part(path, key, uuid, i, parts.len(), parts[i])
        .await;
    assert_eq!(r.status, StatusCode::OK, "part {i}: {}", r.text());
}

/// The final request; the resource's checksum, size and bytes are the file's.
async fn finish(app: &TestApp, path: &str, key: &str, uuid: &str, n: usize, data: &[u8]) -> Value {
    let checksum = format!("sha1:{}", sha1_hex(data));
    let r = app
        .finish_upload(path, key, uuid, n, &[("checksum", &checksum)])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let resource = r.json();
    assert_eq!(resource["checksum"]["value"], sha1_hex(data));
    assert_eq!(resource["filesize"], data.len());
    let got = app
        .get(&TestApp::path_of(resource["url"].as_str().unwrap()), None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body == data, "the file's bytes differ");
    resource
}

/// Before the final request, on S3: one multipart upload, no part stored as an object.
async fn one_multipart_upload(app: &TestApp) {
    if let Some(uploads) = multipart_uploads(app) {
        assert_eq!(uploads.len(), 1, "{uploads:?}");
        assert_eq!(objects(app).await.unwrap(), Vec::<String>::new());
    }
}

/// After the final request, on S3: no multipart upload left, and the resource's file is the only
/// object (no part, no copy).
async fn completed_in_place(app: &TestApp, resource: &Value) {
    let Some(uploads) = multipart_uploads(app) else {
        return;
    };
    assert_eq!(uploads, Vec::<String>::new());
    let objects = objects(app).await.unwrap();
    assert_eq!(objects.len(), 1, "{objects:?}");
    let url = resource["url"].as_str().unwrap();
    assert!(url.ends_with(&objects[0]), "{url} {objects:?}");
}

#[tokio::test]
async fn parts_in_order_go_into_one_multipart_upload_that_the_final_request_completes() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    // 17 MiB parts: each is sent as two S3 parts (the last, 11.3 MiB, too).
    let data = content(17 * MIB, 2);
    let parts: Vec<&[u8]> = data.chunks(17 * MIB).collect();
    for i in 0..parts.len() {
        send(&app, &path, &key, "in-order", i, &parts).await;
    }
    one_multipart_upload(&app).await;
    let resource = finish(&app, &path, &key, "in-order", parts.len(), &data).await;
    completed_in_place(&app, &resource).await;
}

#[tokio::test]
async fn parts_out_of_order_and_a_resent_part_make_the_exact_file() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(5 * MIB, 4);
    let parts: Vec<&[u8]> = data.chunks(5 * MIB).collect();
    // A wrong copy of part 1 first (same size), replaced by the right one later.
    let wrong = vec![b'#'; 5 * MIB];
    let r = app.send_part(&path, &key, "shuffled", 1, 4, &wrong).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for i in [2, 0, 3, 1] {
        send(&app, &path, &key, "shuffled", i, &parts).await;
    }
    one_multipart_upload(&app).await;
    let resource = finish(&app, &path, &key, "shuffled", 4, &data).await;
    completed_in_place(&app, &resource).await;
}

#[tokio::test]
async fn a_part_resent_after_the_parts_in_order_gives_the_sha1_of_the_new_bytes() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(5 * MIB, 3);
    let parts: Vec<&[u8]> = data.chunks(5 * MIB).collect();
    // In order, part 1 wrong the first time (the running sha1 covers it), then right.
    send(&app, &path, &key, "again", 0, &parts).await;
    let wrong = vec![b'?'; 5 * MIB];
    let r = app.send_part(&path, &key, "again", 1, 3, &wrong).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    send(&app, &path, &key, "again", 2, &parts).await;
    send(&app, &path, &key, "again", 1, &parts).await;
    one_multipart_upload(&app).await;
    let resource = finish(&app, &path, &key, "again", 3, &data).await;
    completed_in_place(&app, &resource).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parts_sent_in_parallel_make_one_multipart_upload_and_the_exact_file() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let (key, _, path) = setup(&app).await;
    let full = 5 * MIB;
    let data = std::sync::Arc::new(content(full, 6));
    let n = data.len().div_ceil(full);
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (app, key, path, data) = (app.clone(), key.clone(), path.clone(), data.clone());
            tokio::spawn(async move {
                let parts: Vec<&[u8]> = data.chunks(full).collect();
                app.send_part(&path, &key, "parallel", i, n, parts[i]).await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    // Simultaneous first parts agreed on one multipart upload (the last part, if it came before
    // any other, is stored apart and copied in by the final request).
    if let Some(uploads) = multipart_uploads(&app) {
        assert_eq!(uploads.len(), 1, "{uploads:?}");
    }
    let resource = finish(&app, &path, &key, "parallel", n, &data).await;
    completed_in_place(&app, &resource).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_final_requests_make_one_resource() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let (key, ds, path) = setup(&app).await;
    let data = std::sync::Arc::new(content(5 * MIB, 3));
    let parts: Vec<&[u8]> = data.chunks(5 * MIB).collect();
    for i in 0..parts.len() {
        send(&app, &path, &key, "finals", i, &parts).await;
    }
    let checksum = format!("sha1:{}", sha1_hex(&data));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (app, key, path, checksum) =
                (app.clone(), key.clone(), path.clone(), checksum.clone());
            tokio::spawn(async move {
                app.finish_upload(&path, &key, "finals", 3, &[("checksum", &checksum)])
                    .await
            })
        })
        .collect();
    let mut created = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => created.push(r.json()),
            StatusCode::BAD_REQUEST => assert_eq!(r.json()["success"], false, "{}", r.text()),
            other => panic!("{other}: {}", r.text()),
        }
    }
    assert_eq!(created.len(), 1);
    let dataset = app
        .get(&format!("/api/1/datasets/{ds}/"), None)
        .await
        .json();
    assert_eq!(dataset["resources"].as_array().unwrap().len(), 1);
    assert_eq!(created[0]["checksum"]["value"], sha1_hex(&data));
    completed_in_place(&app, &created[0]).await;
}

#[tokio::test]
async fn chunks_under_five_mib_are_stored_apart_and_concatenated() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(300_000, 4);
    let parts: Vec<&[u8]> = data.chunks(300_000).collect();
    for i in [1, 0, 3, 2] {
        send(&app, &path, &key, "small", i, &parts).await;
    }
    if let Some(uploads) = multipart_uploads(&app) {
        assert_eq!(uploads, Vec::<String>::new());
        let objects = objects(&app).await.unwrap();
        assert_eq!(objects.len(), 4, "one object per part: {objects:?}");
    }
    let resource = finish(&app, &path, &key, "small", 4, &data).await;
    completed_in_place(&app, &resource).await;
}

#[tokio::test]
async fn the_last_part_first_is_copied_into_the_multipart_upload() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(5 * MIB, 3);
    let parts: Vec<&[u8]> = data.chunks(5 * MIB).collect();
    // The last part does not tell the size of the others: stored apart.
    for i in [2, 0, 1] {
        send(&app, &path, &key, "last-first", i, &parts).await;
    }
    if let Some(uploads) = multipart_uploads(&app) {
        assert_eq!(uploads.len(), 1, "{uploads:?}");
        let objects = objects(&app).await.unwrap();
        assert_eq!(
            objects.len(),
            1,
            "the last part alone is apart: {objects:?}"
        );
    }
    let resource = finish(&app, &path, &key, "last-first", 3, &data).await;
    completed_in_place(&app, &resource).await;
}

#[tokio::test]
async fn a_wrong_checksum_keeps_the_upload_for_a_right_final_request() {
    let app = TestApp::new().await;
    let (key, ds, path) = setup(&app).await;
    let data = content(5 * MIB, 2);
    let parts: Vec<&[u8]> = data.chunks(5 * MIB).collect();
    for i in 0..parts.len() {
        send(&app, &path, &key, "checked", i, &parts).await;
    }
    let wrong = format!("sha1:{}", "0".repeat(40));
    let r = app
        .finish_upload(&path, &key, "checked", 2, &[("checksum", &wrong)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let dataset = app
        .get(&format!("/api/1/datasets/{ds}/"), None)
        .await
        .json();
    assert_eq!(dataset["resources"].as_array().unwrap().len(), 0);
    if multipart_uploads(&app).is_some() {
        // The final request completed the multipart upload (S3 joined the parts, kept for the
        // next final request): the parts can no longer change.
        let r = app.send_part(&path, &key, "checked", 1, 2, parts[1]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert!(r.text().contains("assembled"), "{}", r.text());
    }
    let resource = finish(&app, &path, &key, "checked", 2, &data).await;
    completed_in_place(&app, &resource).await;
}

#[tokio::test]
async fn the_cleanup_aborts_an_abandoned_multipart_upload() {
    let app = TestApp::new().await;
    let (key, ds, path) = setup(&app).await;
    let data = content(5 * MIB, 3);
    let parts: Vec<&[u8]> = data.chunks(5 * MIB).collect();
    send(&app, &path, &key, "left", 0, &parts).await;
    send(&app, &path, &key, "left", 1, &parts).await;
    one_multipart_upload(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let report = rudata::ops::uploads::cleanup(&app.state, std::time::Duration::from_millis(10))
        .await
        .unwrap();
    assert_eq!(report.uploads, 1);
    if let Some(uploads) = multipart_uploads(&app) {
        assert_eq!(uploads, Vec::<String>::new(), "not aborted");
        assert_eq!(objects(&app).await.unwrap(), Vec::<String>::new());
    }
    let listing = app
        .get(&format!("/api/1/datasets/{ds}/upload/left/"), Some(&key))
        .await
        .json();
    assert_eq!(listing["parts"], serde_json::json!([]));
    // The upload is gone: its uuid starts afresh.
    let r = app.finish_upload(&path, &key, "left", 3, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    for i in 0..parts.len() {
        send(&app, &path, &key, "left", i, &parts).await;
    }
    finish(&app, &path, &key, "left", 3, &data).await;
}
