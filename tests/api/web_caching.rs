//! The web site's pages are cached as the API's reads are: a strong `ETag` and 304s, kept by the
//! response cache until the next write, compressed when asked.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, TestResponse, id_of};

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    app.raw(Method::GET, path, None, headers, Vec::new()).await
}

#[tokio::test]
async fn pages_have_etags_answer_304_and_are_kept_until_a_write() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Budget").await;
    let path = format!("/fr/datasets/{}/", ds["slug"].as_str().unwrap());
    // Wait for the response cache to be on, then for a miss followed by a hit.
    let mut seen = None;
    for _ in 0..100 {
        let miss = app.get(&path, None).await;
        let hit = app.get(&path, None).await;
        if miss.header("x-rudata-cache").as_deref() == Some("miss")
            && hit.header("x-rudata-cache").as_deref() == Some("hit")
        {
            seen = Some((miss, hit));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (miss, hit) = seen.expect("the response cache never answered");
    assert_eq!(miss.body, hit.body);
    let etag = hit.header("etag").unwrap();
    assert_eq!(miss.header("etag").unwrap(), etag);
    assert!(hit.header("cache-control").unwrap().starts_with("public"));
    assert!(hit.header("content-type").unwrap().starts_with("text/html"));
    for form in [path.clone(), path.trim_end_matches('/').to_string()] {
        let r = get_with(&app, &form, &[("if-none-match", &etag)]).await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{form}");
        assert!(r.body.is_empty());
    }
    // A write anywhere: the page is computed again, with its new content and tag.
    let r = app
        .put(
            &format!("/api/1/datasets/{}/", id_of(&ds)),
            &app.admin_key,
            json!({"description": "Révisé"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let after = get_with(&app, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(after.text().contains("Révisé"));
    assert_ne!(after.header("etag").unwrap(), etag);
    // The error pages are not tagged.
    let missing = app.get("/fr/datasets/nothing-here/", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.header("etag").is_none());
}

#[tokio::test]
async fn pages_and_the_stylesheet_are_compressed_with_their_own_tags() {
    let app = TestApp::new().await;
    for i in 0..5 {
        app.dataset(&app.admin_key, &format!("Jeu {i}")).await;
    }
    for path in ["/fr/datasets/", "/static/site.css"] {
        let plain = app.get(path, None).await;
        let tag = plain.header("etag").unwrap();
        let r = get_with(&app, path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.header("content-encoding").as_deref(),
            Some("gzip"),
            "{path}"
        );
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut decoded)
            .unwrap();
        assert_eq!(decoded, plain.body.to_vec(), "{path}");
        assert_eq!(
            r.header("etag").unwrap(),
            format!("{}-gzip\"", tag.trim_end_matches('"'))
        );
        let revalidated = get_with(
            &app,
            path,
            &[
                ("accept-encoding", "gzip"),
                ("if-none-match", &r.header("etag").unwrap()),
            ],
        )
        .await;
        assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED, "{path}");
    }
}
