//! Reading one dataset (checklist items 25–29): its representation, who may read deleted,
//! private and archived datasets, and lookup by id, slug and old slug (redirects).

use axum::http::StatusCode;
use serde_json::json;

use crate::dataset_helpers::{created, get_ok, list, path_of, put_ok, resource_ids, soft_delete};
use crate::helpers::{TestApp, id_of};

const NOT_FOUND: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

/// Checklist item 25.
#[tokio::test]
async fn read_shows_resources_quality_internal_dates_and_permissions() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = app.dataset(&user.key, "Detailed").await;
    let id = id_of(&ds);
    let res = app.remote(&id, &user.key, "A remote file").await;
    let read = get_ok(&app, &id, None).await;
    assert_eq!(read["id"], id.as_str());
    assert_eq!(resource_ids(&read), vec![id_of(&res)]);
    assert_eq!(read["resources"][0]["title"], "A remote file");
    assert!(read["quality"].is_object(), "{read}");
    assert_eq!(read["quality"]["has_resources"], true);
    let internal = &read["internal"];
    for key in ["created_at_internal", "last_modified_internal"] {
        let value = internal[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {read}"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(value).is_ok(),
            "{key}: {value}"
        );
    }
    assert_eq!(read["internal"]["created_at_internal"], read["created_at"]);
    assert_eq!(
        read["internal"]["last_modified_internal"],
        read["last_modified"]
    );
    // Anonymous callers have no rights; the owner has them all.
    assert_eq!(
        read["permissions"],
        json!({"delete": false, "edit": false, "edit_resources": false})
    );
    assert_eq!(
        get_ok(&app, &id, Some(&user.key)).await["permissions"],
        json!({"delete": true, "edit": true, "edit_resources": true})
    );
}

/// Checklist item 26.
#[tokio::test]
async fn deleted_dataset_is_gone_for_others_but_readable_by_owner() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let id = id_of(&app.dataset(&user.key, "To delete").await);
    soft_delete(&app, &id, &user.key).await;
    for key in [None, Some(bob.key.as_str())] {
        let r = app.get(&path_of(&id), key).await;
        assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
        assert_eq!(r.json(), json!({"message": "Dataset has been deleted"}));
    }
    let read = get_ok(&app, &id, Some(&user.key)).await;
    assert!(read["deleted"].is_string(), "{read}");
    get_ok(&app, &id, Some(&app.admin_key)).await;
}

/// Checklist item 26.
#[tokio::test]
async fn deleted_organization_dataset_is_readable_by_members() {
    let app = TestApp::new().await;
    let admin = app.user("boss@example.org").await;
    let editor = app.user("editor@example.org").await;
    let org = app.organization(&admin.key, "My Org").await;
    app.add_member(&org, &editor, "editor").await;
    let id = id_of(
        &created(
            &app,
            &admin.key,
            json!({"title": "Org data", "description": "d", "organization": org}),
        )
        .await,
    );
    soft_delete(&app, &id, &admin.key).await;
    assert_eq!(app.get(&path_of(&id), None).await.status, StatusCode::GONE);
    get_ok(&app, &id, Some(&editor.key)).await;
}

/// Checklist item 27.
#[tokio::test]
async fn private_dataset_is_not_found_for_others_but_readable_by_owner() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let ds = created(
        &app,
        &user.key,
        json!({"title": "Secret", "description": "d", "private": true}),
    )
    .await;
    assert_eq!(ds["private"], true);
    let id = id_of(&ds);
    for key in [None, Some(bob.key.as_str())] {
        let r = app.get(&path_of(&id), key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
        assert_eq!(r.json()["message"], NOT_FOUND);
    }
    // Also by slug.
    assert_eq!(
        app.get("/api/1/datasets/secret/", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get_ok(&app, &id, Some(&user.key)).await["private"], true);
    get_ok(&app, &id, Some(&app.admin_key)).await;
    // Private and deleted: still 404 (not 410) for others.
    soft_delete(&app, &id, &user.key).await;
    assert_eq!(
        app.get(&path_of(&id), None).await.status,
        StatusCode::NOT_FOUND
    );
    get_ok(&app, &id, Some(&user.key)).await;
}

/// Checklist item 28.
#[tokio::test]
async fn archived_dataset_is_readable_but_not_listed_or_searchable() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let archived = id_of(&app.dataset(&user.key, "Zebra archive").await);
    let live = id_of(&app.dataset(&user.key, "Zebra live").await);
    put_ok(
        &app,
        &archived,
        &user.key,
        json!({"archived": "2024-01-01T00:00:00+00:00"}),
    )
    .await;
    let read = get_ok(&app, &archived, None).await;
    assert_eq!(read["archived"], "2024-01-01T00:00:00+00:00");
    assert_eq!(
        list(&app, "/api/1/datasets/?q=zebra", None).await,
        vec![live.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?q=archive", None).await,
        Vec::<String>::new()
    );
    assert_eq!(list(&app, "/api/1/datasets/", None).await, vec![live]);
    // Unarchiving brings it back.
    put_ok(&app, &archived, &user.key, json!({"archived": null})).await;
    assert_eq!(
        list(&app, "/api/1/datasets/?q=archive", None).await,
        vec![archived]
    );
}

/// Checklist item 29.
#[tokio::test]
async fn lookup_by_id_or_slug_and_old_slug_redirects() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = app
        .get("/api/1/datasets/000000000000000000000000/", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({"message": NOT_FOUND}));
    assert_eq!(
        app.get("/api/1/datasets/no-such-slug/", None).await.status,
        StatusCode::NOT_FOUND
    );
    let ds = app.dataset(&user.key, "First name").await;
    let id = id_of(&ds);
    assert_eq!(ds["slug"], "first-name");
    assert_eq!(get_ok(&app, "first-name", None).await["id"], id.as_str());
    // Without the trailing slash too (rudata answers both directly).
    let r = app.get("/api/1/datasets/first-name", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], id.as_str());
    // A new title renames the slug; the old one redirects.
    let renamed = put_ok(&app, &id, &user.key, json!({"title": "Second name"})).await;
    assert_eq!(renamed["slug"], "second-name");
    let r = app.get("/api/1/datasets/first-name/", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/1/datasets/second-name/")
    );
    let r = app.get("/api/1/datasets/first-name", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/1/datasets/second-name/")
    );
    assert_eq!(get_ok(&app, "second-name", None).await["id"], id.as_str());
    // An old slug equal to a path segment of the prefix only replaces the key segment.
    let api = id_of(&app.dataset(&user.key, "API").await);
    put_ok(&app, &api, &user.key, json!({"title": "Renamed API"})).await;
    let r = app.get("/api/1/datasets/api/", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/1/datasets/renamed-api/")
    );
}
