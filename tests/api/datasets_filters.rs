//! Narrowing and ordering the dataset list (checklist items 32–35): filters by tag, format,
//! license, featured, owner and organization; sorting; full-text search. Items 53–54
//! (featured and badges endpoints) are out of scope.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, get_ok, list, sorted};
use crate::helpers::{TestApp, id_of};

/// Features a dataset through its operation (its endpoint, item 53, is out of scope here).
async fn set_featured(app: &TestApp, id: &str) {
    rudata::ops::datasets::set_featured(
        &app.state,
        &rudata::domain::activity::Actor::none(),
        id,
        true,
    )
    .await
    .unwrap();
}

/// Checklist item 32.
#[tokio::test]
async fn tag_filters_combine_as_and() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let tagged =
        |title: &str, tags: Value| json!({"title": title, "description": "d", "tags": tags});
    let one = id_of(
        &created(
            &app,
            &user.key,
            tagged("one", json!(["my-tag-shared", "my-tag-1"])),
        )
        .await,
    );
    let two = id_of(
        &created(
            &app,
            &user.key,
            tagged("two", json!(["my-tag-shared", "my-tag-2"])),
        )
        .await,
    );
    created(&app, &user.key, tagged("three", json!(["other"]))).await;
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?tag=my-tag-shared", None).await),
        sorted(vec![one.clone(), two.clone()])
    );
    assert_eq!(
        list(
            &app,
            "/api/1/datasets/?tag=my-tag-shared&tag=my-tag-1",
            None
        )
        .await,
        vec![one.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?tag=my-tag-2", None).await,
        vec![two]
    );
    assert!(
        list(&app, "/api/1/datasets/?tag=my-tag-1&tag=my-tag-2", None)
            .await
            .is_empty()
    );
    assert!(
        list(&app, "/api/1/datasets/?tag=unknown", None)
            .await
            .is_empty()
    );
}

/// Checklist item 32.
#[tokio::test]
async fn format_license_and_featured_filters_select_matching_datasets() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let plain = id_of(&app.dataset(&user.key, "plain").await);
    let with_format = id_of(&app.dataset(&user.key, "with format").await);
    let r = app
        .post(
            &format!("/api/1/datasets/{with_format}/resources/"),
            &user.key,
            json!({"title": "r", "filetype": "remote", "format": "My-Format",
                   "url": "https://example.com/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.remote(&plain, &user.key, "csv one").await;
    let licensed = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "licensed", "description": "d", "license": "cc-by"}),
        )
        .await,
    );
    let featured = id_of(&app.dataset(&user.key, "featured").await);
    set_featured(&app, &featured).await;
    assert_eq!(get_ok(&app, &featured, None).await["featured"], true);
    let all = vec![
        plain.clone(),
        with_format.clone(),
        licensed.clone(),
        featured.clone(),
    ];

    assert_eq!(
        list(&app, "/api/1/datasets/?format=my-format", None).await,
        vec![with_format.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?format=csv", None).await,
        vec![plain.clone()]
    );
    assert!(
        list(&app, "/api/1/datasets/?format=pdf", None)
            .await
            .is_empty()
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?license=cc-by", None).await,
        vec![licensed.clone()]
    );
    assert!(
        list(&app, "/api/1/datasets/?license=lov2", None)
            .await
            .is_empty()
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?featured=true", None).await,
        vec![featured.clone()]
    );
    let not_featured: Vec<String> = all.iter().filter(|i| **i != featured).cloned().collect();
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?featured=false", None).await),
        sorted(not_featured)
    );
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/", None).await),
        sorted(all)
    );
}

/// Checklist item 33.
#[tokio::test]
async fn owner_and_organization_filters_take_object_ids() {
    let app = TestApp::new().await;
    let alice = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let org = app.organization(&bob.key, "Bob's org").await;
    let alice_ds = id_of(&app.dataset(&alice.key, "alice's").await);
    let bob_ds = id_of(&app.dataset(&bob.key, "bob's").await);
    let org_ds = id_of(
        &created(
            &app,
            &bob.key,
            json!({"title": "org's", "description": "d", "organization": org}),
        )
        .await,
    );
    assert_eq!(
        list(&app, &format!("/api/1/datasets/?owner={}", alice.id), None).await,
        vec![alice_ds]
    );
    assert_eq!(
        list(&app, &format!("/api/1/datasets/?owner={}", bob.id), None).await,
        vec![bob_ds]
    );
    assert_eq!(
        list(&app, &format!("/api/1/datasets/?organization={org}"), None).await,
        vec![org_ds]
    );
    assert!(
        list(
            &app,
            "/api/1/datasets/?organization=000000000000000000000000",
            None
        )
        .await
        .is_empty()
    );
    // Not ObjectIds.
    let r = app.get("/api/1/datasets/?owner=owner-id", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["message"], "Owner arg must be an identifier");
    let r = app.get("/api/1/datasets/?organization=org-id", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        "Organization arg must be an identifier"
    );
}

/// Checklist item 34.
#[tokio::test]
async fn sort_by_creation_defaults_to_newest_first() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let first = id_of(&app.dataset(&user.key, "b first").await);
    let second = id_of(&app.dataset(&user.key, "c second").await);
    let third = id_of(&app.dataset(&user.key, "a third").await);
    let oldest_first = vec![first.clone(), second.clone(), third.clone()];
    let newest_first = vec![third, second, first];
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=created", None).await,
        oldest_first
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=-created", None).await,
        newest_first
    );
    // `-created` is the default.
    assert_eq!(list(&app, "/api/1/datasets/", None).await, newest_first);
    // An unknown sort key is a parser error.
    let r = app.get("/api/1/datasets/?sort=nope", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let body = r.json();
    assert!(body["errors"]["sort"].is_string(), "{body}");
    assert_eq!(body["message"], "Input payload validation failed");
}

/// Checklist item 34.
#[tokio::test]
async fn sort_by_last_update_follows_resource_changes() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let older = id_of(&app.dataset(&user.key, "older").await);
    let newer = id_of(&app.dataset(&user.key, "newer").await);
    // A resource added to the older dataset makes it the most recently updated.
    app.remote(&older, &user.key, "fresh").await;
    let a = get_ok(&app, &older, None).await;
    let b = get_ok(&app, &newer, None).await;
    assert!(
        a["last_update"].as_str().unwrap() > b["last_update"].as_str().unwrap(),
        "{} vs {}",
        a["last_update"],
        b["last_update"]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=-last_update", None).await,
        vec![older.clone(), newer.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=last_update", None).await,
        vec![newer.clone(), older.clone()]
    );
    // The creation order is the other way round.
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=-created", None).await,
        vec![newer, older]
    );
}

/// Checklist item 34.
#[tokio::test]
async fn sort_by_title_both_ways() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let b = id_of(&app.dataset(&user.key, "Bravo").await);
    let a = id_of(&app.dataset(&user.key, "Alpha").await);
    let c = id_of(&app.dataset(&user.key, "Charlie").await);
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=title", None).await,
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=-title", None).await,
        vec![c, b, a]
    );
}

/// Checklist item 35.
#[tokio::test]
async fn search_is_accent_insensitive_and_every_word_must_match() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    app.dataset(&user.key, "Unrelated one").await;
    app.dataset(&user.key, "Unrelated two").await;
    let integer = id_of(&app.dataset(&user.key, "some spécial integer").await);
    let float = id_of(&app.dataset(&user.key, "some spécial float").await);
    let chars = id_of(&app.dataset(&user.key, "some spécial chars").await);
    let three = sorted(vec![integer.clone(), float, chars.clone()]);
    assert_eq!(
        list(&app, "/api/1/datasets/?q=some%20sp%C3%A9cial%20chars", None).await,
        vec![chars.clone()]
    );
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?q=sp%C3%A9cial", None).await),
        three
    );
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?q=special", None).await),
        three
    );
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?q=SPECIAL", None).await),
        three
    );
    // Every word must match.
    assert_eq!(
        list(&app, "/api/1/datasets/?q=special+integer", None).await,
        vec![integer]
    );
    assert!(
        list(&app, "/api/1/datasets/?q=special+unrelated", None)
            .await
            .is_empty()
    );
    // The acronym is searched too.
    let acronym = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "Base adresse", "acronym": "BAN", "description": "d"}),
        )
        .await,
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?q=ban", None).await,
        vec![acronym]
    );
    // Searching applies the visibility rule.
    created(
        &app,
        &user.key,
        json!({"title": "special private", "description": "d", "private": true}),
    )
    .await;
    assert_eq!(
        list(&app, "/api/1/datasets/?q=special+private", None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?q=special+private", Some(&user.key))
            .await
            .len(),
        1
    );
}
