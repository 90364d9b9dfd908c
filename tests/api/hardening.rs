//! Hostile or absurd input: answered with a clear 4xx, never a 500 or a panic, and nothing stored.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{Part, TestApp};

#[tokio::test]
async fn out_of_range_dates_are_refused_and_the_list_keeps_working() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = app.dataset(&user.key, "Dates").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for field in ["frequency_date", "archived", "deleted"] {
        let r = app
            .put(
                &format!("/api/1/datasets/{ds}/"),
                &user.key,
                json!({field: "+12345-01-01T00:00:00"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.text());
        assert!(r.json()["errors"][field].is_array(), "{}", r.text());
    }
    let r = app
        .post(
            "/api/1/me/api_tokens/",
            &user.key,
            json!({"expires_at": "+12345-01-01T00:00:00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/api/1/datasets/", None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/1/datasets/{ds}/"), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/1/me/api_tokens/", Some(&user.key))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_page_beyond_any_integer_is_404() {
    let app = TestApp::new().await;
    let r = app
        .get(
            "/api/1/datasets/?page=9223372036854775807&page_size=1000",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .get(
            "/api/1/organizations/?page=9223372036854775807&page_size=1000",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn too_many_search_words_or_tags_are_400() {
    let app = TestApp::new().await;
    let q: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
    let r = app
        .get(&format!("/api/1/datasets/?q={}", q.join("+")), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["q"].is_string());
    let tags: Vec<String> = (0..100).map(|i| format!("tag=t{i}")).collect();
    let r = app
        .get(&format!("/api/1/datasets/?{}", tags.join("&")), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Repeated words count once.
    let r = app
        .get(
            &format!("/api/1/datasets/?q={}", vec!["same"; 200].join("+")),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_huge_range_end_serves_to_the_end_of_the_file() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = app.dataset(&user.key, "Range").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = app
        .upload(&ds, &user.key, "r.csv", b"0123456789")
        .await
        .json()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .raw(
            axum::http::Method::GET,
            &TestApp::path_of(&url),
            None,
            &[("Range", "bytes=2-18446744073709551615")],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.body[..], b"23456789");
}

#[tokio::test]
async fn the_permalink_of_a_hidden_dataset_redirects_only_those_who_may_see_it() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = app.dataset(&user.key, "Hidden").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rid = app.remote(&ds, &user.key, "Secret").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let latest = format!("/api/1/datasets/r/{rid}");
    assert_eq!(app.get(&latest, None).await.status, StatusCode::FOUND);
    app.put(
        &format!("/api/1/datasets/{ds}/"),
        &user.key,
        json!({"private": true}),
    )
    .await;
    assert_eq!(app.get(&latest, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&latest, Some(&user.key)).await.status,
        StatusCode::FOUND
    );
    app.put(
        &format!("/api/1/datasets/{ds}/"),
        &user.key,
        json!({"private": false}),
    )
    .await;
    app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
        .await;
    assert_eq!(app.get(&latest, None).await.status, StatusCode::GONE);
    assert_eq!(
        app.get(&latest, Some(&user.key)).await.status,
        StatusCode::FOUND
    );
}

#[tokio::test]
async fn files_of_hidden_datasets_are_not_cacheable_by_shared_caches() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = app.dataset(&user.key, "Cache").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = app.upload(&ds, &user.key, "c.csv", b"a,b\n").await.json()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.get(&TestApp::path_of(&url), None).await;
    assert!(r.header("cache-control").unwrap().starts_with("public"));
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    app.put(
        &format!("/api/1/datasets/{ds}/"),
        &user.key,
        json!({"private": true}),
    )
    .await;
    let r = app.get(&TestApp::path_of(&url), Some(&user.key)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("private, no-store")
    );
}

#[tokio::test]
async fn absurd_upload_forms_are_400() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = app.dataset(&user.key, "Forms").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/1/datasets/{ds}/upload/");
    let long = "u".repeat(100_000);
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[
                Part::Field {
                    name: "uuid",
                    value: long,
                },
                Part::File {
                    name: "file",
                    filename: "a.csv",
                    bytes: b"a",
                },
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["success"], false);
    let r = app
        .finish_upload(&path, &user.key, "u", usize::MAX, &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .send_part(&path, &user.key, "u", 0, 20_000_000, b"a")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .get(&format!("/api/1/datasets/{ds}/"), Some(&user.key))
        .await;
    assert!(r.json()["resources"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn writes_through_an_old_slug_answer_308_to_the_new_one() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    app.dataset(&user.key, "Old name").await;
    let r = app
        .put(
            "/api/1/datasets/old-name/",
            &user.key,
            json!({"title": "New name"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .put(
            "/api/1/datasets/old-name/",
            &user.key,
            json!({"description": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/1/datasets/new-name/")
    );
    let r = app.upload("old-name", &user.key, "a.csv", b"a").await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/1/datasets/new-name/upload/")
    );
    let r = app.delete("/api/1/datasets/old-name", &user.key).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    // Nothing was changed through the old slug.
    let d = app
        .get("/api/1/datasets/new-name/", Some(&user.key))
        .await
        .json();
    assert_eq!(d["description"], "A test dataset");
    assert!(d["deleted"].is_null());
    assert!(d["resources"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_client_chosen_deletion_date_is_replaced_by_the_servers() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = app.dataset(&user.key, "Dated").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = chrono::Utc::now();
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"deleted": "2000-01-01T00:00:00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let deleted =
        chrono::DateTime::parse_from_rfc3339(r.json()["deleted"].as_str().unwrap()).unwrap();
    assert!(
        deleted >= before - chrono::Duration::seconds(1),
        "{deleted}"
    );
    // Soft-deleted like a DELETE: 410 for strangers, and a purge before the deletion leaves it alone.
    assert_eq!(
        app.get(&format!("/api/1/datasets/{ds}/"), None)
            .await
            .status,
        StatusCode::GONE
    );
    let report = rudata::ops::purge::purge(&app.state, Some(before - chrono::Duration::hours(1)))
        .await
        .unwrap();
    assert_eq!(report.datasets, 0);
}

/// Found by the property tests on PostgreSQL, whose text cannot hold U+0000: a NUL in any string of a
/// JSON body (extras, titles, keys) was a 500 there. It is a 400 on both backends, and nothing changes.
#[tokio::test]
async fn a_nul_character_in_a_json_body_is_a_400_on_every_backend() {
    let app = TestApp::new().await;
    let user = app.user("nul@example.org").await;
    let ds = app.dataset(&user.key, "Nul").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = app
        .get(&format!("/api/1/datasets/{ds}/"), None)
        .await
        .json();
    for (method, path, body) in [
        (
            "PUT",
            format!("/api/2/datasets/{ds}/extras/"),
            json!({"title": [["\u{0}"]]}),
        ),
        (
            "PUT",
            format!("/api/2/datasets/{ds}/extras/"),
            json!({"k\u{0}": "v"}),
        ),
        (
            "PUT",
            format!("/api/1/datasets/{ds}/"),
            json!({"title": "a\u{0}b"}),
        ),
        (
            "POST",
            "/api/1/datasets/".to_string(),
            json!({"title": "x", "description": "\u{0}"}),
        ),
    ] {
        let r = app
            .request(method.parse().unwrap(), &path, Some(&user.key), Some(&body))
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {}",
            r.text()
        );
        assert!(
            r.json()["message"].as_str().unwrap().contains("NUL"),
            "{}",
            r.text()
        );
    }
    let after = app
        .get(&format!("/api/1/datasets/{ds}/"), None)
        .await
        .json();
    assert_eq!(before, after);
}
