//! Hosted files (checklist items 76, 78; DESIGN §3.1–3.2, §4): a replaced file stays served as
//! a version, the permalink follows the current URL, and rudata serves stored files itself
//! (headers, ranges, conditional requests, visibility of private and deleted datasets).

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Part, TestApp, id_of, sha1_hex};
use crate::resource_helpers::{AAA_SHA1, owner_with_dataset, upload_aaa};

async fn get_with(
    app: &TestApp,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
) -> crate::helpers::TestResponse {
    app.raw(Method::GET, path, key, headers, Vec::new()).await
}

/// Checklist item 76.
#[tokio::test]
async fn replacing_a_file_keeps_the_old_one_as_a_version() {
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

/// Checklist item 76.
#[tokio::test]
async fn replacing_a_file_keeps_other_metadata() {
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

/// Checklist item 76.
#[tokio::test]
async fn rejected_replacement_changes_nothing() {
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

/// Checklist item 76.
#[tokio::test]
async fn remote_resource_has_no_versions_and_unknown_one_is_not_found() {
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

/// Checklist item 78.
#[tokio::test]
async fn permalink_redirects_to_the_current_url() {
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
