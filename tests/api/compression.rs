//! Compression negotiated by `Accept-Encoding`: gzip, brotli and zstd for JSON and CSV answers
//! above the threshold, each decoding to exactly the identity bytes, with its own `ETag`.

use std::io::Read;

use axum::http::{Method, StatusCode};

use crate::cache::{settle, watched};
use crate::helpers::{TestApp, TestResponse, id_of};

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    app.raw(Method::GET, path, None, headers, Vec::new()).await
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => out = zstd::decode_all(body).unwrap(),
        other => panic!("unexpected encoding {other}"),
    }
    out
}

/// A catalog whose list page is well above the threshold; once it returns, the response cache
/// keeps answers (its change watcher runs and has seen these writes).
async fn catalog(app: &TestApp) {
    for i in 0..5 {
        app.dataset(&app.admin_key, &format!("Budget numéro {i}"))
            .await;
    }
    settle().await;
}

#[tokio::test]
async fn each_encoding_decodes_to_exactly_the_identity_body_with_its_own_etag() {
    let app = watched().await;
    catalog(&app).await;
    for path in ["/api/1/datasets/", "/api/1/datasets/licenses/"] {
        let plain = get_with(&app, path, &[]).await;
        assert_eq!(plain.status, StatusCode::OK);
        assert!(
            plain.body.len() > 1024,
            "{path}: {} bytes",
            plain.body.len()
        );
        assert_eq!(plain.header("content-encoding"), None);
        let etag = plain.header("etag").unwrap();
        for encoding in ["gzip", "br", "zstd"] {
            let r = get_with(&app, path, &[("accept-encoding", encoding)]).await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(
                r.header("content-encoding").as_deref(),
                Some(encoding),
                "{path}"
            );
            assert!(r.body.len() < plain.body.len(), "{path} {encoding}");
            assert_eq!(decode(encoding, &r.body), plain.body, "{path} {encoding}");
            // Another representation: another (strong) tag, still accepted for revalidation.
            let tag = r.header("etag").unwrap();
            assert_eq!(tag, format!("{}-{encoding}\"", etag.trim_end_matches('"')));
            assert!(
                r.header("vary")
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains("accept-encoding")
            );
            // Served from the response cache (the identity read above kept the answer), with the
            // compressed copy kept beside it: its exact length is known.
            assert_eq!(r.header("x-rudata-cache").as_deref(), Some("hit"), "{path}");
            assert_eq!(
                r.header("content-length"),
                Some(r.body.len().to_string()),
                "{path} {encoding}"
            );
            let again = get_with(
                &app,
                path,
                &[("accept-encoding", encoding), ("if-none-match", &tag)],
            )
            .await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path} {encoding}");
            assert!(again.body.is_empty());
            assert_eq!(again.header("etag").as_deref(), Some(tag.as_str()));
            // HEAD says what GET would send.
            let head = app
                .raw(
                    Method::HEAD,
                    path,
                    None,
                    &[("accept-encoding", encoding)],
                    Vec::new(),
                )
                .await;
            assert_eq!(head.status, StatusCode::OK);
            assert!(head.body.is_empty());
            assert_eq!(head.header("content-encoding").as_deref(), Some(encoding));
            assert_eq!(head.header("etag").as_deref(), Some(tag.as_str()));
        }
    }
}

#[tokio::test]
async fn streamed_csv_exports_are_compressed() {
    let app = TestApp::new().await;
    catalog(&app).await;
    let plain = get_with(&app, "/api/1/site/datasets.csv", &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    let r = get_with(
        &app,
        "/api/1/site/datasets.csv",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(r.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), plain.body);
}

#[tokio::test]
async fn q_values_are_honoured() {
    let app = TestApp::new().await;
    catalog(&app).await;
    let path = "/api/1/datasets/";
    let r = get_with(&app, path, &[("accept-encoding", "gzip;q=0, br")]).await;
    assert_eq!(r.header("content-encoding").as_deref(), Some("br"));
    let r = get_with(
        &app,
        path,
        &[("accept-encoding", "gzip;q=0.2, zstd;q=0.9, br;q=0.5")],
    )
    .await;
    assert_eq!(r.header("content-encoding").as_deref(), Some("zstd"));
    let r = get_with(&app, path, &[("accept-encoding", "gzip;q=0")]).await;
    assert_eq!(r.header("content-encoding"), None);
    let r = get_with(&app, path, &[("accept-encoding", "identity")]).await;
    assert_eq!(r.header("content-encoding"), None);
}

#[tokio::test]
async fn small_answers_and_stored_archives_are_not_compressed() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Budget").await;
    let id = id_of(&ds);
    let small = get_with(
        &app,
        &format!("/api/1/datasets/{id}/"),
        &[("x-fields", "id"), ("accept-encoding", "gzip, br, zstd")],
    )
    .await;
    assert_eq!(small.status, StatusCode::OK);
    assert!(small.body.len() < 1024);
    assert_eq!(small.header("content-encoding"), None);
    assert_eq!(small.json()["id"], id.as_str());

    // A zip of compressible bytes: served as stored, with its length, ETag and ranges.
    let zip = vec![b'a'; 8192];
    let up = app.upload(&id, &app.admin_key, "archive.zip", &zip).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    let path = TestApp::path_of(up.json()["url"].as_str().unwrap());
    let r = get_with(&app, &path, &[("accept-encoding", "gzip, br, zstd")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header("content-length").as_deref(), Some("8192"));
    assert_eq!(r.body.len(), 8192);
    let r = get_with(
        &app,
        &path,
        &[("accept-encoding", "gzip"), ("range", "bytes=0-99")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body.len(), 100);
}

#[tokio::test]
async fn stored_csv_files_are_served_as_stored() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Budget").await;
    let id = id_of(&ds);
    let csv: Vec<u8> = (0..500)
        .flat_map(|i| format!("{i},ligne {i}\n").into_bytes())
        .collect();
    let up = app.upload(&id, &app.admin_key, "data.csv", &csv).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    let path = TestApp::path_of(up.json()["url"].as_str().unwrap());
    let whole = get_with(&app, &path, &[("accept-encoding", "gzip, br, zstd")]).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.header("content-encoding"), None);
    assert_eq!(whole.header("content-length"), Some(csv.len().to_string()));
    assert_eq!(&whole.body[..], &csv[..]);
    let r = get_with(
        &app,
        &path,
        &[("accept-encoding", "gzip"), ("range", "bytes=10-19")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(&r.body[..], &csv[10..20]);
}

#[tokio::test]
async fn a_kept_answer_is_compressed_once_and_served_compressed_from_the_cache() {
    let app = watched().await;
    catalog(&app).await;
    let path = "/api/1/datasets/?page_size=5";
    // The first read computes the answer through the layers (compressed there, streamed).
    let first = get_with(&app, path, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(first.header("x-rudata-cache").as_deref(), Some("miss"));
    assert_eq!(first.header("content-encoding").as_deref(), Some("br"));
    let plain = get_with(&app, path, &[]).await;
    assert_eq!(plain.header("x-rudata-cache").as_deref(), Some("hit"));
    assert_eq!(decode("br", &first.body), plain.body);
    for _ in 0..2 {
        for encoding in ["gzip", "br", "zstd"] {
            let r = get_with(&app, path, &[("accept-encoding", encoding)]).await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(r.header("x-rudata-cache").as_deref(), Some("hit"));
            assert_eq!(r.header("content-encoding").as_deref(), Some(encoding));
            assert_eq!(decode(encoding, &r.body), plain.body, "{encoding}");
            assert_eq!(
                r.header("etag"),
                first
                    .header("etag")
                    .map(|t| t.replace("-br", &format!("-{encoding}")))
            );
            assert!(
                r.header("vary")
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains("accept-encoding")
            );
        }
    }
    // A write: the kept answer and its compressed copies are gone together.
    app.dataset(&app.admin_key, "Budget après").await;
    settle().await;
    let r = get_with(&app, path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.header("x-rudata-cache").as_deref(), Some("miss"));
    let after = get_with(&app, path, &[]).await;
    assert_ne!(after.body, plain.body);
    assert_eq!(decode("gzip", &r.body), after.body);
    // Revalidation of a compressed copy from the cache: 304 with its own tag.
    let r = get_with(&app, path, &[("accept-encoding", "zstd")]).await;
    let tag = r.header("etag").unwrap();
    let again = get_with(
        &app,
        path,
        &[("accept-encoding", "zstd"), ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("x-rudata-cache").as_deref(), Some("hit"));
    assert!(again.body.is_empty());
}
