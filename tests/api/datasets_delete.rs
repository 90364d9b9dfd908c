//! Deleting datasets (checklist items 51–52; DESIGN §3.3): soft delete, restore with
//! `deleted: null`, and the purge job that removes deleted datasets and all their files.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, get_ok, list, path_of, put_ok, soft_delete, total_datasets};
use crate::helpers::{TestApp, id_of};
use crate::resource_helpers::{owner_with_dataset, upload_aaa};

/// Checklist item 51.
#[tokio::test]
async fn delete_is_soft_and_hides_the_dataset_from_others() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    app.remote(&id, &user.key, "kept").await;
    assert_eq!(
        list(&app, "/api/1/datasets/", Some(&bob.key)).await,
        vec![id.clone()]
    );
    // Unauthenticated: 401; a stranger: 403.
    let r = app
        .request(axum::http::Method::DELETE, &path_of(&id), None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.delete(&path_of(&id), &bob.key).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json(),
        json!({"message": "You do not have the permission to modify that object."})
    );

    let r = app.delete(&path_of(&id), &user.key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    // Still there for its owner, with `deleted` set and its resources.
    let read = get_ok(&app, &id, Some(&user.key)).await;
    let deleted = read["deleted"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(deleted).is_ok(),
        "{deleted}"
    );
    assert_eq!(read["resources"].as_array().unwrap().len(), 1);
    assert_eq!(total_datasets(&app).await, 1);
    // Gone from the others' lists.
    assert!(
        list(&app, "/api/1/datasets/", Some(&bob.key))
            .await
            .is_empty()
    );
    assert!(list(&app, "/api/1/datasets/", None).await.is_empty());
    // A second DELETE: 410 (before permissions).
    for key in [&user.key, &bob.key] {
        let r = app.delete(&path_of(&id), key).await;
        assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
        assert_eq!(r.json(), json!({"message": "Dataset has been deleted"}));
    }
    // Without the trailing slash as well (DESIGN §3.6).
    let id2 = id_of(&app.dataset(&user.key, "t2").await);
    let r = app
        .delete(&format!("/api/1/datasets/{id2}"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path_of(&id2), None).await.status, StatusCode::GONE);
}

/// Checklist item 51.
#[tokio::test]
async fn organization_members_and_sysadmin_may_delete() {
    let app = TestApp::new().await;
    let boss = app.user("boss@example.org").await;
    let editor = app.user("editor@example.org").await;
    let org = app.organization(&boss.key, "Org").await;
    app.add_member(&org, &editor, "editor").await;
    let body = json!({"title": "t", "description": "d", "organization": org});
    let a = id_of(&created(&app, &boss.key, body.clone()).await);
    let b = id_of(&created(&app, &boss.key, body).await);
    soft_delete(&app, &a, &editor.key).await;
    soft_delete(&app, &b, &app.admin_key).await;
    assert!(list(&app, "/api/1/datasets/", None).await.is_empty());
}

/// Checklist item 52.
#[tokio::test]
async fn put_deleted_null_restores_for_editors_only() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    soft_delete(&app, &id, &user.key).await;
    // A stranger cannot restore it.
    let r = app
        .put(&path_of(&id), &bob.key, json!({"deleted": null}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(app.get(&path_of(&id), None).await.status, StatusCode::GONE);
    // The owner can, with other changes in the same body.
    let restored = put_ok(
        &app,
        &id,
        &user.key,
        json!({"deleted": null, "description": "back"}),
    )
    .await;
    assert_eq!(restored["deleted"], Value::Null);
    assert_eq!(restored["description"], "back");
    let read = get_ok(&app, &id, None).await;
    assert_eq!(read["deleted"], Value::Null);
    assert_eq!(read["description"], "back");
    assert_eq!(list(&app, "/api/1/datasets/", None).await, vec![id.clone()]);
    // It can be edited and deleted again normally.
    put_ok(&app, &id, &user.key, json!({"title": "again"})).await;
    soft_delete(&app, &id, &user.key).await;
}

/// Checklist item 52.
#[tokio::test]
async fn organization_member_can_restore() {
    let app = TestApp::new().await;
    let boss = app.user("boss@example.org").await;
    let editor = app.user("editor@example.org").await;
    let org = app.organization(&boss.key, "Org").await;
    app.add_member(&org, &editor, "editor").await;
    let id = id_of(
        &created(
            &app,
            &boss.key,
            json!({"title": "t", "description": "d", "organization": org}),
        )
        .await,
    );
    soft_delete(&app, &id, &boss.key).await;
    let restored = put_ok(&app, &id, &editor.key, json!({"deleted": null})).await;
    assert_eq!(restored["deleted"], Value::Null);
    assert_eq!(get_ok(&app, &id, None).await["deleted"], Value::Null);
}

// ---- Purge (DESIGN §3.3) ----

#[tokio::test]
async fn purge_removes_deleted_dataset_and_all_its_files() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let first = upload_aaa(&app, &ds, &user.key).await;
    let rid = id_of(&first);
    let old_url = first["url"].as_str().unwrap().to_string();
    let r = app
        .replace_file(&ds, &rid, &user.key, "test_update.txt", b"new")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let new_url = r.json()["url"].as_str().unwrap().to_string();
    // A resource deleted earlier: its file is purged too.
    let gone = upload_aaa(&app, &ds, &user.key).await;
    let gone_url = gone["url"].as_str().unwrap().to_string();
    assert_eq!(
        app.delete(
            &format!("/api/1/datasets/{ds}/resources/{}/", id_of(&gone)),
            &user.key
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    // Another dataset, not deleted, is untouched.
    let kept_ds = id_of(&app.dataset(&user.key, "Kept").await);
    let kept = upload_aaa(&app, &kept_ds, &user.key).await;

    assert_eq!(
        app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // Before the purge the owner still sees everything.
    assert_eq!(
        app.get(&TestApp::path_of(&old_url), Some(&user.key))
            .await
            .status,
        StatusCode::OK
    );

    let report = rudata::ops::purge::purge(&app.state, None).await.unwrap();
    assert_eq!(report.datasets, 1);
    assert_eq!(report.files, 3);

    for key in [None, Some(user.key.as_str()), Some(app.admin_key.as_str())] {
        let r = app.get(&format!("/api/1/datasets/{ds}/"), key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{key:?}");
        for url in [&old_url, &new_url, &gone_url] {
            let r = app.get(&TestApp::path_of(url), key).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{url} {key:?}");
        }
    }
    let r = app.get(&format!("/api/1/datasets/r/{rid}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = app.get("/api/1/datasets/", Some(&user.key)).await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["data"][0]["id"], kept_ds.as_str());
    // The files are gone from storage, not just hidden.
    let stored = app
        .state
        .files
        .list(&format!("resources/{ds}"))
        .await
        .unwrap();
    assert!(stored.is_empty(), "{stored:?}");
    let r = app
        .get(&TestApp::path_of(kept["url"].as_str().unwrap()), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A second run has nothing to do.
    let report = rudata::ops::purge::purge(&app.state, None).await.unwrap();
    assert_eq!(report.datasets, 0);
}

#[tokio::test]
async fn purge_spares_restored_dataset() {
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
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"deleted": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["deleted"], json!(null));
    let report = rudata::ops::purge::purge(&app.state, None).await.unwrap();
    assert_eq!(report.datasets, 0);
    assert_eq!(report.files, 0);
    let r = app.get(&format!("/api/1/datasets/{ds}/"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["resources"][0]["id"], res["id"]);
    let r = app.get(&path, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"aaa");
}

#[tokio::test]
async fn purge_respects_cutoff() {
    let app = TestApp::new().await;
    let (user, ds) = owner_with_dataset(&app).await;
    assert_eq!(
        app.delete(&format!("/api/1/datasets/{ds}/"), &user.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // A cut-off before the deletion leaves the dataset alone.
    let before = chrono::Utc::now() - chrono::Duration::hours(1);
    let report = rudata::ops::purge::purge(&app.state, Some(before))
        .await
        .unwrap();
    assert_eq!(report.datasets, 0);
    assert_eq!(
        app.get(&format!("/api/1/datasets/{ds}/"), Some(&user.key))
            .await
            .status,
        StatusCode::OK
    );
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    let report = rudata::ops::purge::purge(&app.state, Some(after))
        .await
        .unwrap();
    assert_eq!(report.datasets, 1);
    assert_eq!(
        app.get(&format!("/api/1/datasets/{ds}/"), Some(&user.key))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
