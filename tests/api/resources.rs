//! Resources: checklist items 55–81, plus rudata's kept files (DESIGN §3.1–3.3): replaced and
//! deleted files stay served until the dataset is purged, file serving, chunked uploads.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::helpers::{Part, TestApp, TestUser};

const AAA_SHA1: &str = "7e240de74fb1ed08fa08d38063f6a6a91462a815";
const ABCD_SHA1: &str = "81fe8bfe87576c3ecb22426f8e57847382917acf";

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A user with a dataset of their own: `(user, dataset id)`.
async fn owner_with_dataset(app: &TestApp) -> (TestUser, String) {
    let user = app.user("owner@example.org").await;
    let ds = app.dataset(&user.key, "Test dataset").await;
    (user, id_of(&ds))
}

/// Uploads `test.txt` (`aaa`) and returns the resource JSON.
async fn upload_aaa(app: &TestApp, ds: &str, key: &str) -> Value {
    let r = app.upload(ds, key, "test.txt", b"aaa").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

async fn resource_ids(app: &TestApp, ds: &str, key: &str) -> Vec<String> {
    let r = app.get(&format!("/api/1/datasets/{ds}/"), Some(key)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}

async fn get_with(
    app: &TestApp,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
) -> crate::helpers::TestResponse {
    app.raw(Method::GET, path, key, headers, Vec::new()).await
}

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

#[tokio::test]
async fn item_55_get_resource_has_title_url_latest() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = app.remote(&ds, &user.key, "Remote data").await;
    let rid = id_of(&res);
    let r = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["id"], rid.as_str());
    assert_eq!(body["title"], "Remote data");
    assert_eq!(body["url"], "https://example.com/data.csv");
    assert_eq!(
        body["latest"],
        format!("http://rudata.test/api/1/datasets/r/{rid}")
    );
    // Without the trailing slash too.
    let r = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], rid.as_str());
}

#[tokio::test]
async fn item_55_get_resource_follows_dataset_visibility() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&app.remote(&ds, &user.key, "Remote data").await);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"private": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, Some(&user.key)).await.status, StatusCode::OK);
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"private": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path, None).await.status, StatusCode::GONE);
    assert_eq!(app.get(&path, Some(&user.key)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn item_56_create_remote_resource_with_extras() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({
                "title": "Remote", "description": "A remote file", "type": "main",
                "filetype": "remote", "format": "csv", "url": "https://example.com/x.csv",
                "extras": {"answer": 42, "label": "value", "nested": {"a": true}},
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let res = r.json();
    assert!(res.get("success").is_none());
    assert_eq!(res["filetype"], "remote");
    assert_eq!(res["type"], "main");
    assert_eq!(res["extras"]["answer"], 42);
    let rid = id_of(&res);
    let got = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await
        .json();
    assert_eq!(
        got["extras"],
        json!({"answer": 42, "label": "value", "nested": {"a": true}})
    );
    assert_eq!(got["description"], "A remote file");
    assert_eq!(got["format"], "csv");
}

#[tokio::test]
async fn item_57_post_resource_requires_remote_filetype() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    for body in [
        json!({"title": "x", "filetype": "file", "url": "https://example.com/x.csv"}),
        json!({"title": "x", "url": "https://example.com/x.csv"}),
    ] {
        let r = app
            .post(
                &format!("/api/1/datasets/{ds}/resources/"),
                &user.key,
                body.clone(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            r.json()["message"],
            "This endpoint only supports remote resources"
        );
    }
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

#[tokio::test]
async fn item_57_post_resource_permissions() {
    let app = TestApp::new().await;
    let (_, ds) = owner_with_dataset(&app).await;
    let other = app.user("other@example.org").await;
    let body = json!({"title": "x", "filetype": "remote", "url": "https://example.com/x.csv"});
    let path = format!("/api/1/datasets/{ds}/resources/");
    let r = app.request(Method::POST, &path, None, Some(&body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.post(&path, &other.key, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json()["message"],
        "You do not have the permission to modify that object."
    );
    let r = app
        .post(
            "/api/1/datasets/5f0c9a3e2b1d4c0012345678/resources/",
            &other.key,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn item_57_post_resource_requires_title_and_valid_url() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let path = format!("/api/1/datasets/{ds}/resources/");
    let r = app
        .post(
            &path,
            &user.key,
            json!({"filetype": "remote", "url": "https://example.com/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["errors"]["title"].is_array(), "{}", r.text());
    let r = app
        .post(
            &path,
            &user.key,
            json!({"title": "t", "filetype": "remote", "url": "not a url"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"]["url"][0], "Invalid URL \"not a url\"");
    let r = app
        .post(
            &path,
            &user.key,
            json!({"title": "t", "filetype": "remote", "url": "http://127.0.0.1/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["errors"]["url"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid URL \"http://127.0.0.1/x\"")
    );
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

#[tokio::test]
async fn item_58_client_resource_id_is_ignored() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let forced = "6f1c7a3e-1111-4222-8333-444455556666";
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({"id": forced, "title": "t", "filetype": "remote", "url": "https://example.com/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let rid = id_of(&r.json());
    assert_ne!(rid, forced);
    assert!(uuid::Uuid::parse_str(&rid).is_ok());
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{rid}/"),
            &user.key,
            json!({"id": forced, "title": "renamed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["id"], rid.as_str());
    assert_eq!(r.json()["title"], "renamed");
    assert_eq!(resource_ids(&app, &ds, &user.key).await, vec![rid]);
}

#[tokio::test]
async fn item_59_format_is_trimmed_and_lowercased() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({"title": "t", "filetype": "remote", "url": "https://example.com/x", "format": " FORMAT "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["format"], "format");
}

#[tokio::test]
async fn item_60_resource_post_array_body_is_400() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .request(
            Method::POST,
            &format!("/api/1/datasets/{ds}/resources/"),
            Some(&user.key),
            Some(&json!([{"title": "t", "filetype": "remote", "url": "https://example.com/x"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"]["request"], "expecting a JSON object");
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

#[tokio::test]
async fn item_61_upload_file() {
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

#[tokio::test]
async fn item_61_upload_normalizes_file_name() {
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

#[tokio::test]
async fn item_61_upload_permissions() {
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

#[tokio::test]
async fn item_62_chunked_upload() {
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

#[tokio::test]
async fn item_62_chunked_replace() {
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

#[tokio::test]
async fn item_63_chunked_upload_with_disallowed_extension() {
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

#[tokio::test]
async fn item_64_chunk_size_mismatch_is_400() {
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

#[tokio::test]
async fn item_65_multipart_without_file_is_400() {
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

#[tokio::test]
async fn item_65_upload_disallowed_extension_is_400() {
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

#[tokio::test]
async fn item_66_new_resources_come_first() {
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

#[tokio::test]
async fn item_67_reorder_resources() {
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

#[tokio::test]
async fn item_68_reorder_errors() {
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

#[tokio::test]
async fn item_69_put_hosted_resource_keeps_url() {
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

#[tokio::test]
async fn item_70_put_remote_resource_changes_url() {
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

#[tokio::test]
async fn item_71_put_hosted_resource_keeps_file_fields() {
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

#[tokio::test]
async fn item_72_put_remote_resource_changes_file_fields() {
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

#[tokio::test]
async fn item_73_filetype_cannot_change() {
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

#[tokio::test]
async fn item_74_schema_kept_unless_null() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({"title": "t", "filetype": "remote", "url": "https://example.com/x.csv",
                   "schema": {"url": "https://example.com/schema.json"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["schema"]["url"], "https://example.com/schema.json");
    let rid = id_of(&r.json());
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    let r = app.put(&path, &user.key, json!({"title": "new"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["schema"]["url"], "https://example.com/schema.json");
    let r = app
        .put(&path, &user.key, json!({"title": "newer", "schema": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["schema"], json!(null));
    assert_eq!(app.get(&path, None).await.json()["schema"], json!(null));
}

#[tokio::test]
async fn item_75_unknown_resource_is_404() {
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

#[tokio::test]
async fn item_75_resource_of_another_dataset_is_404() {
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

#[tokio::test]
async fn item_76_replace_file_keeps_old_file() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let first = upload_aaa(&app, &ds, &user.key).await;
    let rid = id_of(&first);
    let old_url = first["url"].as_str().unwrap().to_string();
    let r = app
        .replace_file(&ds, &rid, &user.key, "test_update.txt", b"updated!")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let res = r.json();
    assert_eq!(res["success"], true);
    assert_eq!(res["id"], rid.as_str());
    assert_eq!(res["title"], "test-update.txt");
    assert_eq!(res["filesize"], 8);
    assert_eq!(res["checksum"]["value"], sha1_hex(b"updated!"));
    let new_url = res["url"].as_str().unwrap().to_string();
    assert_ne!(new_url, old_url);
    assert!(new_url.ends_with("/test-update.txt"), "{new_url}");
    // The resource (and its permalink) point to the new file.
    let got = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await
        .json();
    assert_eq!(got["url"], new_url.as_str());
    assert_eq!(got["title"], "test-update.txt");
    let latest = app.get(&format!("/api/1/datasets/r/{rid}"), None).await;
    assert_eq!(latest.status, StatusCode::FOUND);
    assert_eq!(latest.header("location").as_deref(), Some(new_url.as_str()));
    // Both files are served, each with its own bytes.
    let r = app.get(&TestApp::path_of(&new_url), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"updated!");
    let r = app.get(&TestApp::path_of(&old_url), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
    // The versions list has both, newest first.
    let r = app
        .get(
            &format!("/api/1/datasets/{ds}/resources/{rid}/versions/"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let versions = r.json();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[0]["url"], new_url.as_str());
    assert_eq!(
        versions[0]["checksum"],
        json!({"type": "sha1", "value": sha1_hex(b"updated!")})
    );
    assert_eq!(versions[0]["filesize"], 8);
    assert_eq!(versions[0]["mime"], "text/plain");
    assert_eq!(versions[1]["url"], old_url.as_str());
    assert_eq!(
        versions[1]["checksum"],
        json!({"type": "sha1", "value": AAA_SHA1})
    );
    assert_eq!(versions[1]["filesize"], 3);
    assert_eq!(versions[1]["mime"], "text/plain");
    let t0 =
        chrono::DateTime::parse_from_rfc3339(versions[0]["created_at"].as_str().unwrap()).unwrap();
    let t1 =
        chrono::DateTime::parse_from_rfc3339(versions[1]["created_at"].as_str().unwrap()).unwrap();
    assert!(t0 >= t1);
}

#[tokio::test]
async fn item_76_replace_keeps_other_metadata() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&upload_aaa(&app, &ds, &user.key).await);
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{rid}/"),
            &user.key,
            json!({"description": "kept", "type": "documentation", "extras": {"k": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .replace_file(&ds, &rid, &user.key, "data.csv", b"a,b\n")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let res = r.json();
    assert_eq!(res["description"], "kept");
    assert_eq!(res["type"], "documentation");
    assert_eq!(res["extras"], json!({"k": 1}));
    assert_eq!(res["format"], "csv");
    assert_eq!(res["title"], "data.csv");
}

#[tokio::test]
async fn item_76_replace_errors() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let other = app.user("other@example.org").await;
    let first = upload_aaa(&app, &ds, &user.key).await;
    let rid = id_of(&first);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/upload/");
    let part = [Part::File {
        name: "file",
        filename: "x.txt",
        bytes: b"x",
    }];
    assert_eq!(
        app.multipart(&path, Some(&other.key), &part).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.multipart(&path, None, &part).await.status,
        StatusCode::UNAUTHORIZED
    );
    let missing = format!(
        "/api/1/datasets/{ds}/resources/{}/upload/",
        uuid::Uuid::new_v4()
    );
    assert_eq!(
        app.multipart(&missing, Some(&user.key), &part).await.status,
        StatusCode::NOT_FOUND
    );
    let bad = [Part::File {
        name: "file",
        filename: "x.exe",
        bytes: b"x",
    }];
    let r = app.multipart(&path, Some(&user.key), &bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("This file type is not allowed")
    );
    let got = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await
        .json();
    assert_eq!(got["url"], first["url"]);
    let versions = app
        .get(
            &format!("/api/1/datasets/{ds}/resources/{rid}/versions/"),
            None,
        )
        .await
        .json();
    assert_eq!(versions.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn item_76_versions_of_remote_and_unknown_resources() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&app.remote(&ds, &user.key, "remote").await);
    let r = app
        .get(
            &format!("/api/1/datasets/{ds}/resources/{rid}/versions/"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!([]));
    let r = app
        .get(
            &format!(
                "/api/1/datasets/{ds}/resources/{}/versions/",
                uuid::Uuid::new_v4()
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn item_77_delete_resource_keeps_file() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let keep = id_of(&app.remote(&ds, &user.key, "remote").await);
    let rid = id_of(&res);
    let url = res["url"].as_str().unwrap().to_string();
    let r = app
        .delete(&format!("/api/1/datasets/{ds}/resources/{rid}/"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    assert_eq!(resource_ids(&app, &ds, &user.key).await, vec![keep]);
    let r = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The file stays downloadable.
    let r = app.get(&TestApp::path_of(&url), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
    // A second delete finds nothing.
    let r = app
        .delete(&format!("/api/1/datasets/{ds}/resources/{rid}/"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn item_77_delete_resource_without_trailing_slash() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&app.remote(&ds, &user.key, "remote").await);
    // The guide's own example omits the slash.
    let r = app
        .delete(&format!("/api/1/datasets/{ds}/resources/{rid}"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(resource_ids(&app, &ds, &user.key).await.is_empty());
}

#[tokio::test]
async fn item_77_delete_resource_permissions() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let other = app.user("other@example.org").await;
    let rid = id_of(&app.remote(&ds, &user.key, "remote").await);
    let path = format!("/api/1/datasets/{ds}/resources/{rid}/");
    assert_eq!(
        app.delete(&path, &other.key).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.request(Method::DELETE, &path, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(resource_ids(&app, &ds, &user.key).await, vec![rid]);
    // A sysadmin may.
    assert_eq!(
        app.delete(&path, &app.admin_key).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn item_78_latest_redirects_to_resource_url() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let rid = id_of(&app.remote(&ds, &user.key, "remote").await);
    for path in [
        format!("/api/1/datasets/r/{rid}"),
        format!("/api/1/datasets/r/{rid}/"),
    ] {
        let r = app.get(&path, None).await;
        assert_eq!(r.status, StatusCode::FOUND, "{path}");
        assert_eq!(
            r.header("location").as_deref(),
            Some("https://example.com/data.csv")
        );
    }
    let up = upload_aaa(&app, &ds, &user.key).await;
    let r = app
        .get(&format!("/api/1/datasets/r/{}", id_of(&up)), None)
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.header("location").as_deref(), up["url"].as_str());
    let r = app
        .get(&format!("/api/1/datasets/r/{}", uuid::Uuid::new_v4()), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/api/1/datasets/r/not-a-uuid", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn item_79_invalid_schema_url_is_400() {
    let app = TestApp::new().await;
    let user = app.user("owner@example.org").await;
    let r = app
        .post(
            "/api/1/datasets/",
            &user.key,
            json!({"title": "t", "description": "d", "resources": [
                {"title": "r", "filetype": "remote", "url": "https://example.com/x", "schema": {"url": "test"}}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["errors"]["resources"][0]["schema"]["url"][0],
        "Invalid URL \"test\""
    );
    let ds = id_of(&app.dataset(&user.key, "Test dataset").await);
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            json!({"title": "r", "filetype": "remote", "url": "https://example.com/x", "schema": {"url": "test"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"]["schema"]["url"][0],
        "Invalid URL \"test\""
    );
}

#[tokio::test]
async fn item_80_licenses() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/licenses/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let list = list.as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec![
            "lov2",
            "fr-lo",
            "odc-odbl",
            "odc-by",
            "odc-pddl",
            "cc-by",
            "cc-by-sa",
            "cc-zero",
            "other-at",
            "other-open",
            "other-pd",
            "notspecified"
        ]
    );
    for l in list {
        for k in [
            "id",
            "title",
            "maintainer",
            "url",
            "flags",
            "alternate_urls",
            "alternate_titles",
        ] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
        assert!(l["title"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let lov2 = &list[0];
    assert_eq!(lov2["maintainer"], "Etalab");
    assert_eq!(lov2["alternate_titles"], json!(["Licence Ouverte v2.0"]));
    assert_eq!(
        lov2["flags"],
        json!(["domain_content", "domain_data", "okd_compliant"])
    );
    let odbl = list.iter().find(|l| l["id"] == "odc-odbl").unwrap();
    assert_eq!(odbl["maintainer"], "Open Data Commons");
    assert_eq!(odbl["flags"], json!(["domain_data", "okd_compliant"]));
    let other_pd = list.iter().find(|l| l["id"] == "other-pd").unwrap();
    assert_eq!(other_pd["maintainer"], json!(null));
    assert_eq!(other_pd["url"], json!(null));
    assert_eq!(
        other_pd["flags"],
        json!(["domain_content", "domain_data", "generic", "okd_compliant"])
    );
    let ns = list.iter().find(|l| l["id"] == "notspecified").unwrap();
    assert_eq!(
        ns["flags"],
        json!(["domain_content", "domain_data", "generic"])
    );
}

#[tokio::test]
async fn item_80_frequencies() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/frequencies/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 40);
    assert_eq!(list[0], json!({"id": "continuous", "label": "Real time"}));
    assert_eq!(
        list[5],
        json!({"id": "thirtyMinutes", "label": "Every thirty minute"})
    );
    assert_eq!(list[39], json!({"id": "unknown", "label": "Unknown"}));
    let ids: Vec<&str> = list.iter().map(|f| f["id"].as_str().unwrap()).collect();
    for id in [
        "daily",
        "weekly",
        "monthly",
        "annual",
        "punctual",
        "irregular",
        "notPlanned",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert!(!ids.contains(&"realtime"));
}

#[tokio::test]
async fn item_80_resource_types() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/resource_types/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!([
            {"id": "main", "label": "Main file"},
            {"id": "documentation", "label": "Documentation"},
            {"id": "update", "label": "Update"},
            {"id": "api", "label": "API"},
            {"id": "code", "label": "Code repository"},
            {"id": "other", "label": "Other"},
        ])
    );
}

#[tokio::test]
async fn item_81_extensions_sorted() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/extensions/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let list: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    let mut sorted = list.clone();
    sorted.sort();
    assert_eq!(list, sorted);
    assert_eq!(list.len(), 64);
    for e in [
        "csv", "txt", "json", "geojson", "zip", "tar", "gz", "ssim", "other", "xlsx",
    ] {
        assert!(list.contains(&e.to_string()), "{e}");
    }
    for e in ["exe", "html", "htm"] {
        assert!(!list.contains(&e.to_string()), "{e}");
    }
}

// ---- Stored files (DESIGN §4: rudata serves them itself) ----

#[tokio::test]
async fn files_served_with_headers() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let path = TestApp::path_of(res["url"].as_str().unwrap());
    let r = app.get(&path, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain"));
    assert_eq!(r.header("content-length").as_deref(), Some("3"));
    assert_eq!(r.header("etag"), Some(format!("\"{AAA_SHA1}\"")));
    assert_eq!(r.header("accept-ranges").as_deref(), Some("bytes"));
    let lm = r.header("last-modified").unwrap();
    assert!(chrono::DateTime::parse_from_rfc2822(&lm).is_ok(), "{lm}");
    assert!(lm.ends_with(" GMT"), "{lm}");
    assert_eq!(&r.body[..], b"aaa");
}

#[tokio::test]
async fn files_served_with_ranges() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let r = app
        .upload(&ds, &user.key, "digits.txt", b"0123456789")
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let path = TestApp::path_of(r.json()["url"].as_str().unwrap());
    let r = get_with(&app, &path, None, &[("range", "bytes=2-5")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range").as_deref(), Some("bytes 2-5/10"));
    assert_eq!(r.header("content-length").as_deref(), Some("4"));
    assert_eq!(&r.body[..], b"2345");
    let r = get_with(&app, &path, None, &[("range", "bytes=7-")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range").as_deref(), Some("bytes 7-9/10"));
    assert_eq!(&r.body[..], b"789");
    let r = get_with(&app, &path, None, &[("range", "bytes=-3")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range").as_deref(), Some("bytes 7-9/10"));
    assert_eq!(&r.body[..], b"789");
    let r = get_with(&app, &path, None, &[("range", "bytes=8-100")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range").as_deref(), Some("bytes 8-9/10"));
    assert_eq!(&r.body[..], b"89");
    let r = get_with(&app, &path, None, &[("range", "bytes=10-20")]).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.header("content-range").as_deref(), Some("bytes */10"));
}

#[tokio::test]
async fn files_conditional_and_head() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let path = TestApp::path_of(res["url"].as_str().unwrap());
    let etag = format!("\"{AAA_SHA1}\"");
    let r = get_with(&app, &path, None, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.clone()));
    let r = get_with(
        &app,
        &path,
        None,
        &[("if-none-match", "\"something-else\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
    let r = app.raw(Method::HEAD, &path, None, &[], Vec::new()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length").as_deref(), Some("3"));
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain"));
    assert_eq!(r.header("etag"), Some(etag));
    // An unknown key is 404.
    let r = app.get("/s/resources/nope/nothing.txt", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn files_of_private_dataset_are_hidden() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let other = app.user("other@example.org").await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let path = TestApp::path_of(res["url"].as_str().unwrap());
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"private": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&path, Some(&other.key)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.get(&path, Some(&user.key)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
    assert_eq!(
        app.get(&path, Some(&app.admin_key)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn files_of_deleted_dataset_are_gone_for_others() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let path = TestApp::path_of(res["url"].as_str().unwrap());
    assert_eq!(
        app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = app.get(&path, None).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.json()["message"], "Dataset has been deleted");
    let r = app.get(&path, Some(&user.key)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
}

// ---- Purge (DESIGN §3.3) ----

#[tokio::test]
async fn purge_removes_deleted_dataset_and_all_its_files() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let first = upload_aaa(&app, &ds, &user.key).await;
    let rid = id_of(&first);
    let old_url = first["url"].as_str().unwrap().to_string();
    let r = app
        .replace_file(&ds, &rid, &user.key, "test_update.txt", b"new")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let new_url = r.json()["url"].as_str().unwrap().to_string();
    // A resource deleted earlier: its file is purged too.
    let gone = upload_aaa(&app, &ds, &user.key).await;
    let gone_url = gone["url"].as_str().unwrap().to_string();
    assert_eq!(
        app.delete(
            &format!("/api/1/datasets/{ds}/resources/{}/", id_of(&gone)),
            &user.key
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    // Another dataset, not deleted, is untouched.
    let kept_ds = id_of(&app.dataset(&user.key, "Kept").await);
    let kept = upload_aaa(&app, &kept_ds, &user.key).await;

    assert_eq!(
        app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // Before the purge the owner still sees everything.
    assert_eq!(
        app.get(&TestApp::path_of(&old_url), Some(&user.key))
            .await
            .status,
        StatusCode::OK
    );

    let report = rudata::jobs::purge::purge(&app.state.store, &app.state.files, None)
        .await
        .unwrap();
    assert_eq!(report.datasets, 1);
    assert_eq!(report.files, 3);

    for key in [None, Some(user.key.as_str()), Some(app.admin_key.as_str())] {
        let r = app.get(&format!("/api/1/datasets/{ds}/"), key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{key:?}");
        for url in [&old_url, &new_url, &gone_url] {
            let r = app.get(&TestApp::path_of(url), key).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{url} {key:?}");
        }
    }
    let r = app.get(&format!("/api/1/datasets/r/{rid}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = app.get("/api/1/datasets/", Some(&user.key)).await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["data"][0]["id"], kept_ds.as_str());
    // The files are gone from storage, not just hidden.
    let stored = app
        .state
        .files
        .list(&format!("resources/{ds}"))
        .await
        .unwrap();
    assert!(stored.is_empty(), "{stored:?}");
    let r = app
        .get(&TestApp::path_of(kept["url"].as_str().unwrap()), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A second run has nothing to do.
    let report = rudata::jobs::purge::purge(&app.state.store, &app.state.files, None)
        .await
        .unwrap();
    assert_eq!(report.datasets, 0);
}

#[tokio::test]
async fn purge_spares_restored_dataset() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = upload_aaa(&app, &ds, &user.key).await;
    let path = TestApp::path_of(res["url"].as_str().unwrap());
    assert_eq!(
        app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"deleted": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["deleted"], json!(null));
    let report = rudata::jobs::purge::purge(&app.state.store, &app.state.files, None)
        .await
        .unwrap();
    assert_eq!(report.datasets, 0);
    assert_eq!(report.files, 0);
    let r = app.get(&format!("/api/1/datasets/{ds}/"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["resources"][0]["id"], res["id"]);
    let r = app.get(&path, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
}

#[tokio::test]
async fn purge_respects_cutoff() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    assert_eq!(
        app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // A cut-off before the deletion leaves the dataset alone.
    let before = chrono::Utc::now() - chrono::Duration::hours(1);
    let report = rudata::jobs::purge::purge(&app.state.store, &app.state.files, Some(before))
        .await
        .unwrap();
    assert_eq!(report.datasets, 0);
    assert_eq!(
        app.get(&format!("/api/1/datasets/{ds}/"), Some(&user.key))
            .await
            .status,
        StatusCode::OK
    );
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    let report = rudata::jobs::purge::purge(&app.state.store, &app.state.files, Some(after))
        .await
        .unwrap();
    assert_eq!(report.datasets, 1);
    assert_eq!(
        app.get(&format!("/api/1/datasets/{ds}/"), Some(&user.key))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
