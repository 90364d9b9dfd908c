//! API v2 reads: a dataset with its resources as a link, and a resource found by its id alone, under
//! the dataset's read rule (404 private, 410 deleted, 308 renamed).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, get_ok, put_ok, soft_delete};
use crate::helpers::{TestApp, id_of};
use crate::v2_helpers::{assert_message, dataset_with, ids, inline_resources};

const NOT_FOUND: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

#[tokio::test]
async fn a_v2_dataset_links_its_resources_and_keeps_the_v1_fields() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let org = app.organization(&user.key, "Org").await;
    let ds = created(
        &app,
        &user.key,
        json!({"title": "Linked", "description": "d", "organization": org,
               "resources": inline_resources(3), "tags": ["abc"], "extras": {"k": 1}}),
    )
    .await;
    let id = id_of(&ds);
    let v1 = get_ok(&app, &id, Some(&user.key)).await;
    for path in [
        format!("/api/2/datasets/{id}/"),
        format!("/api/2/datasets/{id}"),
        "/api/2/datasets/linked/".to_string(),
    ] {
        let r = app.get(&path, Some(&user.key)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        // udata's v2 order: `id` first, `permissions` last.
        assert!(r.text().starts_with("{\"id\":"), "{}", r.text());
        let v2 = r.json();
        assert_eq!(
            v2["resources"],
            json!({"rel": "subsection", "type": "GET", "total": 3,
                   "href": format!("http://rudata.test/api/2/datasets/{id}/resources/?page=1&page_size=50")})
        );
        assert_eq!(
            v2["community_resources"],
            json!({"rel": "subsection", "type": "GET", "total": 0,
                   "href": format!("http://rudata.test/api/1/datasets/community_resources/?dataset={id}&page=1&page_size=50")})
        );
        let (v1, v2) = (v1.as_object().unwrap(), v2.as_object().unwrap());
        for (k, value) in v1 {
            match k.as_str() {
                "resources" => {}
                "schema" => assert!(!v2.contains_key("schema")),
                _ => assert_eq!(v2.get(k), Some(value), "{k}"),
            }
        }
        assert_eq!(v2.len(), v1.len(), "{:?}", v2.keys());
    }
    assert_eq!(
        app.get(&format!("/api/2/datasets/{id}/"), None)
            .await
            .json()["permissions"],
        json!({"delete": false, "edit": false, "edit_resources": false})
    );
}

#[tokio::test]
async fn a_v2_dataset_follows_the_read_rule() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let stranger = app.user("bob@example.org").await;
    let private = id_of(
        &created(
            &app,
            &owner.key,
            json!({"title": "Hidden", "description": "d", "private": true}),
        )
        .await,
    );
    let deleted = id_of(&app.dataset(&owner.key, "Gone").await);
    soft_delete(&app, &deleted, &owner.key).await;
    for path in [
        format!("/api/2/datasets/{private}/"),
        format!("/api/2/datasets/{private}/resources/"),
    ] {
        for key in [None, Some(stranger.key.as_str())] {
            assert_message(&app.get(&path, key).await, StatusCode::NOT_FOUND, NOT_FOUND);
        }
        assert_eq!(
            app.get(&path, Some(&owner.key)).await.status,
            StatusCode::OK
        );
    }
    for path in [
        format!("/api/2/datasets/{deleted}/"),
        format!("/api/2/datasets/{deleted}/resources/"),
    ] {
        for key in [None, Some(stranger.key.as_str())] {
            let r = app.get(&path, key).await;
            assert_message(&r, StatusCode::GONE, "Dataset has been deleted");
        }
        assert_eq!(
            app.get(&path, Some(&owner.key)).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.get(&path, Some(&app.admin_key)).await.status,
            StatusCode::OK
        );
    }
    for path in [
        "/api/2/datasets/unknown/",
        "/api/2/datasets/000000000000000000000000",
    ] {
        assert_message(&app.get(path, None).await, StatusCode::NOT_FOUND, NOT_FOUND);
    }
    // A renamed dataset: its old slug redirects, on the resource pages too (query kept).
    let id = id_of(&app.dataset(&owner.key, "First name").await);
    put_ok(&app, &id, &owner.key, json!({"title": "Second name"})).await;
    for (old, new) in [
        (
            "/api/2/datasets/first-name/",
            "/api/2/datasets/second-name/",
        ),
        ("/api/2/datasets/first-name", "/api/2/datasets/second-name/"),
        (
            "/api/2/datasets/first-name/resources/?page=2",
            "/api/2/datasets/second-name/resources/?page=2",
        ),
    ] {
        let r = app.get(old, None).await;
        assert_eq!(
            r.status,
            StatusCode::PERMANENT_REDIRECT,
            "{old}: {}",
            r.text()
        );
        assert_eq!(r.header("location").as_deref(), Some(new));
    }
}

#[tokio::test]
async fn a_resource_is_found_by_its_id_alone() {
    let app = TestApp::new().await;
    let owner = app.user("alice@example.org").await;
    let stranger = app.user("bob@example.org").await;
    let ds = dataset_with(&app, &owner.key, "Public", inline_resources(2)).await;
    let id = id_of(&ds);
    let rid = ids(&ds)[1].clone();
    let v1 = app
        .get(&format!("/api/1/datasets/{id}/resources/{rid}/"), None)
        .await
        .json();
    for path in [
        format!("/api/2/datasets/resources/{rid}/"),
        format!("/api/2/datasets/resources/{rid}"),
        format!("/api/2/datasets/resources/{}/", rid.to_uppercase()),
    ] {
        let r = app.get(&path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        assert_eq!(r.json(), json!({"resource": v1, "dataset_id": id}));
    }
    let missing = "/api/2/datasets/resources/00000000-0000-0000-0000-000000000000/";
    assert_message(
        &app.get(missing, None).await,
        StatusCode::NOT_FOUND,
        "Resource does not exist",
    );
    let malformed = "/api/2/datasets/resources/not-a-uuid/";
    assert_message(
        &app.get(malformed, None).await,
        StatusCode::NOT_FOUND,
        NOT_FOUND,
    );

    // Under the dataset's read rule.
    let private = dataset_with(&app, &owner.key, "Private", inline_resources(1)).await;
    put_ok(&app, &id_of(&private), &owner.key, json!({"private": true})).await;
    let path = format!("/api/2/datasets/resources/{}/", ids(&private)[0]);
    for key in [None, Some(stranger.key.as_str())] {
        assert_message(&app.get(&path, key).await, StatusCode::NOT_FOUND, NOT_FOUND);
    }
    let r = app.get(&path, Some(&owner.key)).await;
    assert_eq!(r.json()["dataset_id"], private["id"]);
    let deleted = dataset_with(&app, &owner.key, "Deleted", inline_resources(1)).await;
    soft_delete(&app, &id_of(&deleted), &owner.key).await;
    let path = format!("/api/2/datasets/resources/{}/", ids(&deleted)[0]);
    let r = app.get(&path, None).await;
    assert_message(&r, StatusCode::GONE, "Dataset has been deleted");
    let r = app.get(&path, Some(&owner.key)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json()["resource"]["id"],
        Value::String(ids(&deleted)[0].clone())
    );
}
