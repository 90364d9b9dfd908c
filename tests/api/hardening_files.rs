//! Hostile file names, URLs and file types: long names store and clean up, control characters never
//! reach a header, and uploaded active content is never run from the API's origin.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{Part, TestApp, id_of};

/// A realistic file name: 92 Chinese characters, which normalise to far more than 255 bytes.
const CHINESE_NAME: &str = "二零二三年全国各省市自治区直辖市城镇居民人均可支配收入与消费支出统计数据汇总表按季度划分含同比增长率及环比变化分析以及各地区人口结构就业情况住房条件教育医疗卫生资源配置情况最终修订版本.csv";

#[tokio::test]
async fn a_very_long_file_name_uploads_replaces_and_assembles() {
    let normalised = rudata::domain::resource::normalize_filename(CHINESE_NAME);
    assert!(normalised.len() >= 254, "{}", normalised.len());
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = id_of(&app.dataset(&user.key, "Long names").await);

    // Single upload: the title keeps the whole name, the stored key stays short, the extension stays.
    let r = app
        .upload(&ds, &user.key, CHINESE_NAME, b"a,b\n1,2\n")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    assert_eq!(created["title"], normalised.as_str());
    assert_eq!(created["format"], "csv");
    assert_eq!(created["mime"], "text/csv");
    let url = created["url"].as_str().unwrap().to_string();
    let last = url.rsplit('/').next().unwrap();
    assert!(last.len() < 255 && last.ends_with(".csv"), "{url}");
    let got = app.get(&TestApp::path_of(&url), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(&got.body[..], b"a,b\n1,2\n");

    // Replace.
    let rid = id_of(&created);
    let r = app
        .replace_file(&ds, &rid, &user.key, CHINESE_NAME, b"a,b\n3,4\n")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["title"], normalised.as_str());
    let got = app
        .get(&TestApp::path_of(r.json()["url"].as_str().unwrap()), None)
        .await;
    assert_eq!(&got.body[..], b"a,b\n3,4\n");

    // Chunked: two parts, then the final request naming the file.
    let path = format!("/api/1/datasets/{ds}/upload/");
    app.send_part(&path, &user.key, "long", 0, 2, b"ab").await;
    app.send_part(&path, &user.key, "long", 1, 2, b"cd").await;
    let field = |name, value: &str| Part::Field {
        name,
        value: value.to_string(),
    };
    let r = app
        .multipart(
            &path,
            Some(&user.key),
            &[
                field("uuid", "long"),
                field("filename", CHINESE_NAME),
                field("totalparts", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["title"], normalised.as_str());
    assert_eq!(r.json()["filesize"], 4);

    // Nothing is left marked pending.
    assert!(app.stale_marks().await.is_empty());
}

#[tokio::test]
async fn the_upload_cleanup_goes_past_a_mark_it_cannot_remove() {
    let app = TestApp::new().await;
    let store = &app.state.store;
    let long = format!("resources/x/20240101-000000-abcdef/{}.csv", "a".repeat(300));
    store
        .insert_pending_file(&long, &chrono::Utc::now())
        .await
        .unwrap();
    // A mark the local backend cannot delete (the key names a directory): skipped, not fatal.
    let dir = "resources/x/20240101-000000-abcdef";
    store
        .insert_pending_file(dir, &chrono::Utc::now())
        .await
        .unwrap();
    // An upload abandoned mid-way (a crash): its object exists, and so does its mark.
    let good = "resources/x/20240101-000000-abcdef/left.csv";
    store
        .insert_pending_file(good, &chrono::Utc::now())
        .await
        .unwrap();
    let mut w = app.state.files.writer(good).await.unwrap();
    w.write(bytes::Bytes::from_static(b"x")).await.unwrap();
    w.finish().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let report = rudata::ops::uploads::cleanup(&app.state, std::time::Duration::from_millis(10))
        .await
        .unwrap();
    assert!(report.objects >= 1, "{report:?}");
    assert!(!app.state.files.exists(good).await.unwrap());
    let left = app.stale_marks().await;
    assert!(!left.contains(&good.to_string()), "{left:?}");
    // A name no filesystem can hold names no file: its mark goes too.
    assert!(!left.contains(&long), "{left:?}");
}

/// A control character in a URL is a form error on `url`; a NUL is refused before, with every JSON body
/// holding one (PostgreSQL cannot store it).
fn assert_url_refused(bad: &str, body: &serde_json::Value) {
    if bad.contains('\0') {
        assert_eq!(
            body["message"],
            "Failed to decode JSON object: a string holds a NUL character (\\u0000)"
        );
    } else {
        assert!(body["errors"]["url"][0].is_string(), "{body}");
    }
}

#[tokio::test]
async fn urls_with_control_characters_are_refused() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = id_of(&app.dataset(&user.key, "Urls").await);
    let rid = id_of(&app.remote(&ds, &user.key, "Remote").await);
    for bad in [
        "https://example.com/a\r\nSet-Cookie: x=1",
        "https://example.com/a\nb",
        "https://example.com/a\0b",
        "https://example.com/a\u{1b}[31mb",
        "https://example.com/a\u{7f}b",
        "https://example.com/a\tb",
    ] {
        let r = app
            .post(
                &format!("/api/1/datasets/{ds}/resources/"),
                &user.key,
                json!({"title": "t", "filetype": "remote", "url": bad}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}: {}", r.text());
        assert_url_refused(bad, &r.json());
        let r = app
            .put(
                &format!("/api/1/datasets/{ds}/resources/{rid}/"),
                &user.key,
                json!({"url": bad}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}: {}", r.text());
        assert_url_refused(bad, &r.json());
    }
    let r = app.get(&format!("/api/1/datasets/r/{rid}"), None).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(
        r.header("location").as_deref(),
        Some("https://example.com/data.csv")
    );
}

#[tokio::test]
async fn the_permalink_of_a_stored_bad_url_redirects_without_the_control_characters() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = id_of(&app.dataset(&user.key, "Old urls").await);
    let rid = id_of(&app.remote(&ds, &user.key, "Remote").await);
    // A database written before URLs were checked for control characters may hold one.
    let mut tx = app.state.store.begin().await.unwrap();
    let mut r = tx.find_resource(&ds, &rid).await.unwrap().unwrap();
    r.url = "https://example.com/a\r\nSet-Cookie: x=1".to_string();
    tx.update_resource(&ds, &r).await.unwrap();
    tx.commit().await.unwrap();
    let r = app.get(&format!("/api/1/datasets/r/{rid}"), None).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("https://example.com/a%0D%0ASet-Cookie:%20x=1")
    );
    assert!(r.header("set-cookie").is_none());
}

#[tokio::test]
async fn uploaded_active_content_is_served_as_an_attachment_in_a_sandbox() {
    let app = TestApp::new().await;
    let user = app.user("p@example.org").await;
    let ds = id_of(&app.dataset(&user.key, "Active").await);
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>"#;
    let xml = br#"<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>"#;
    for (name, bytes) in [
        ("evil.svg", &svg[..]),
        ("evil.xml", &xml[..]),
        ("evil.xsd", &xml[..]),
    ] {
        let r = app.upload(&ds, &user.key, name, bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.text());
        let path = TestApp::path_of(r.json()["url"].as_str().unwrap());
        let got = app.get(&path, None).await;
        assert_eq!(got.status, StatusCode::OK);
        let disposition = got.header("content-disposition").unwrap_or_default();
        assert!(
            disposition.starts_with("attachment"),
            "{name}: {disposition}"
        );
        let csp = got.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("sandbox"),
            "{csp}"
        );
        assert_eq!(
            got.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }
    // A plain data file is still shown inline, but sandboxed all the same.
    let r = app.upload(&ds, &user.key, "data.csv", b"a,b\n").await;
    let got = app
        .get(&TestApp::path_of(r.json()["url"].as_str().unwrap()), None)
        .await;
    assert!(got.header("content-disposition").is_none());
    assert!(
        got.header("content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
}

#[tokio::test]
async fn every_answer_says_nosniff() {
    let app = TestApp::new().await;
    for path in ["/api/1/datasets/", "/api/1/nothing-here/", "/health"] {
        let r = app.get(path, None).await;
        assert_eq!(
            r.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
    }
}
