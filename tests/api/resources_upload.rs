//! Uploading files as resources (checklist items 61–65): single uploads, chunked uploads and
//! chunked replacement, file names and extensions, and upload errors.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{Part, TestApp, id_of};
use crate::resource_helpers::{AAA_SHA1, owner_with_dataset, resource_ids, upload_aaa};

const ABCD_SHA1: &str = "81fe8bfe87576c3ecb22426f8e57847382917acf";

/// A chunk of a chunked upload: the fields first, then the file part.
async fn send_chunk(
    app: &TestApp,
    path: &str,
    key: &str,
    (uuid, filename, total): (&str, &str, usize),
    index: usize,
    bytes: &[u8],
    chunksize: usize,
) -> crate::helpers::TestResponse {
    app.multipart(
        path,
        Some(key),
        &[
            Part::Field {
                name: "uuid",
                value: uuid.to_string(),
            },
            Part::Field {
                name: "filename",
                value: filename.to_string(),
            },
            Part::Field {
                name: "partindex",
                value: index.to_string(),
            },
            Part::Field {
                name: "partbyteoffset",
                value: index.to_string(),
            },
            Part::Field {
                name: "totalparts",
                value: total.to_string(),
            },
            Part::Field {
                name: "chunksize",
                value: chunksize.to_string(),
            },
            Part::File {
                name: "file",
                filename: "blob",
                bytes,
            },
        ],
    )
    .await
}

/// The final request of a chunked upload: no file part.
async fn finish_chunks(
    app: &TestApp,
    path: &str,
    key: &str,
    uuid: &str,
    filename: &str,
    total: usize,
) -> crate::helpers::TestResponse {
    app.multipart(
        path,
        Some(key),
        &[
            Part::Field {
                name: "uuid",
                value: uuid.to_string(),
            },
            Part::Field {
                name: "filename",
                value: filename.to_string(),
            },
            Part::Field {
                name: "totalparts",
                value: total.to_string(),
            },
        ],
    )
    .await
}

/// Checklist item 61.
#[tokio::test]
async fn upload_creates_a_hosted_resource_served_at_its_url() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    assert_eq!(res["success"], true);
    assert_eq!(res["title"], "test.txt");
    assert_eq!(res["filesize"], 3);
    assert_eq!(res["mime"], "text/plain");
    assert_eq!(res["format"], "txt");
    assert_eq!(res["filetype"], "file");
    assert_eq!(res["type"], "main");
    assert_eq!(res["checksum"], json!({"type": "sha1", "value": AAA_SHA1}));
    let url = res["url"].as_str().unwrap();
    assert!(url.ends_with("test.txt"), "{url}");
    assert!(url.starts_with("http://rudata.test/"), "{url}");
    // The file is served at its URL.
    let r = app.get(&TestApp::path_of(url), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
    // And the resource is on the dataset.
    assert_eq!(resource_ids(&app, &ds, &user.key).await, vec![id_of(&res)]);
}

/// Checklist item 61.
#[tokio::test]
async fn upload_normalizes_file_name_and_format() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .upload(&ds, &user.key, "Mon Fichier.CSV", b"a,b\n1,2\n")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["title"], "mon-fichier.csv");
    assert_eq!(r.json()["format"], "csv");
    assert!(
        r.json()["url"]
            .as_str()
            .unwrap()
            .ends_with("/mon-fichier.csv")
    );
    let r = app.upload(&ds, &user.key, "rapport.tar.gz", b"x").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["format"], "tar.gz");
}

/// Checklist item 61.
#[tokio::test]
async fn upload_needs_edit_rights_on_an_existing_dataset() {
    let app = TestApp::new().await;
    let (_, ds) = owner_with_dataset(&app).await;
    let other = app.user("other@example.org").await;
    let part = [Part::File {
        name: "file",
        filename: "test.txt",
        bytes: b"aaa",
    }];
    let r = app
        .multipart(&format!("/api/1/datasets/{ds}/upload/"), None, &part)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.upload(&ds, &other.key, "test.txt", b"aaa").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .upload("5f0c9a3e2b1d4c0012345678", &other.key, "test.txt", b"aaa")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Checklist item 62.
#[tokio::test]
async fn chunked_upload_creates_the_resource_when_finished() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let path = format!("/api/1/datasets/{ds}/upload/");
    let uuid = uuid::Uuid::new_v4().to_string();
    for (i, b) in [b"a", b"b", b"c", b"d"].iter().enumerate() {
        let r = send_chunk(&app, &path, &user.key, (&uuid, "test.txt", 4), i, *b, 1).await;
        assert_eq!(r.status, StatusCode::OK, "part {i}: {}", r.text());
        let body = r.json();
        assert_eq!(body["success"], true);
        for k in ["url", "filename", "size", "sha1", "id"] {
            assert!(body.get(k).is_none(), "part {i} has {k}: {body}");
        }
    }
    // Parts alone create no resource.
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
    let r = finish_chunks(&app, &path, &user.key, &uuid, "test.txt", 4).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let res = r.json();
    assert_eq!(res["success"], true);
    assert_eq!(res["filesize"], 4);
    assert_eq!(res["title"], "test.txt");
    assert_eq!(res["checksum"], json!({"type": "sha1", "value": ABCD_SHA1}));
    let file = app
        .get(&TestApp::path_of(res["url"].as_str().unwrap()), None)
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(&file.body[..], b"abcd");
    assert_eq!(resource_ids(&app, &ds, &user.key).await, vec![id_of(&res)]);
}

/// Checklist item 62.
#[tokio::test]
async fn chunked_upload_replaces_a_file() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let rid = id_of(&res);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/upload/");
    let uuid = uuid::Uuid::new_v4().to_string();
    for (i, b) in [b"ab", b"cd"].iter().enumerate() {
        let r = send_chunk(&app, &path, &user.key, (&uuid, "new.txt", 2), i, *b, 2).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["success"], true);
    }
    let r = finish_chunks(&app, &path, &user.key, &uuid, "new.txt", 2).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["id"], rid.as_str());
    assert_eq!(r.json()["title"], "new.txt");
    assert_eq!(r.json()["checksum"]["value"], ABCD_SHA1);
}

/// Checklist item 63.
#[tokio::test]
async fn chunked_upload_with_disallowed_extension_is_rejected_and_parts_kept() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let path = format!("/api/1/datasets/{ds}/upload/");
    let uuid = uuid::Uuid::new_v4().to_string();
    for (i, b) in [b"a", b"b", b"c", b"d"].iter().enumerate() {
        let r = send_chunk(&app, &path, &user.key, (&uuid, "test.exe", 4), i, *b, 1).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = finish_chunks(&app, &path, &user.key, &uuid, "test.exe", 4).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("This file type is not allowed"), "{msg}");
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
    // The parts are kept: a retry under an allowed name succeeds with the same bytes.
    let r = finish_chunks(&app, &path, &user.key, &uuid, "test.txt", 4).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["checksum"]["value"], ABCD_SHA1);
}

/// Checklist item 64.
#[tokio::test]
async fn chunk_size_mismatch_is_rejected_and_not_stored() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let path = format!("/api/1/datasets/{ds}/upload/");
    let uuid = uuid::Uuid::new_v4().to_string();
    let r = send_chunk(&app, &path, &user.key, (&uuid, "test.txt", 2), 0, b"abc", 2).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["success"], false);
    assert_eq!(r.json()["error"], "Chunk size mismatch");
    // Nothing was stored: finalizing finds no part 0.
    let r = send_chunk(&app, &path, &user.key, (&uuid, "test.txt", 2), 1, b"d", 1).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = finish_chunks(&app, &path, &user.key, &uuid, "test.txt", 2).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

/// Checklist item 65.
#[tokio::test]
async fn upload_without_file_part_is_rejected() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .multipart(
            &format!("/api/1/datasets/{ds}/upload/"),
            Some(&user.key),
            &[Part::Field {
                name: "title",
                value: "nothing".into(),
            }],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let body = r.json();
    assert_eq!(body["success"], false);
    assert_eq!(body["error"], "Missing file parameter");
    // A file part under another name is not the file either.
    let r = app
        .multipart(
            &format!("/api/1/datasets/{ds}/upload/"),
            Some(&user.key),
            &[Part::File {
                name: "upload",
                filename: "test.txt",
                bytes: b"aaa",
            }],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["success"], false);
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

/// Checklist item 65.
#[tokio::test]
async fn upload_with_disallowed_extension_is_rejected() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    for name in ["virus.exe", "noextension", "page.html"] {
        let r = app.upload(&ds, &user.key, name, b"<html></html>").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.text());
        assert_eq!(
            r.json()["message"],
            "This file type is not allowed.The allowed file type list is available at http://rudata.test/api/1/datasets/extensions/"
        );
    }
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}
