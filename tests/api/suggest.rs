//! Suggestions: prefix of a word, accents and case folded, ranked; public data only; udata's
//! parameters and validation errors.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, put_ok, soft_delete};
use crate::helpers::{TestApp, TestResponse, id_of};

/// The values of `key` in a suggestion list, in order.
fn values(r: &TestResponse, key: &str) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text()))
        .iter()
        .map(|v| v[key].as_str().unwrap().to_string())
        .collect()
}

async fn titles(app: &TestApp, q: &str) -> Vec<String> {
    let r = app
        .get(&format!("/api/1/datasets/suggest/?q={q}"), None)
        .await;
    values(&r, "title")
}

async fn tags(app: &TestApp, q: &str) -> Vec<String> {
    let r = app.get(&format!("/api/1/tags/suggest/?q={q}"), None).await;
    values(&r, "text")
}

async fn dataset(app: &TestApp, body: Value) -> String {
    let mut body = body;
    body["description"] = json!("A dataset");
    id_of(&created(app, &app.admin_key, body).await)
}

#[tokio::test]
async fn datasets_are_found_by_word_prefix_whatever_accents_and_case() {
    let app = TestApp::new().await;
    dataset(&app, json!({"title": "Annexe au budget"})).await;
    dataset(
        &app,
        json!({"title": "Budget primitif 2024", "acronym": "BP"}),
    )
    .await;
    dataset(&app, json!({"title": "École maternelle Jules Ferry"})).await;
    dataset(&app, json!({"title": "Budget"})).await;

    assert_eq!(titles(&app, "ecol").await, ["École maternelle Jules Ferry"]);
    assert_eq!(
        titles(&app, "%C3%89COLE%20MAT").await,
        ["École maternelle Jules Ferry"]
    );
    assert_eq!(titles(&app, "prim").await, ["Budget primitif 2024"]);
    assert_eq!(
        titles(&app, "budget%20prim").await,
        ["Budget primitif 2024"]
    );
    // Acronyms are suggested too.
    assert_eq!(titles(&app, "bp").await, ["Budget primitif 2024"]);
    // A prefix of a word, not any part of it.
    assert!(titles(&app, "rimitif").await.is_empty());
    // Ranked: titles starting with `q` (shortest completion first), then titles with a later word.
    assert_eq!(
        titles(&app, "BUDG").await,
        ["Budget", "Budget primitif 2024", "Annexe au budget"]
    );
    let r = app.get("/api/1/datasets/suggest/?q=budget", None).await;
    let first = &r.json()[0];
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["acronym", "id", "image_url", "page", "slug", "title"]
    );
    assert_eq!(first["slug"], "budget");
}

#[tokio::test]
async fn size_limits_the_answer_as_udata_reads_it() {
    let app = TestApp::new().await;
    for title in ["Transport 1", "Transport 2", "Transport 3"] {
        dataset(&app, json!({"title": title})).await;
    }
    let count = |r: TestResponse| {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json().as_array().unwrap().len()
    };
    let get = |q: &'static str| app.get(q, None);
    assert_eq!(count(get("/api/1/datasets/suggest/?q=tra&size=2").await), 2);
    // MongoDB's limit: 0 is no limit, a negative size counts as its absolute value.
    assert_eq!(count(get("/api/1/datasets/suggest/?q=tra&size=0").await), 3);
    assert_eq!(
        count(get("/api/1/datasets/suggest/?q=tra&size=-1").await),
        1
    );
    assert_eq!(
        count(get("/api/1/datasets/suggest/?q=tra&size=%2B2").await),
        2
    );
    // An empty `q` matches everything.
    assert_eq!(count(get("/api/1/datasets/suggest/?q=").await), 3);
}

#[tokio::test]
async fn a_dataset_with_many_matching_words_counts_once() {
    let app = TestApp::new().await;
    // Twelve words of one dataset match: more than one read of the index (2 × size + 8 terms).
    let words: Vec<String> = (b'a'..=b'l').map(|c| format!("bbb{}", c as char)).collect();
    let many = dataset(&app, json!({"title": format!("x {}", words.join(" "))})).await;
    let other = dataset(&app, json!({"title": "y bbbz"})).await;
    let r = app.get("/api/1/datasets/suggest/?q=bbb&size=2", None).await;
    assert_eq!(values(&r, "id"), vec![many, other]);
}

#[tokio::test]
async fn bad_parameters_get_udatas_errors() {
    let app = TestApp::new().await;
    for path in [
        "/api/1/datasets/suggest/",
        "/api/1/datasets/suggest/formats/",
        "/api/1/datasets/suggest/mime/",
        "/api/1/tags/suggest/",
        "/api/1/organizations/suggest/",
        "/api/1/users/suggest/",
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text());
        assert_eq!(
            r.json(),
            json!({"errors": {"q": "The string to autocomplete/suggest Missing required parameter in the query string"},
                   "message": "Input payload validation failed"}),
            "{path}"
        );
        let r = app.get(&format!("{path}?q=a&size=abc"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text());
        assert!(r.json()["errors"]["size"].is_string(), "{path}");
        assert_eq!(r.json()["message"], "Input payload validation failed");
    }
    let r = app.get("/api/1/tags/suggest/?q=a&size=1.5", None).await;
    assert_eq!(
        r.json()["errors"]["size"],
        "The amount of suggestion to fetch invalid literal for int() with base 10: '1.5'"
    );
    // Users: 1 to 20.
    for size in ["0", "21", "-1", "x"] {
        let r = app
            .get(&format!("/api/1/users/suggest/?q=a&size={size}"), None)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{size}: {}", r.text());
        assert_eq!(
            r.json()["errors"]["size"],
            "The amount of suggestion to fetch (between 1 and 20) The size must be an integer between 1 and 20."
        );
    }
    let r = app.get("/api/1/users/suggest/?q=a&size=20", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn private_deleted_and_archived_datasets_never_leak() {
    let app = TestApp::new().await;
    let public = dataset(
        &app,
        json!({"title": "Budget public", "tags": ["budget-ouvert"]}),
    )
    .await;
    dataset(
        &app,
        json!({"title": "Budget secret", "private": true, "tags": ["secret-tag"]}),
    )
    .await;
    let deleted = dataset(
        &app,
        json!({"title": "Budget supprimé", "tags": ["gone-tag"]}),
    )
    .await;
    soft_delete(&app, &deleted, &app.admin_key).await;
    dataset(
        &app,
        json!({"title": "Budget archivé", "archived": "2024-01-01T00:00:00", "tags": ["old-tag"]}),
    )
    .await;

    assert_eq!(titles(&app, "budget").await, ["Budget public"]);
    for q in ["secret", "gone", "old", "tag"] {
        assert!(tags(&app, q).await.is_empty(), "{q}");
    }
    assert_eq!(tags(&app, "budg").await, ["budget-ouvert"]);

    // Made private: gone from every suggestion as the write commits; back when public again.
    put_ok(&app, &public, &app.admin_key, json!({"private": true})).await;
    assert!(titles(&app, "budget").await.is_empty());
    assert!(tags(&app, "budg").await.is_empty());
    put_ok(&app, &public, &app.admin_key, json!({"private": false})).await;
    assert_eq!(titles(&app, "budget").await, ["Budget public"]);
    assert_eq!(tags(&app, "budg").await, ["budget-ouvert"]);

    // A renamed dataset is found by its new title only; changed tags likewise.
    put_ok(
        &app,
        &public,
        &app.admin_key,
        json!({"title": "Comptes administratifs", "tags": ["comptes"]}),
    )
    .await;
    assert!(titles(&app, "budget").await.is_empty());
    assert_eq!(titles(&app, "compt").await, ["Comptes administratifs"]);
    assert!(tags(&app, "budg").await.is_empty());
    assert_eq!(tags(&app, "compt").await, ["comptes"]);

    // Deleted: gone with its tags; restored: back.
    soft_delete(&app, &public, &app.admin_key).await;
    assert!(titles(&app, "compt").await.is_empty());
    assert!(tags(&app, "compt").await.is_empty());
    put_ok(&app, &public, &app.admin_key, json!({"deleted": null})).await;
    assert_eq!(titles(&app, "compt").await, ["Comptes administratifs"]);
    assert_eq!(tags(&app, "compt").await, ["comptes"]);
}

#[tokio::test]
async fn tags_are_suggested_once_shortest_first() {
    let app = TestApp::new().await;
    for i in 0..3 {
        dataset(
            &app,
            json!({"title": format!("Finances {i}"), "tags": ["finances", format!("finances-locales-{i}"), "Testé"]}),
        )
        .await;
    }
    dataset(
        &app,
        json!({"title": "Other", "tags": ["comptes-finances"]}),
    )
    .await;
    assert_eq!(
        tags(&app, "FIN").await,
        [
            "finances",
            "comptes-finances",
            "finances-locales-0",
            "finances-locales-1",
            "finances-locales-2"
        ]
    );
    assert_eq!(tags(&app, "locales-1").await, ["finances-locales-1"]);
    assert_eq!(tags(&app, "test%C3%A9").await, ["teste"]);
    let r = app.get("/api/1/tags/suggest/?q=fin&size=2", None).await;
    // The first `size` in rank order, then shortest first.
    assert_eq!(values(&r, "text"), ["finances", "finances-locales-0"]);
}

#[tokio::test]
async fn formats_and_mime_types_come_from_udatas_lists() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/suggest/formats/?q=cs", None).await;
    assert_eq!(r.json(), json!([{"text": "csv"}, {"text": "ics"}]));
    // As udata: the text as written, case-sensitive.
    let r = app.get("/api/1/datasets/suggest/formats/?q=CS", None).await;
    assert_eq!(r.json(), json!([]));
    let r = app
        .get("/api/1/datasets/suggest/formats/?q=geo&size=1", None)
        .await;
    assert_eq!(r.json(), json!([{"text": "geojson"}]));
    let r = app.get("/api/1/datasets/suggest/mime/?q=csv", None).await;
    assert_eq!(r.json(), json!([{"text": "text/csv"}]));
    let r = app
        .get("/api/1/datasets/suggest/mime/?q=json&size=5", None)
        .await;
    assert_eq!(
        values(&r, "text"),
        ["application/json", "application/vnd.geo+json"]
    );
}

#[tokio::test]
async fn organizations_are_suggested_by_name_and_acronym_until_deleted() {
    let app = TestApp::new().await;
    let r = app
        .post(
            "/api/1/organizations/",
            &app.admin_key,
            json!({"name": "Ministère de la Transition écologique", "description": "x", "acronym": "MTE"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let org = id_of(&r.json());
    let gone = app.organization(&app.admin_key, "Ministère disparu").await;
    let r = app
        .delete(&format!("/api/1/organizations/{gone}/"), &app.admin_key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());

    for q in [
        "ministere",
        "MINIST%C3%88RE",
        "ecolog",
        "la%20transition",
        "mte",
    ] {
        let r = app
            .get(&format!("/api/1/organizations/suggest/?q={q}"), None)
            .await;
        assert_eq!(values(&r, "id"), vec![org.as_str()], "{q}");
    }
    let r = app
        .get("/api/1/organizations/suggest/?q=minist", None)
        .await;
    assert_eq!(
        r.json(),
        json!([{"id": org, "name": "Ministère de la Transition écologique", "acronym": "MTE",
                "slug": "ministere-de-la-transition-ecologique", "image_url": null, "page": null}])
    );
}

#[tokio::test]
async fn users_are_suggested_by_slug_with_the_email_shown_as_udata_does() {
    let app = TestApp::new().await;
    let user = app.user("jeanne@example.org").await;
    let r = app.get("/api/1/users/suggest/?q=ad", None).await;
    assert_eq!(values(&r, "slug"), ["ad-min"]);
    assert_eq!(r.json()[0]["email"], "***@example.org");
    let r = app
        .get("/api/1/users/suggest/?q=min", Some(&app.admin_key))
        .await;
    assert_eq!(r.json()[0]["email"], "admin@example.org");
    let keys: Vec<String> = r.json()[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "avatar_url",
            "email",
            "first_name",
            "id",
            "last_name",
            "slug"
        ]
    );
    // Users see their own address.
    let r = app
        .get("/api/1/users/suggest/?q=last", Some(&user.key))
        .await;
    assert_eq!(values(&r, "email"), ["jeanne@example.org"]);
}

#[tokio::test]
async fn masks_apply_to_modelled_suggestions_only() {
    let app = TestApp::new().await;
    dataset(&app, json!({"title": "Budget", "tags": ["budget"]})).await;
    let masked = |path: &'static str| {
        app.raw(
            axum::http::Method::GET,
            path,
            None,
            &[("X-Fields", "id")],
            Vec::new(),
        )
    };
    let r = masked("/api/1/datasets/suggest/?q=budget").await;
    assert_eq!(r.json()[0].as_object().unwrap().len(), 1, "{}", r.text());
    // udata answers these without a model: the mask does not apply.
    let r = masked("/api/1/tags/suggest/?q=budget").await;
    assert_eq!(r.json(), json!([{"text": "budget"}]));
    let r = masked("/api/1/datasets/suggest/formats/?q=csv").await;
    assert_eq!(r.json(), json!([{"text": "csv"}]));
}
