//! `X-Fields` masks on reads: udata's (flask-restx's) syntax, nesting, wildcard, the paginated
//! envelope, and its 400 answers.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::dataset_helpers::{created, path_of};
use crate::helpers::{TestApp, TestResponse, id_of};

async fn masked(app: &TestApp, path: &str, key: Option<&str>, mask: &str) -> TestResponse {
    app.raw(Method::GET, path, key, &[("X-Fields", mask)], Vec::new())
        .await
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// A public dataset with two remote resources: `(dataset id, its JSON)`.
async fn dataset_with_resources(app: &TestApp) -> (String, Value) {
    let ds = created(
        app,
        &app.admin_key,
        json!({"title": "Budget", "description": "d", "tags": ["budget"]}),
    )
    .await;
    let id = id_of(&ds);
    app.remote(&id, &app.admin_key, "first").await;
    app.remote(&id, &app.admin_key, "second").await;
    let full = app.get(&path_of(&id), None).await.json();
    (id, full)
}

#[tokio::test]
async fn a_mask_keeps_the_named_fields_and_nested_ones() {
    let app = TestApp::new().await;
    let (id, full) = dataset_with_resources(&app).await;
    let r = masked(&app, &path_of(&id), None, "id,title,resources{id,url}").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let resources: Vec<Value> = full["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({"id": r["id"], "url": r["url"]}))
        .collect();
    assert_eq!(
        r.json(),
        json!({"id": id, "title": "Budget", "resources": resources})
    );
    // Outer braces, spaces as separators, unknown names and stray characters: as flask-restx.
    for mask in ["{id,title}", "id title", "id,title,nope", "id,title,$%^"] {
        let r = masked(&app, &path_of(&id), None, mask).await;
        assert_eq!(keys(&r.json()), ["id", "title"], "{mask}");
    }
    // A nested mask on `null` gives `null`; on an object, its fields.
    let r = masked(
        &app,
        &path_of(&id),
        None,
        "organization{name},owner{id,nope}",
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"organization": null, "owner": {"id": full["owner"]["id"]}})
    );
    // `{}` keeps nothing; an empty header is no mask.
    let r = masked(&app, &path_of(&id), None, "{}").await;
    assert_eq!(r.json(), json!({}));
    let r = masked(&app, &path_of(&id), None, "  ").await;
    assert_eq!(r.json(), full);
}

#[tokio::test]
async fn a_wildcard_keeps_every_other_field() {
    let app = TestApp::new().await;
    let (id, full) = dataset_with_resources(&app).await;
    let r = masked(&app, &path_of(&id), None, "*").await;
    assert_eq!(r.json(), full);
    let r = masked(&app, &path_of(&id), None, "*,resources{id}").await;
    let body = r.json();
    assert_eq!(keys(&body), keys(&full));
    assert_eq!(keys(&body["resources"][0]), ["id"]);
    let r = masked(&app, &path_of(&id), None, "id,resources{*}").await;
    assert_eq!(r.json()["resources"], full["resources"]);
}

#[tokio::test]
async fn a_list_is_masked_on_its_envelope_as_udata_does() {
    let app = TestApp::new().await;
    let (id, _) = dataset_with_resources(&app).await;
    let r = masked(&app, "/api/1/datasets/", None, "data{id,title},total").await;
    assert_eq!(
        r.json(),
        json!({"data": [{"id": id, "title": "Budget"}], "total": 1})
    );
    // Dataset fields at the top of a page name nothing there.
    let r = masked(&app, "/api/1/datasets/", None, "id,title").await;
    assert_eq!(r.json(), json!({}));
    let r = masked(
        &app,
        "/api/1/datasets/?page_size=1",
        None,
        "data{resources{title}},next_page",
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"data": [{"resources": [{"title": "second"}, {"title": "first"}]}], "next_page": null})
    );
}

#[tokio::test]
async fn resources_organizations_and_me_are_masked() {
    let app = TestApp::new().await;
    let (id, full) = dataset_with_resources(&app).await;
    let rid = full["resources"][0]["id"].as_str().unwrap().to_string();
    let r = masked(
        &app,
        &format!("/api/1/datasets/{id}/resources/{rid}/"),
        None,
        "id,title",
    )
    .await;
    assert_eq!(r.json(), json!({"id": rid, "title": "second"}));

    let org = app.organization(&app.admin_key, "Acme Data").await;
    let r = masked(
        &app,
        &format!("/api/1/organizations/{org}/"),
        None,
        "name,members{role}",
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"name": "Acme Data", "members": [{"role": "admin"}]})
    );

    let r = masked(&app, "/api/1/me/", Some(&app.admin_key), "email,slug").await;
    assert_eq!(
        r.json(),
        json!({"email": "admin@example.org", "slug": "ad-min"})
    );
}

#[tokio::test]
async fn a_malformed_or_inconsistent_mask_is_400() {
    let app = TestApp::new().await;
    let (id, _) = dataset_with_resources(&app).await;
    for (mask, message) in [
        ("id,{", "Mask parse error: Unexpected opening bracket"),
        ("id}", "Mask parse error: Unexpected closing bracket"),
        ("{id", "Mask parse error: Missing closing bracket"),
        ("resources{id", "Mask parse error: Missing closing bracket"),
        (",id", "Mask parse error: Unexpected comma"),
        ("id,,title", "Mask parse error: Unexpected comma"),
        ("title{x}", "Mask error: Mask is inconsistent with model"),
        ("tags{x}", "Mask error: Mask is inconsistent with model"),
        ("id{}", "Mask error: Mask is inconsistent with model"),
    ] {
        let r = masked(&app, &path_of(&id), None, mask).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{mask}: {}", r.text());
        assert_eq!(r.json(), json!({"message": message}), "{mask}");
    }
    // A failed read answers as without a mask.
    let r = masked(&app, &path_of("nope"), None, "id,{").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = masked(&app, &path_of("nope"), None, "id").await;
    assert!(r.json()["message"].is_string());
}

#[tokio::test]
async fn masks_shape_reads_only() {
    let app = TestApp::new().await;
    let r = app
        .raw(
            Method::POST,
            "/api/1/datasets/",
            Some(&app.admin_key),
            &[("X-Fields", "id"), ("content-type", "application/json")],
            serde_json::to_vec(&json!({"title": "T", "description": "d"})).unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(r.json()["title"].is_string());
}
