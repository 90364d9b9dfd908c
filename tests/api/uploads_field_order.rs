//! Issue 10: the fields of an upload in any order, as udata accepts them (it reads the whole form
//! before looking at it). A part whose `file` comes before `uuid`, `partindex` and `totalparts` was
//! taken for a single upload of a file named `blob` and refused.

use axum::http::StatusCode;
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::helpers::{Part, TestApp, TestResponse, id_of};

fn file<'a>(filename: &'a str, bytes: &'a [u8]) -> Part<'a> {
    Part::File {
        name: "file",
        filename,
        bytes,
    }
}

fn field(name: &'static str, value: impl ToString) -> Part<'static> {
    Part::Field {
        name,
        value: value.to_string(),
    }
}

/// One part with the file FIRST, then the chunk fields in an unusual order.
async fn part_file_first(
    app: &TestApp,
    path: &str,
    key: &str,
    uuid: &str,
    index: usize,
    total: usize,
    bytes: &[u8],
) -> TestResponse {
    let parts = [
        file("blob", bytes),
        field("chunksize", bytes.len()),
        field("totalparts", total),
        field("filename", "data.csv"),
        field("partindex", index),
        field("uuid", uuid),
    ];
    app.multipart(path, Some(key), &parts).await
}

async fn download(app: &TestApp, resource: &Value) -> Vec<u8> {
    let url = resource["url"].as_str().unwrap();
    let r = app.get(&TestApp::path_of(url), None).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body.to_vec()
}

#[tokio::test]
async fn chunked_parts_with_the_file_before_their_fields_assemble_like_any_other() {
    let app = TestApp::new().await;
    let user = app.user("order@example.org").await;
    let ds = id_of(&app.dataset(&user.key, "Field order").await);
    let path = format!("/api/1/datasets/{ds}/upload/");
    let chunks: [&[u8]; 3] = [b"year,value\n", b"2024,1\n", b"2025,2\n"];

    // Parts in any order of arrival, the middle one with its fields first as before.
    let r = part_file_first(&app, &path, &user.key, "order-1", 2, 3, chunks[2]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["success"], true);
    let r = app
        .send_part(&path, &user.key, "order-1", 1, 3, chunks[1])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = part_file_first(&app, &path, &user.key, "order-1", 0, 3, chunks[0]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The resume listing sees the three parts.
    let r = app
        .get(
            &format!("/api/1/datasets/{ds}/upload/order-1/"),
            Some(&user.key),
        )
        .await;
    assert_eq!(
        r.json()["parts"].as_array().unwrap().len(),
        3,
        "{}",
        r.text()
    );

    // The final request, its fields in another order too.
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[
                field("totalparts", 3),
                field("filename", "data.csv"),
                field("uuid", "order-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let resource = r.json();
    let whole = chunks.concat();
    assert_eq!(resource["title"], "data.csv");
    assert_eq!(resource["filesize"], whole.len());
    assert_eq!(
        resource["checksum"]["value"],
        hex::encode(Sha1::digest(&whole))
    );
    assert_eq!(download(&app, &resource).await, whole);
    assert!(app.stale_marks().await.is_empty());
}

#[tokio::test]
async fn a_single_upload_with_its_checksum_after_the_file_is_verified() {
    let app = TestApp::new().await;
    let user = app.user("order2@example.org").await;
    let ds = id_of(&app.dataset(&user.key, "Checksum after").await);
    let path = format!("/api/1/datasets/{ds}/upload/");
    let bytes = b"a,b\n1,2\n";
    let sha256 = hex::encode(<sha2::Sha256 as Digest>::digest(bytes));

    // A wrong sha256 sent after the file: refused, nothing recorded or left pending.
    let wrong = format!("sha256:{}", "0".repeat(64));
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[file("data.csv", bytes), field("checksum", &wrong)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("Checksum mismatch"), "{}", r.text());
    assert!(app.stale_marks().await.is_empty());

    // The right one: accepted.
    let right = format!("sha256:{sha256}");
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[file("data.csv", bytes), field("checksum", &right)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(download(&app, &r.json()).await, bytes);
    let r = app.get(&format!("/api/1/datasets/{ds}/"), None).await;
    assert_eq!(r.json()["resources"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_file_first_part_that_turns_out_invalid_leaves_nothing() {
    let app = TestApp::new().await;
    let user = app.user("order3@example.org").await;
    let ds = id_of(&app.dataset(&user.key, "Invalid parts").await);
    let path = format!("/api/1/datasets/{ds}/upload/");

    // Its announced size is wrong.
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[
                file("blob", b"12345"),
                field("uuid", "bad-1"),
                field("partindex", 0),
                field("totalparts", 2),
                field("chunksize", 4),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("Chunk size mismatch"), "{}", r.text());

    // Its index is out of range.
    let r = part_file_first(&app, &path, &user.key, "bad-2", 5, 2, b"x").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());

    // A whole file with a refused type, its name in the file field.
    let r = app
        .multipart(&path, Some(&user.key), &[file("page.exe", b"MZ")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());

    // Two files in one request.
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[file("a.csv", b"a"), file("b.csv", b"b")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());

    for uuid in ["bad-1", "bad-2"] {
        let r = app
            .get(
                &format!("/api/1/datasets/{ds}/upload/{uuid}/"),
                Some(&user.key),
            )
            .await;
        assert_eq!(
            r.json()["parts"],
            serde_json::json!([]),
            "{uuid}: {}",
            r.text()
        );
    }
    assert!(
        app.stale_marks().await.is_empty(),
        "{:?}",
        app.stale_marks().await
    );
    let r = app.get(&format!("/api/1/datasets/{ds}/"), None).await;
    assert_eq!(r.json()["resources"], serde_json::json!([]));
}
