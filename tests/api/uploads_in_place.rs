//! Issue 10 item 4: the parts of a chunked upload are written once, in their place in one file per
//! upload (local storage), and the final request moves that file to its key: no second copy. Parts
//! in order, out of order, in parallel, re-sent; parts whose place cannot be known (a file before its
//! fields, the last part before any other) are stored apart and copied at the end, as before.
//!
//! What is on disk is checked on the local backend (the directory of the files): the upload's one
//! file is the resource's file (same inode), and nothing else is left. On S3 (`TEST_S3_ENDPOINT`) the
//! same requests must give the same bytes and checksums.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::Value;
use sha1::Digest;

use crate::helpers::{Part, TestApp, TestResponse, sha1_hex};

fn field(name: &'static str, value: impl ToString) -> Part<'static> {
    Part::Field {
        name,
        value: value.to_string(),
    }
}

/// Every file under `dir`, by path relative to it, with its inode and size.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, (u64, u64)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (u64, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, (meta.ino(), meta.len()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `n` parts of `full` bytes (the last shorter), a different byte pattern in each.
fn content(full: usize, n: usize) -> Vec<u8> {
    (0..full * n - full / 3)
        .map(|i| b'a' + ((i / 7 + i / full) % 26) as u8)
        .collect()
}

fn pieces(data: &[u8], full: usize) -> Vec<&[u8]> {
    data.chunks(full).collect()
}

async fn setup(app: &TestApp) -> (String, String, String) {
    let user = app.user("inplace@example.org").await;
    let ds = app.dataset(&user.key, "In place").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/1/datasets/{ds}/upload/");
    (user.key, ds, path)
}

async fn download(app: &TestApp, resource: &Value) -> Vec<u8> {
    let r = app
        .get(&TestApp::path_of(resource["url"].as_str().unwrap()), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    r.body.to_vec()
}

/// The upload's one file before the final request, on local storage: its inode (its size checked).
fn upload_file(app: &TestApp, uuid: &str, size: usize) -> Option<u64> {
    let dir = app.files_dir()?;
    let files = files_under(&dir);
    let dir_of_upload = PathBuf::from(format!("chunks/{uuid}"));
    let (data, (ino, len)) = files
        .iter()
        .find(|(p, _)| p.parent() == Some(&dir_of_upload))
        .map(|(p, v)| (p.clone(), *v))
        .unwrap_or_else(|| panic!("no file written in place for {uuid}: {files:?}"));
    assert!(len as usize >= size, "{files:?}");
    let others: Vec<_> = files
        .keys()
        .filter(|p| p.starts_with("chunks") && **p != data)
        .collect();
    assert!(others.is_empty(), "parts stored apart: {others:?}");
    Some(ino)
}

/// After the final request, on local storage: the resource's file is the upload's file, moved (same
/// inode), and it is the only file: no part, no copy.
fn moved_not_copied(app: &TestApp, uuid: &str, resource: &Value, ino: Option<u64>, size: usize) {
    let (Some(dir), Some(ino)) = (app.files_dir(), ino) else {
        return;
    };
    let files = files_under(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        !dir.join("chunks").join(uuid).exists(),
        "left: chunks/{uuid}"
    );
    let (path, (got_ino, len)) = files.iter().next().unwrap();
    assert!(path.starts_with("resources"), "{path:?}");
    assert_eq!(*len as usize, size);
    assert_eq!(*got_ino, ino, "the file was copied, not moved");
    let url = resource["url"].as_str().unwrap();
    assert!(url.ends_with(&path.to_string_lossy().to_string()), "{url}");
}

async fn send(app: &TestApp, path: &str, key: &str, uuid: &str, i: usize, parts: &[&[u8]]) {
    let r = app
        .send_part(path, key, uuid, i, parts.len(), parts[i])
        .await;
    assert_eq!(r.status, StatusCode::OK, "part {i}: {}", r.text());
}

async fn finish(app: &TestApp, path: &str, key: &str, uuid: &str, n: usize, data: &[u8]) -> Value {
    let checksum = format!("sha1:{}", sha1_hex(data));
    let r = app
        .finish_upload(path, key, uuid, n, &[("checksum", &checksum)])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let resource = r.json();
    assert_eq!(resource["checksum"]["value"], sha1_hex(data));
    assert_eq!(resource["filesize"], data.len());
    assert_eq!(download(app, &resource).await, data);
    resource
}

#[tokio::test]
async fn parts_in_order_are_written_in_place_and_the_final_request_moves_the_file() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(64 * 1024, 4);
    let parts = pieces(&data, 64 * 1024);
    for i in 0..parts.len() {
        send(&app, &path, &key, "in-order", i, &parts).await;
    }
    let ino = upload_file(&app, "in-order", data.len());
    let resource = finish(&app, &path, &key, "in-order", parts.len(), &data).await;
    moved_not_copied(&app, "in-order", &resource, ino, data.len());
}

#[tokio::test]
async fn parts_out_of_order_and_a_resent_part_land_in_their_place() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(10_000, 5);
    let parts = pieces(&data, 10_000);
    // A wrong copy of part 2 first (same size), replaced by the right one; the last part once the
    // size of the others is known.
    let wrong = vec![b'#'; 10_000];
    let r = app.send_part(&path, &key, "shuffled", 2, 5, &wrong).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for i in [3, 1, 2, 0, 4] {
        send(&app, &path, &key, "shuffled", i, &parts).await;
    }
    let ino = upload_file(&app, "shuffled", data.len());
    let resource = finish(&app, &path, &key, "shuffled", 5, &data).await;
    moved_not_copied(&app, "shuffled", &resource, ino, data.len());
}

#[tokio::test]
async fn a_longer_earlier_copy_of_the_last_part_leaves_no_trailing_bytes() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(1000, 3);
    let parts = pieces(&data, 1000);
    send(&app, &path, &key, "shorter", 0, &parts).await;
    let long = vec![b'z'; 1000];
    let r = app.send_part(&path, &key, "shorter", 2, 3, &long).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    send(&app, &path, &key, "shorter", 2, &parts).await;
    send(&app, &path, &key, "shorter", 1, &parts).await;
    let ino = upload_file(&app, "shorter", data.len());
    let resource = finish(&app, &path, &key, "shorter", 3, &data).await;
    moved_not_copied(&app, "shorter", &resource, ino, data.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parts_sent_in_parallel_make_the_exact_file() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let (key, _, path) = setup(&app).await;
    let full = 100_000;
    let data = std::sync::Arc::new(content(full, 12));
    let n = data.len().div_ceil(full);
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (app, key, path, data) = (app.clone(), key.clone(), path.clone(), data.clone());
            tokio::spawn(async move {
                let parts = pieces(&data, full);
                app.send_part(&path, &key, "parallel", i, n, parts[i]).await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let listing = app.get(&format!("{path}parallel/"), Some(&key)).await;
    assert_eq!(listing.json()["received_bytes"], data.len());
    finish(&app, &path, &key, "parallel", n, &data).await;
}

#[tokio::test]
async fn parts_whose_place_is_unknown_are_stored_apart_and_the_file_is_exact() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(5000, 4);
    let parts = pieces(&data, 5000);
    // The last part first: the size of the others is not known yet.
    send(&app, &path, &key, "mixed", 3, &parts).await;
    // Part 0 with its file before its fields: written before its place is known.
    let file_first = [
        Part::File {
            name: "file",
            filename: "blob",
            bytes: parts[0],
        },
        field("chunksize", parts[0].len()),
        field("totalparts", 4),
        field("filename", "data.csv"),
        field("partindex", 0),
        field("uuid", "mixed"),
    ];
    let r: TestResponse = app.multipart(&path, Some(&key), &file_first).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    send(&app, &path, &key, "mixed", 1, &parts).await;
    send(&app, &path, &key, "mixed", 2, &parts).await;
    finish(&app, &path, &key, "mixed", 4, &data).await;
    if let Some(dir) = app.files_dir() {
        let files = files_under(&dir);
        assert_eq!(files.len(), 1, "parts left behind: {files:?}");
    }
}

#[tokio::test]
async fn a_part_cut_short_is_missing_until_sent_again() {
    let app = TestApp::new().await;
    let (key, ds, path) = setup(&app).await;
    let data = content(2000, 3);
    let parts = pieces(&data, 2000);
    for i in 0..3 {
        send(&app, &path, &key, "cut", i, &parts).await;
    }
    // Part 1 again, announcing fewer bytes than it carries: refused. Written in place, its place
    // was being overwritten: the part is missing until sent again.
    let bad = [
        field("uuid", "cut"),
        field("filename", "data.csv"),
        field("partindex", 1),
        field("totalparts", 3),
        field("chunksize", 2000),
        Part::File {
            name: "file",
            filename: "blob",
            bytes: &[b'!'; 2500],
        },
    ];
    let r = app.multipart(&path, Some(&key), &bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let listing = app
        .get(&format!("/api/1/datasets/{ds}/upload/cut/"), Some(&key))
        .await
        .json();
    let indexes: Vec<i64> = listing["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["index"].as_i64().unwrap())
        .collect();
    if app.files_dir().is_none() {
        // Parts stored apart (S3): the earlier copy stays until a new one is whole.
        assert_eq!(indexes, vec![0, 1, 2]);
        finish(&app, &path, &key, "cut", 3, &data).await;
        return;
    }
    assert_eq!(indexes, vec![0, 2]);
    let r = app.finish_upload(&path, &key, "cut", 3, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("Missing part(s) 1"), "{}", r.text());
    send(&app, &path, &key, "cut", 1, &parts).await;
    finish(&app, &path, &key, "cut", 3, &data).await;
}

#[tokio::test]
async fn an_abandoned_upload_written_in_place_is_cleaned() {
    let app = TestApp::new().await;
    let (key, ds, path) = setup(&app).await;
    let data = content(3000, 3);
    let parts = pieces(&data, 3000);
    send(&app, &path, &key, "left", 0, &parts).await;
    send(&app, &path, &key, "left", 1, &parts).await;
    upload_file(&app, "left", 6000);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let report = rudata::ops::uploads::cleanup(&app.state, std::time::Duration::from_millis(10))
        .await
        .unwrap();
    assert_eq!(report.uploads, 1);
    if let Some(dir) = app.files_dir() {
        let files = files_under(&dir);
        assert!(files.is_empty(), "{files:?}");
    }
    let listing = app
        .get(&format!("/api/1/datasets/{ds}/upload/left/"), Some(&key))
        .await
        .json();
    assert_eq!(listing["parts"], serde_json::json!([]));
    let r = app.finish_upload(&path, &key, "left", 3, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_part_resent_after_it_was_hashed_in_order_gives_the_sha1_of_the_new_bytes() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(4000, 4);
    let parts = pieces(&data, 4000);
    // In order, part 1 wrong the first time: the running sha1 covers the wrong bytes...
    let wrong = vec![b'?'; 4000];
    send(&app, &path, &key, "again", 0, &parts).await;
    let r = app.send_part(&path, &key, "again", 1, 4, &wrong).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    send(&app, &path, &key, "again", 2, &parts).await;
    send(&app, &path, &key, "again", 3, &parts).await;
    // ...until part 1 comes again, right.
    send(&app, &path, &key, "again", 1, &parts).await;
    let ino = upload_file(&app, "again", data.len());
    let resource = finish(&app, &path, &key, "again", 4, &data).await;
    moved_not_copied(&app, "again", &resource, ino, data.len());
}

#[tokio::test]
async fn parts_read_back_ahead_of_the_final_request_then_replaced_give_the_sha1_of_the_new_bytes() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(5000, 5);
    let parts = pieces(&data, 5000);
    // A wrong part 1 and part 2 ahead of part 0, which brings the running sha1 over them (read
    // back)...
    let wrong = vec![b'!'; 5000];
    let r = app.send_part(&path, &key, "ahead", 1, 5, &wrong).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    send(&app, &path, &key, "ahead", 2, &parts).await;
    send(&app, &path, &key, "ahead", 0, &parts).await;
    // ...then part 3, part 1 right, and the last part.
    send(&app, &path, &key, "ahead", 3, &parts).await;
    send(&app, &path, &key, "ahead", 1, &parts).await;
    send(&app, &path, &key, "ahead", 4, &parts).await;
    let ino = upload_file(&app, "ahead", data.len());
    let resource = finish(&app, &path, &key, "ahead", 5, &data).await;
    moved_not_copied(&app, "ahead", &resource, ino, data.len());
}

#[tokio::test]
async fn a_sha256_checksum_of_an_upload_written_in_place_is_verified() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let data = content(3000, 3);
    let parts = pieces(&data, 3000);
    for i in 0..3 {
        send(&app, &path, &key, "sha256", i, &parts).await;
    }
    let wrong = format!("sha256:{}", "0".repeat(64));
    let r = app
        .finish_upload(&path, &key, "sha256", 3, &[("checksum", &wrong)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // Nothing recorded, the parts kept: the right checksum then succeeds.
    let right = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as Digest>::digest(&data))
    );
    let r = app
        .finish_upload(&path, &key, "sha256", 3, &[("checksum", &right)])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["checksum"]["value"], sha1_hex(&data));
    assert_eq!(download(&app, &r.json()).await, data);
}

#[tokio::test]
async fn a_chunksize_far_beyond_any_file_is_a_clear_400() {
    let app = TestApp::new().await;
    let (key, _, path) = setup(&app).await;
    let huge = 1u64 << 50;
    let form = [
        field("uuid", "huge"),
        field("filename", "data.csv"),
        field("partindex", 3),
        field("totalparts", 5),
        field("chunksize", huge),
        Part::File {
            name: "file",
            filename: "blob",
            bytes: b"tiny",
        },
    ];
    let r = app.multipart(&path, Some(&key), &form).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["success"], false);
}

/// Two users who pick the same uuid at the same moment (the uuid is the client's) never write into
/// one file: every upload that goes through is exactly its own bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_uploads_given_one_uuid_at_once_never_mix_their_bytes() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let mut uploaders = Vec::new();
    for (email, fill) in [("a@example.org", b'a'), ("b@example.org", b'b')] {
        let user = app.user(email).await;
        let ds = app.dataset(&user.key, email).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let data: Vec<u8> = (0..400_000).map(|i| fill + (i % 7) as u8).collect();
        uploaders.push((user.key, format!("/api/1/datasets/{ds}/upload/"), data));
    }
    let full = 256 * 1024;
    let mut through = 0;
    for round in 0..8 {
        let uuid = format!("shared-{round}");
        let first: Vec<_> = uploaders
            .iter()
            .map(|(key, path, data)| {
                let (app, key, path, uuid) = (app.clone(), key.clone(), path.clone(), uuid.clone());
                let part = data[..full].to_vec();
                tokio::spawn(async move { app.send_part(&path, &key, &uuid, 0, 2, &part).await })
            })
            .collect();
        for (task, (key, path, data)) in first.into_iter().zip(&uploaders) {
            let r = task.await.unwrap();
            if r.status != StatusCode::OK {
                assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
                continue;
            }
            let r = app.send_part(path, key, &uuid, 1, 2, &data[full..]).await;
            if r.status != StatusCode::OK {
                assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
                continue;
            }
            let r = app.finish_upload(path, key, &uuid, 2, &[]).await;
            if r.status != StatusCode::CREATED {
                assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
                continue;
            }
            let resource = r.json();
            assert_eq!(
                resource["checksum"]["value"],
                sha1_hex(data),
                "round {round}"
            );
            assert_eq!(download(&app, &resource).await, *data, "round {round}");
            through += 1;
        }
    }
    assert!(through >= 8, "only {through} uploads went through");
}
