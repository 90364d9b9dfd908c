//! HTTP caching: strong `ETag`s and 304s, `Last-Modified`, `Cache-Control` public or private, and
//! `Vary` on what changes the body (merged with CORS's `Origin`).

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, id_of};

async fn get_with(
    app: &TestApp,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
) -> crate::helpers::TestResponse {
    app.raw(Method::GET, path, key, headers, Vec::new()).await
}

fn vary_of(r: &crate::helpers::TestResponse) -> Vec<String> {
    r.headers
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn every_json_read_has_a_strong_etag_of_its_bytes_and_a_match_answers_304_without_body() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Budget de Lyon").await;
    let id = id_of(&ds);
    let rid = id_of(&app.remote(&id, &app.admin_key, "Lignes").await);
    let org = app.organization(&app.admin_key, "Ville de Lyon").await;
    for path in [
        format!("/api/1/datasets/{id}/"),
        format!("/api/1/datasets/{id}/resources/{rid}/"),
        "/api/1/datasets/".to_string(),
        "/api/1/datasets/?q=budget".to_string(),
        format!("/api/1/organizations/{org}/"),
        "/api/1/organizations/".to_string(),
        format!("/api/2/datasets/{id}/"),
        format!("/api/2/datasets/resources/{rid}/"),
        "/api/2/datasets/search/?q=budget".to_string(),
        "/api/1/datasets/licenses/".to_string(),
        "/api/1/datasets/frequencies/".to_string(),
    ] {
        let first = app.get(&path, None).await;
        assert_eq!(first.status, StatusCode::OK, "{path}");
        let etag = first
            .header("etag")
            .unwrap_or_else(|| panic!("no ETag on {path}"));
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
            "{path}: {etag}"
        );
        // Stable: the same bytes, the same tag (whether computed or served from the cache).
        let again = app.get(&path, None).await;
        assert_eq!(again.body, first.body, "{path}");
        assert_eq!(
            again.header("etag").as_deref(),
            Some(etag.as_str()),
            "{path}"
        );
        for condition in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", {etag}"),
            "*".into(),
        ] {
            let r = get_with(&app, &path, None, &[("if-none-match", &condition)]).await;
            assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{path} {condition}");
            assert!(r.body.is_empty(), "{path}");
            assert!(r.header("etag").is_some(), "{path}");
            assert!(r.header("cache-control").is_some(), "{path}");
        }
        // HEAD: the same validators as GET, and the same 304.
        let head = app.raw(Method::HEAD, &path, None, &[], Vec::new()).await;
        assert_eq!(head.status, StatusCode::OK, "{path}");
        assert!(head.body.is_empty(), "{path}");
        assert_eq!(
            head.header("etag").as_deref(),
            Some(etag.as_str()),
            "{path}"
        );
        let head = app
            .raw(
                Method::HEAD,
                &path,
                None,
                &[("if-none-match", &etag)],
                Vec::new(),
            )
            .await;
        assert_eq!(head.status, StatusCode::NOT_MODIFIED, "{path}");
        let r = get_with(&app, &path, None, &[("if-none-match", "\"0123\"")]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.body, first.body, "{path}");
    }
}

#[tokio::test]
async fn the_etag_is_kept_with_a_cached_answer_and_changes_after_a_write() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Budget").await;
    let path = format!("/api/1/datasets/{}/", id_of(&ds));
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
    let etag = hit.header("etag").unwrap();
    // The kept answer carries the tag computed with it.
    assert_eq!(miss.header("etag").unwrap(), etag);
    assert_eq!(miss.body, hit.body);
    let r = get_with(&app, &path, None, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r.header("x-rudata-cache").as_deref(), Some("hit"));

    let put = app
        .put(&path, &app.admin_key, json!({"title": "Budget révisé"}))
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let after = get_with(&app, &path, None, &[("if-none-match", &etag)]).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.json()["title"], "Budget révisé");
    let new_tag = after.header("etag").unwrap();
    assert_ne!(new_tag, etag);
    let r = get_with(&app, &path, None, &[("if-none-match", &new_tag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn a_tag_of_another_mask_or_another_caller_does_not_match() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Budget").await;
    let path = format!("/api/1/datasets/{}/", id_of(&ds));
    let anonymous = app.get(&path, None).await;
    let etag = anonymous.header("etag").unwrap();
    let masked = get_with(
        &app,
        &path,
        None,
        &[("x-fields", "id,title"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(masked.status, StatusCode::OK);
    assert_eq!(masked.json().as_object().unwrap().len(), 2);
    assert_ne!(masked.header("etag").unwrap(), etag);
    // The owner's answer says what they may do (`permissions`): another body, another tag.
    let owner = get_with(
        &app,
        &path,
        Some(&app.admin_key),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(owner.status, StatusCode::OK);
    assert_ne!(owner.body, anonymous.body);
    assert_ne!(owner.header("etag").unwrap(), etag);
    let again = get_with(
        &app,
        &path,
        Some(&app.admin_key),
        &[("if-none-match", &owner.header("etag").unwrap())],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn datasets_and_resources_have_last_modified_and_if_modified_since_answers_304() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Budget").await;
    let id = id_of(&ds);
    let rid = id_of(&app.remote(&id, &app.admin_key, "Lignes").await);
    for path in [
        format!("/api/1/datasets/{id}/"),
        format!("/api/1/datasets/{id}/resources/{rid}/"),
        format!("/api/2/datasets/{id}/"),
        format!("/api/2/datasets/resources/{rid}/"),
    ] {
        let r = app.get(&path, None).await;
        let lm = r
            .header("last-modified")
            .unwrap_or_else(|| panic!("no Last-Modified on {path}"));
        assert!(lm.ends_with(" GMT"), "{lm}");
        let same = get_with(&app, &path, None, &[("if-modified-since", &lm)]).await;
        assert_eq!(same.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(same.body.is_empty());
        let old = get_with(
            &app,
            &path,
            None,
            &[("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")],
        )
        .await;
        assert_eq!(old.status, StatusCode::OK, "{path}");
        // If-None-Match wins: a tag that does not match means a full answer, whatever the date.
        let both = get_with(
            &app,
            &path,
            None,
            &[("if-modified-since", &lm), ("if-none-match", "\"not-it\"")],
        )
        .await;
        assert_eq!(both.status, StatusCode::OK, "{path}");
        // Nonsense dates are ignored.
        let junk = get_with(&app, &path, None, &[("if-modified-since", "yesterday")]).await;
        assert_eq!(junk.status, StatusCode::OK, "{path}");
    }
    // A resource change moves the dataset's date.
    let before = app
        .get(&format!("/api/1/datasets/{id}/"), None)
        .await
        .header("last-modified")
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/resources/{rid}/"),
            &app.admin_key,
            json!({"title": "Lignes 2"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get_with(
        &app,
        &format!("/api/1/datasets/{id}/"),
        None,
        &[("if-modified-since", &before)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(r.header("last-modified").unwrap(), before);
}

#[tokio::test]
async fn anonymous_reads_are_public_and_authenticated_or_private_ones_are_private() {
    let mut app = TestApp::new().await;
    app.configure(|c| c.cache_max_age = 120);
    let user = app.user("owner@example.org").await;
    let public = id_of(&app.dataset(&user.key, "Public").await);
    let hidden = app
        .post(
            "/api/1/datasets/",
            &user.key,
            json!({"title": "Hidden", "description": "d", "private": true}),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::CREATED);
    let hidden = id_of(&hidden.json());

    let anonymous = app.get(&format!("/api/1/datasets/{public}/"), None).await;
    assert_eq!(
        anonymous.header("cache-control").as_deref(),
        Some("public, max-age=120")
    );
    let list = app.get("/api/1/datasets/", None).await;
    assert_eq!(
        list.header("cache-control").as_deref(),
        Some("public, max-age=120")
    );

    let owner_private = app
        .get(&format!("/api/1/datasets/{hidden}/"), Some(&user.key))
        .await;
    assert_eq!(owner_private.status, StatusCode::OK);
    let cc = owner_private.header("cache-control").unwrap();
    assert!(cc.starts_with("private") && cc.contains("no-cache"), "{cc}");
    let owner_public = app
        .get(&format!("/api/1/datasets/{public}/"), Some(&user.key))
        .await;
    assert!(
        owner_public
            .header("cache-control")
            .unwrap()
            .starts_with("private")
    );
    let me = app.get("/api/1/me/", Some(&user.key)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.header("cache-control").unwrap().starts_with("private"));
    // Errors are not made cacheable.
    let missing = app.get(&format!("/api/1/datasets/{hidden}/"), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("cache-control"), None);
    assert_eq!(missing.header("etag"), None);
}

#[tokio::test]
async fn vary_names_the_key_the_mask_and_the_encoding_and_keeps_cors_origin() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Budget").await;
    let path = format!("/api/1/datasets/{}/", id_of(&ds));
    let r = get_with(
        &app,
        &path,
        None,
        &[("origin", "https://reuser.example.org")],
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://reuser.example.org")
    );
    let vary = vary_of(&r);
    for name in ["origin", "x-api-key", "x-fields", "accept-encoding"] {
        assert_eq!(
            vary.iter().filter(|v| *v == name).count(),
            1,
            "{name} in {vary:?}"
        );
    }
    let r = get_with(
        &app,
        &path,
        None,
        &[
            ("origin", "https://reuser.example.org"),
            ("accept-encoding", "gzip"),
        ],
    )
    .await;
    let vary = vary_of(&r);
    for name in ["origin", "x-api-key", "x-fields", "accept-encoding"] {
        assert_eq!(
            vary.iter().filter(|v| *v == name).count(),
            1,
            "{name} in {vary:?}"
        );
    }
    // Without CORS, no Origin.
    let r = app.get(&path, None).await;
    assert!(!vary_of(&r).contains(&"origin".to_string()));
}

#[tokio::test]
async fn stored_files_keep_their_etag_and_get_cache_control() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Files").await;
    let id = id_of(&ds);
    let up = app
        .upload(&id, &app.admin_key, "data.csv", b"a,b\n1,2\n")
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    let path = TestApp::path_of(up.json()["url"].as_str().unwrap());
    let r = app.get(&path, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let etag = r.header("etag").unwrap();
    assert!(r.header("cache-control").unwrap().starts_with("public"));
    let r = get_with(&app, &path, None, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = get_with(&app, &path, None, &[("range", "bytes=0-2")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.body[..], b"a,b");
}
