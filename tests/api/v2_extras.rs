//! API v2 extras of datasets and resources: merge and removal, udata's order of checks (404, 401,
//! body, 410, 403, resource, reserved keys, values) and messages, and what the writes leave alone.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::dataset_helpers::{created, get_ok, put_ok, soft_delete};
use crate::helpers::{TestApp, id_of};
use crate::v2_helpers::{assert_message, dataset_with, ids, inline_resources, send_raw};

const NOT_FOUND: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
const JSON: &str = "application/json";

#[tokio::test]
async fn dataset_extras_merge_remove_and_leave_the_dates_alone() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let ds = created(
        &app,
        &owner.key,
        json!({"title": "Extras", "description": "d", "extras": {"keep": 1, "drop": 2}}),
    )
    .await;
    let id = id_of(&ds);
    let path = format!("/api/2/datasets/{id}/extras/");
    let r = app.get(&path, None).await;
    assert_eq!(r.json(), json!({"keep": 1, "drop": 2}));

    let r = app
        .put(
            &path,
            &owner.key,
            json!({"drop": null, "absent": null, "new": {"x": [1, 2]}, "check:status": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let expected = json!({"keep": 1, "new": {"x": [1, 2]}, "check:status": 3});
    assert_eq!(r.json(), expected);
    let slashless = format!("/api/2/datasets/{id}/extras");
    assert_eq!(app.get(&slashless, None).await.json(), expected);
    let v1 = get_ok(&app, &id, None).await;
    assert_eq!(v1["extras"], expected);
    // As in udata, extras are no change of the dataset's dates.
    assert_eq!(v1["last_modified"], ds["last_modified"]);
    assert_eq!(v1["last_update"], ds["last_update"]);

    // DELETE: absent keys are skipped; 204 without a body.
    let r = send_raw(
        &app,
        Method::DELETE,
        &slashless,
        Some(&owner.key),
        JSON,
        r#"["keep", "nope"]"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(r.body.is_empty());
    assert_eq!(
        app.get(&path, None).await.json(),
        json!({"new": {"x": [1, 2]}, "check:status": 3})
    );
    // Any media type ending in +json is JSON.
    let r = send_raw(
        &app,
        Method::PUT,
        &path,
        Some(&owner.key),
        "application/merge-patch+json; charset=utf-8",
        r#"{"a": 1}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn dataset_extras_checks_come_in_udata_order() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let stranger = app.user("bob@example.org").await;
    let id = id_of(&app.dataset(&owner.key, "Checked").await);
    let path = format!("/api/2/datasets/{id}/extras/");

    // An unknown dataset is 404 before anything, even for anonymous callers.
    let r = app
        .put(
            "/api/2/datasets/000000000000000000000000/extras/",
            &owner.key,
            json!({}),
        )
        .await;
    assert_message(&r, StatusCode::NOT_FOUND, NOT_FOUND);
    let r = send_raw(
        &app,
        Method::PUT,
        "/api/2/datasets/unknown/extras/",
        None,
        JSON,
        "{",
    )
    .await;
    assert_message(&r, StatusCode::NOT_FOUND, NOT_FOUND);
    // Then authentication, before the body.
    let r = send_raw(&app, Method::PUT, &path, None, JSON, "{").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    // Then the body: JSON media type, valid JSON, an object (a list for DELETE).
    let key = Some(stranger.key.as_str());
    for (method, content_type, body, status, message) in [
        (
            Method::PUT,
            "text/plain",
            r#"{"a":1}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
        ),
        (
            Method::PUT,
            "",
            r#"{"a":1}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
        ),
        (
            Method::PUT,
            JSON,
            "{bad json",
            StatusCode::BAD_REQUEST,
            "The browser (or proxy) sent a request that this server could not understand.",
        ),
        (
            Method::PUT,
            JSON,
            "",
            StatusCode::BAD_REQUEST,
            "The browser (or proxy) sent a request that this server could not understand.",
        ),
        (
            Method::PUT,
            JSON,
            "[1]",
            StatusCode::BAD_REQUEST,
            "Wrong payload format, dict expected",
        ),
        (
            Method::PUT,
            JSON,
            "null",
            StatusCode::BAD_REQUEST,
            "Wrong payload format, dict expected",
        ),
        (
            Method::DELETE,
            JSON,
            r#"{"a":1}"#,
            StatusCode::BAD_REQUEST,
            "Wrong payload format, list expected",
        ),
        (
            Method::DELETE,
            JSON,
            r#"[1, "a"]"#,
            StatusCode::BAD_REQUEST,
            "Wrong payload format, extras keys must be strings",
        ),
    ] {
        let r = send_raw(&app, method.clone(), &path, key, content_type, body).await;
        assert_message(&r, status, message);
    }
    // Then the permission.
    let r = app.put(&path, &stranger.key, json!({"a": 1})).await;
    assert_message(
        &r,
        StatusCode::FORBIDDEN,
        "You do not have the permission to modify that object.",
    );
    let r = send_raw(&app, Method::DELETE, &path, key, JSON, r#"["a"]"#).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // A deleted dataset: 410 after the body, before the permission.
    soft_delete(&app, &id, &owner.key).await;
    let r = app.put(&path, &stranger.key, json!([1])).await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Wrong payload format, dict expected",
    );
    for key in [&stranger.key, &owner.key, &app.admin_key] {
        let r = app.put(&path, key, json!({"a": 1})).await;
        assert_message(&r, StatusCode::GONE, "Dataset has been deleted");
        let r = send_raw(&app, Method::DELETE, &path, Some(key), JSON, r#"["a"]"#).await;
        assert_message(&r, StatusCode::GONE, "Dataset has been deleted");
    }
    let r = app.get(&path, None).await;
    assert_message(&r, StatusCode::GONE, "Dataset has been deleted");
}

#[tokio::test]
async fn dataset_extras_readers_writers_and_old_slugs() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let stranger = app.user("bob@example.org").await;
    let editor = app.user("carol@example.org").await;
    let org = app.organization(&owner.key, "Org").await;
    app.add_member(&org, &editor, "editor").await;
    let private = created(
        &app,
        &owner.key,
        json!({"title": "Private", "description": "d", "private": true, "organization": org}),
    )
    .await;
    let path = format!("/api/2/datasets/{}/extras/", id_of(&private));
    for key in [None, Some(stranger.key.as_str())] {
        assert_message(&app.get(&path, key).await, StatusCode::NOT_FOUND, NOT_FOUND);
    }
    // Writes find the dataset (no read rule), then check the permission.
    assert_eq!(
        app.put(&path, &stranger.key, json!({"a": 1})).await.status,
        StatusCode::FORBIDDEN
    );
    for key in [&editor.key, &app.admin_key] {
        let r = app.put(&path, key, json!({"a": 1})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    assert_eq!(
        app.get(&path, Some(&editor.key)).await.json(),
        json!({"a": 1})
    );
    // An old slug answers 308 to the new one, for writes too (method and body kept).
    let id = id_of(&app.dataset(&owner.key, "Old name").await);
    put_ok(&app, &id, &owner.key, json!({"title": "New name"})).await;
    let r = app
        .put(
            "/api/2/datasets/old-name/extras",
            &owner.key,
            json!({"a": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/2/datasets/new-name/extras/")
    );
}

#[tokio::test]
async fn reserved_and_typed_dataset_extras() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&owner.key, "Reserved").await);
    let path = format!("/api/2/datasets/{id}/extras/");
    // Reserved keys on datasets (transport, recommendations, DCAT), named in the request's order.
    let body = r#"{"transport:url": "https://example.com", "mine": 1, "dcat": 1, "recommendations-x": 2, "check:available": false}"#;
    let r = send_raw(&app, Method::PUT, &path, Some(&owner.key), JSON, body).await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Extras keys reserved to platform services: transport:url, dcat, recommendations-x",
    );
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&owner.key),
        JSON,
        r#"["dcat", "transport:x"]"#,
    )
    .await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Extras keys reserved to platform services: dcat, transport:x",
    );
    assert_eq!(app.get(&path, None).await.json(), json!({}));
    // A sysadmin writes them; the values of typed keys are checked.
    let r = send_raw(&app, Method::PUT, &path, Some(&app.admin_key), JSON, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .put(
            &path,
            &owner.key,
            json!({"datafairOrigin": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({
            "errors": {"extras": {"datafairOrigin": "Invalid URL \"javascript:alert(1)\""}},
            "message": format!("ValidationError (Dataset:{id}) (datafairOrigin.Invalid URL \"javascript:alert(1)\": ['extras'])"),
        })
    );
    let r = app
        .put(&path, &owner.key, json!({"n": {"$where": 1}}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["errors"],
        json!({"extras": "Invalid dictionary key name - keys may not startswith \"$\" characters"})
    );
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&app.admin_key),
        JSON,
        r#"["dcat", "transport:url"]"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        app.get(&path, None).await.json(),
        json!({"mine": 1, "recommendations-x": 2, "check:available": false})
    );
}

#[tokio::test]
async fn resource_extras_are_the_resource_s_own_and_touch_nothing_else() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let ds = dataset_with(&app, &owner.key, "Resources", inline_resources(3)).await;
    let id = id_of(&ds);
    let rid = ids(&ds)[1].clone();
    let path = format!("/api/2/datasets/{id}/resources/{rid}/extras/");
    assert_eq!(app.get(&path, None).await.json(), json!({}));
    let r = app
        .put(&path, &owner.key, json!({"a": 1, "b": [2], "n": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"a": 1, "b": [2]}));
    let r = app
        .put(
            path.trim_end_matches('/'),
            &owner.key,
            json!({"b": null, "c": "x"}),
        )
        .await;
    assert_eq!(r.json(), json!({"a": 1, "c": "x"}));
    assert_eq!(app.get(&path, None).await.json(), json!({"a": 1, "c": "x"}));

    // Only this resource changed: the others and every date stay as they were.
    let read = get_ok(&app, &id, None).await;
    assert_eq!(read["resources"][1]["extras"], json!({"a": 1, "c": "x"}));
    for i in [0, 2] {
        assert_eq!(read["resources"][i], ds["resources"][i]);
    }
    for key in ["last_modified", "last_update"] {
        assert_eq!(read[key], ds[key], "{key}");
        assert_eq!(read["resources"][1][key], ds["resources"][1][key], "{key}");
    }

    // DELETE: every key must exist, or nothing is removed (404).
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&owner.key),
        JSON,
        r#"["a", "nope"]"#,
    )
    .await;
    assert_message(
        &r,
        StatusCode::NOT_FOUND,
        "Key not found in existing extras",
    );
    assert_eq!(app.get(&path, None).await.json(), json!({"a": 1, "c": "x"}));
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&owner.key),
        JSON,
        r#"["a"]"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(r.body.is_empty());
    assert_eq!(app.get(&path, None).await.json(), json!({"c": "x"}));
}

#[tokio::test]
async fn check_and_analysis_keys_are_reserved_to_sysadmins() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let ds = dataset_with(&app, &owner.key, "Checks", inline_resources(1)).await;
    let path = format!(
        "/api/2/datasets/{}/resources/{}/extras/",
        id_of(&ds),
        ids(&ds)[0]
    );
    let body = r#"{"mine": 1, "check:available": false, "analysis:x": 1, "csv-export:model": 1, "validation-report:x": 1, "dcat": 1, "transport:url": "x"}"#;
    let r = send_raw(&app, Method::PUT, &path, Some(&owner.key), JSON, body).await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Extras keys reserved to platform services: check:available, analysis:x, csv-export:model, validation-report:x, dcat",
    );
    assert_eq!(app.get(&path, None).await.json(), json!({}));
    // The platform (a sysadmin) writes its check results; their values are typed.
    let r = app
        .put(&path, &app.admin_key, json!({"check:available": false, "check:status": 404, "check:date": "2024-01-01T00:00:00"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&owner.key),
        JSON,
        r#"["check:status"]"#,
    )
    .await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Extras keys reserved to platform services: check:status",
    );
    let r = app
        .put(
            &path,
            &app.admin_key,
            json!({"check:available": "yes", "check:status": "x", "apidocUrl": "nope"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({
            "errors": {"apidocUrl": "Invalid URL \"nope\"", "check:available": "BooleanField only accepts boolean values",
                       "check:status": "x could not be converted to int"},
            "message": "Unsupported types(Invalid URL \"nope\": ['apidocUrl'] BooleanField only accepts boolean values: ['check:available'] x could not be converted to int: ['check:status'])",
        })
    );
    // Owners write the unreserved typed keys, checked too.
    let r = app
        .put(
            &path,
            &owner.key,
            json!({"apidocUrl": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(
        r.json()["errors"],
        json!({"apidocUrl": "Invalid URL \"javascript:alert(1)\""})
    );
    let r = app.put(&path, &owner.key, json!({"$x": 1})).await;
    assert_eq!(
        r.json(),
        json!({"errors": {}, "message": "Invalid dictionary key name - keys may not startswith \"$\" characters"})
    );
    let r = app
        .put(
            &path,
            &owner.key,
            json!({"apidocUrl": "https://example.com/doc"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = send_raw(
        &app,
        Method::DELETE,
        &path,
        Some(&app.admin_key),
        JSON,
        r#"["check:status", "apidocUrl"]"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        app.get(&path, None).await.json(),
        json!({"check:available": false, "check:date": "2024-01-01T00:00:00"})
    );
}

#[tokio::test]
async fn resource_extras_errors_in_udata_order() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let stranger = app.user("bob@example.org").await;
    let ds = dataset_with(&app, &owner.key, "Errors", inline_resources(1)).await;
    let other = dataset_with(&app, &owner.key, "Other", inline_resources(1)).await;
    let id = id_of(&ds);
    let rid = ids(&ds)[0].clone();
    let path = format!("/api/2/datasets/{id}/resources/{rid}/extras/");
    let unknown =
        format!("/api/2/datasets/{id}/resources/00000000-0000-0000-0000-000000000000/extras/");
    let foreign = format!("/api/2/datasets/{id}/resources/{}/extras/", ids(&other)[0]);
    // A malformed id matches no route: 404 first.
    let r = app
        .put(
            &format!("/api/2/datasets/{id}/resources/nope/extras/"),
            &owner.key,
            json!({}),
        )
        .await;
    assert_message(&r, StatusCode::NOT_FOUND, NOT_FOUND);
    let r = app
        .get(
            &format!("/api/2/datasets/{id}/resources/nope/extras/"),
            None,
        )
        .await;
    assert_message(&r, StatusCode::NOT_FOUND, NOT_FOUND);
    let r = send_raw(&app, Method::PUT, &unknown, None, JSON, "{}").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    let r = app.put(&unknown, &owner.key, json!([1])).await;
    assert_message(
        &r,
        StatusCode::BAD_REQUEST,
        "Wrong payload format, dict expected",
    );
    // The permission is checked before the resource is looked for.
    let r = app.put(&unknown, &stranger.key, json!({"a": 1})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    for p in [&unknown, &foreign] {
        let r = app.put(p, &owner.key, json!({"a": 1})).await;
        assert_message(&r, StatusCode::NOT_FOUND, "Resource does not exist");
        let r = app.get(p, None).await;
        assert_message(&r, StatusCode::NOT_FOUND, "Resource does not exist");
    }
    // Unknown resource before reserved keys.
    let r = app.put(&unknown, &owner.key, json!({"check:x": 1})).await;
    assert_message(&r, StatusCode::NOT_FOUND, "Resource does not exist");
    // A deleted dataset.
    soft_delete(&app, &id, &owner.key).await;
    let r = app.put(&path, &owner.key, json!({"a": 1})).await;
    assert_message(&r, StatusCode::GONE, "Dataset has been deleted");
    let r = app.get(&path, None).await;
    assert_message(&r, StatusCode::GONE, "Dataset has been deleted");
    assert_eq!(app.get(&path, Some(&owner.key)).await.json(), json!({}));
}
