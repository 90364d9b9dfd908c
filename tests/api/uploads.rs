//! Large-file uploads beyond the checklist: re-sent parts, missing parts, resumption, checksums,
//! the size limit, abandoned-upload cleanup, and concurrent uploads to one dataset.

use axum::http::StatusCode;
use serde_json::Value;
use sha1::Digest;

use crate::helpers::{Part, TestApp, sha1_hex};

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as Digest>::digest(bytes))
}

async fn dataset(app: &TestApp) -> (crate::helpers::TestUser, String, String) {
    let user = app.user("uploader@example.org").await;
    let ds = app.dataset(&user.key, "Uploads").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/1/datasets/{ds}/upload/");
    (user, ds, path)
}

async fn resources(app: &TestApp, ds: &str, key: &str) -> Vec<Value> {
    app.get(&format!("/api/1/datasets/{ds}/"), Some(key))
        .await
        .json()["resources"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_resent_part_replaces_the_earlier_one() {
    let app = TestApp::new().await;
    let (user, ds, path) = dataset(&app).await;
    assert_eq!(
        app.send_part(&path, &user.key, "u1", 0, 2, b"xxxx")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.send_part(&path, &user.key, "u1", 0, 2, b"a,b\n")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.send_part(&path, &user.key, "u1", 1, 2, b"1,2\n")
            .await
            .status,
        StatusCode::OK
    );
    let r = app.finish_upload(&path, &user.key, "u1", 2, &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["checksum"]["value"], sha1_hex(b"a,b\n1,2\n"));
    assert_eq!(r.json()["filesize"], 8);
    let file = app
        .get(&TestApp::path_of(r.json()["url"].as_str().unwrap()), None)
        .await;
    assert_eq!(&file.body[..], b"a,b\n1,2\n");
    assert_eq!(resources(&app, &ds, &user.key).await.len(), 1);
}

#[tokio::test]
async fn a_missing_part_or_an_unknown_uuid_is_a_clear_400_and_parts_are_kept() {
    let app = TestApp::new().await;
    let (user, ds, path) = dataset(&app).await;
    let r = app
        .finish_upload(&path, &user.key, "never-sent", 3, &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["success"], false);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("Unknown upload"),
        "{}",
        r.text()
    );

    app.send_part(&path, &user.key, "u2", 0, 3, b"aa").await;
    app.send_part(&path, &user.key, "u2", 2, 3, b"cc").await;
    let r = app.finish_upload(&path, &user.key, "u2", 3, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "Missing part(s) 1 of upload u2");
    assert!(resources(&app, &ds, &user.key).await.is_empty());
    // Send the missing part: the kept parts complete the file.
    app.send_part(&path, &user.key, "u2", 1, 3, b"bb").await;
    let r = app.finish_upload(&path, &user.key, "u2", 3, &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["checksum"]["value"], sha1_hex(b"aabbcc"));
}

#[tokio::test]
async fn received_parts_can_be_listed_to_resume() {
    let app = TestApp::new().await;
    let (user, ds, path) = dataset(&app).await;
    app.send_part(&path, &user.key, "u3", 0, 3, b"first").await;
    app.send_part(&path, &user.key, "u3", 2, 3, b"third").await;
    let r = app
        .get(&format!("/api/1/datasets/{ds}/upload/u3/"), Some(&user.key))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let parts = r.json()["parts"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["index"], 0);
    assert_eq!(parts[0]["size"], 5);
    assert_eq!(parts[0]["sha1"], sha1_hex(b"first"));
    assert_eq!(parts[1]["index"], 2);
    assert_eq!(r.json()["received_bytes"], 10);
    // Only someone who may edit the dataset sees the upload, and only their own parts.
    let other = app.user("other@example.org").await;
    let r = app
        .get(
            &format!("/api/1/datasets/{ds}/upload/u3/"),
            Some(&other.key),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get(&format!("/api/1/datasets/{ds}/upload/u3/"), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .get(
            &format!("/api/1/datasets/{ds}/upload/u3/"),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(r.json()["parts"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn another_user_cannot_take_over_an_upload_uuid() {
    let app = TestApp::new().await;
    let (user, _, path) = dataset(&app).await;
    app.send_part(&path, &user.key, "shared", 0, 2, b"mine")
        .await;
    let other = app.user("other@example.org").await;
    let theirs = app.dataset(&other.key, "Theirs").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let their_path = format!("/api/1/datasets/{theirs}/upload/");
    let r = app
        .send_part(&their_path, &other.key, "shared", 1, 2, b"evil")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .finish_upload(&their_path, &other.key, "shared", 2, &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(resources(&app, &theirs, &other.key).await.is_empty());
}

#[tokio::test]
async fn a_checksum_mismatch_stores_nothing_and_keeps_the_parts() {
    let app = TestApp::new().await;
    let (user, ds, path) = dataset(&app).await;
    app.send_part(&path, &user.key, "u4", 0, 2, b"hello ").await;
    app.send_part(&path, &user.key, "u4", 1, 2, b"world").await;
    let wrong = format!("sha1:{}", sha1_hex(b"something else"));
    let r = app
        .finish_upload(&path, &user.key, "u4", 2, &[("checksum", &wrong)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Checksum mismatch"),
        "{}",
        r.text()
    );
    assert!(resources(&app, &ds, &user.key).await.is_empty());
    let wrong = format!("sha256:{}", sha256_hex(b"something else"));
    let r = app
        .finish_upload(&path, &user.key, "u4", 2, &[("checksum", &wrong)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The right sha256 is accepted; the parts were kept for this retry.
    let right = format!("sha256:{}", sha256_hex(b"hello world"));
    let r = app
        .finish_upload(&path, &user.key, "u4", 2, &[("checksum", &right)])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["checksum"]["value"], sha1_hex(b"hello world"));
    // A malformed checksum is refused.
    let r = app
        .finish_upload(&path, &user.key, "u4", 2, &[("checksum", "md5:abc")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_single_upload_checksum_is_verified() {
    let app = TestApp::new().await;
    let (user, ds, path) = dataset(&app).await;
    let wrong = format!("sha1:{}", sha1_hex(b"nope"));
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[
                Part::Field {
                    name: "checksum",
                    value: wrong,
                },
                Part::File {
                    name: "file",
                    filename: "a.csv",
                    bytes: b"a,b\n",
                },
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(resources(&app, &ds, &user.key).await.is_empty());
    let right = format!("sha1:{}", sha1_hex(b"a,b\n"));
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[
                Part::Field {
                    name: "checksum",
                    value: right,
                },
                Part::File {
                    name: "file",
                    filename: "a.csv",
                    bytes: b"a,b\n",
                },
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn uploads_over_the_size_limit_are_413_and_store_nothing() {
    let mut app = TestApp::new().await;
    app.configure(|c| c.max_upload_size = Some(1000));
    let (user, ds, path) = dataset(&app).await;
    let big = vec![b'x'; 5000];
    let r = app.upload(&ds, &user.key, "big.csv", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.json()["success"], false);
    // Just under the limit passes.
    let r = app.upload(&ds, &user.key, "ok.csv", &big[..1000]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // A part over the limit, and parts adding up to more than the limit.
    let r = app.send_part(&path, &user.key, "u5", 0, 2, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    app.send_part(&path, &user.key, "u6", 0, 2, &big[..800])
        .await;
    app.send_part(&path, &user.key, "u6", 1, 2, &big[..800])
        .await;
    let r = app.finish_upload(&path, &user.key, "u6", 2, &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resources(&app, &ds, &user.key).await.len(), 1);
    // Nothing half-written is left behind as a pending upload.
    let pending = app
        .state
        .store
        .list_stale_pending_files(&(chrono::Utc::now() + chrono::Duration::days(1)))
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}

#[tokio::test]
async fn abandoned_parts_are_removed_after_the_retention_period() {
    let app = TestApp::new().await;
    let (user, ds, path) = dataset(&app).await;
    app.send_part(&path, &user.key, "old", 0, 2, b"stale").await;
    // Within the retention period nothing goes.
    let report = rudata::ops::uploads::cleanup(&app.state, std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(report.uploads, 0);
    let listing = format!("/api/1/datasets/{ds}/upload/old/");
    assert_eq!(
        app.get(&listing, Some(&user.key)).await.json()["parts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let report = rudata::ops::uploads::cleanup(&app.state, std::time::Duration::from_millis(10))
        .await
        .unwrap();
    assert_eq!(report.uploads, 1);
    assert_eq!(report.objects, 1);
    assert!(
        app.get(&listing, Some(&user.key)).await.json()["parts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = app.finish_upload(&path, &user.key, "old", 2, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_uploads_to_one_dataset_are_all_kept() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let (user, ds, _) = dataset(&app).await;
    let key = std::sync::Arc::new(user.key.clone());
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (app, key, ds) = (app.clone(), key.clone(), ds.clone());
        tasks.push(tokio::spawn(async move {
            let content = format!("row {i}\n").repeat(100 + i);
            let r = app
                .upload(&ds, &key, &format!("f{i}.csv"), content.as_bytes())
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            sha1_hex(content.as_bytes())
        }));
    }
    let mut expected = Vec::new();
    for t in tasks {
        expected.push(t.await.unwrap());
    }
    let mut got: Vec<String> = resources(&app, &ds, &key)
        .await
        .iter()
        .map(|r| r["checksum"]["value"].as_str().unwrap().to_string())
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_final_requests_of_one_upload_create_one_resource() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let (user, ds, path) = dataset(&app).await;
    // Parts big enough that assembling takes a while, so the finals overlap.
    let part = vec![b'x'; 256 * 1024];
    for i in 0..4 {
        let r = app.send_part(&path, &user.key, "twice", i, 4, &part).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let finals = (0..4).map(|_| {
        let (app, path, key) = (app.clone(), path.clone(), user.key.clone());
        tokio::spawn(async move { app.finish_upload(&path, &key, "twice", 4, &[]).await })
    });
    let answers: Vec<_> = futures_util::future::join_all(finals)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let created = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "one final succeeds");
    for r in answers.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_eq!(r.json()["success"], false);
        assert_eq!(
            r.json()["error"],
            "Unknown upload uuid twice",
            "{}",
            r.text()
        );
    }
    assert_eq!(resources(&app, &ds, &user.key).await.len(), 1);
}
