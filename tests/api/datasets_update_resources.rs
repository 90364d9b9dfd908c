//! A dataset PUT and its `resources` (checklist items 41–43, 45, 46): ids and order survive a
//! GET-then-PUT, unknown, malformed and foreign resource ids, omitted fields, and stale file
//! fields of hosted resources.

use axum::http::StatusCode;
use serde_json::json;

use crate::dataset_helpers::{created, get_ok, path_of, put_ok, resource_ids};
use crate::helpers::{TestApp, id_of};

/// Checklist item 41.
#[tokio::test]
async fn get_then_put_keeps_resource_ids_and_order() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "Round trip").await);
    app.remote(&id, &user.key, "first").await;
    let r = app.upload(&id, &user.key, "test.txt", b"aaa").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.remote(&id, &user.key, "third").await;
    let before = get_ok(&app, &id, Some(&user.key)).await;
    let ids = resource_ids(&before);
    assert_eq!(ids.len(), 3);
    let after = put_ok(&app, &id, &user.key, before.clone()).await;
    assert_eq!(resource_ids(&after), ids);
    let read = get_ok(&app, &id, Some(&user.key)).await;
    assert_eq!(resource_ids(&read), ids);
    for (a, b) in before["resources"]
        .as_array()
        .unwrap()
        .iter()
        .zip(read["resources"].as_array().unwrap())
    {
        for key in [
            "title", "url", "filetype", "format", "checksum", "filesize", "mime",
        ] {
            assert_eq!(a[key], b[key], "{key}");
        }
    }
    assert_eq!(read["title"], before["title"]);
    assert_eq!(read["slug"], before["slug"]);
    assert_eq!(read["owner"]["id"], user.id.as_str());
}

/// Checklist item 42.
#[tokio::test]
async fn put_gives_unknown_resource_ids_new_ones_and_rejects_malformed_ids() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let existing = id_of(&app.remote(&id, &user.key, "existing").await);
    let unknown = "0b0e5f3c-8a3e-4d7a-9a4c-2f8a9d7e6b51";
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"resources": [
            {"id": existing, "title": "existing"},
            {"id": unknown, "title": "added", "filetype": "remote", "url": "https://example.com/a.csv"}
        ]}),
    )
    .await;
    let ids = resource_ids(&updated);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], existing);
    assert_ne!(ids[1], unknown);
    assert_eq!(updated["resources"][1]["title"], "added");
    assert_eq!(resource_ids(&get_ok(&app, &id, None).await), ids);

    let r = app
        .put(
            &path_of(&id),
            &user.key,
            json!({"resources": [
                {"id": "not-an-uuid", "title": "bad", "filetype": "remote", "url": "https://example.com/b.csv"}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["resources"].is_array(), "{}", r.text());
    assert_eq!(resource_ids(&get_ok(&app, &id, None).await), ids);
}

/// Checklist item 43.
#[tokio::test]
async fn put_cannot_take_another_datasets_resource_id() {
    let app = TestApp::new().await;
    let victim_owner = app.user("victim@example.org").await;
    let user = app.user("alice@example.org").await;
    let victim = id_of(&app.dataset(&victim_owner.key, "victim").await);
    let victim_res = app.remote(&victim, &victim_owner.key, "victim's").await;
    let victim_rid = id_of(&victim_res);
    let id = id_of(&app.dataset(&user.key, "squatter").await);
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"resources": [
            {"id": victim_rid, "title": "squat", "filetype": "remote", "url": "https://evil.example.com/x"}
        ]}),
    )
    .await;
    let ids = resource_ids(&updated);
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], victim_rid);
    // The victim is untouched, and its permalink still leads to its own URL.
    let victim_read = get_ok(&app, &victim, None).await;
    assert_eq!(resource_ids(&victim_read), vec![victim_rid.clone()]);
    assert_eq!(victim_read["resources"][0]["title"], "victim's");
    assert_eq!(victim_read["resources"][0]["url"], victim_res["url"]);
    let r = app
        .get(&format!("/api/1/datasets/r/{victim_rid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.header("location").as_deref(), victim_res["url"].as_str());
}

/// Checklist item 45.
#[tokio::test]
async fn put_keeps_omitted_resources_and_extras() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "t", "description": "d",
                   "extras": {"integer": 42, "float": 42.5, "string": "value"}}),
        )
        .await,
    );
    for i in 0..3 {
        app.remote(&id, &user.key, &format!("r{i}")).await;
    }
    let ids = resource_ids(&get_ok(&app, &id, None).await);
    let updated = put_ok(&app, &id, &user.key, json!({"description": "other"})).await;
    assert_eq!(resource_ids(&updated), ids);
    assert_eq!(
        updated["extras"],
        json!({"integer": 42, "float": 42.5, "string": "value"})
    );
    let read = get_ok(&app, &id, None).await;
    assert_eq!(resource_ids(&read), ids);
    assert_eq!(read["extras"]["integer"], 42);
    // New extras replace the old ones; `{}` clears them.
    let updated = put_ok(&app, &id, &user.key, json!({"extras": {"other": "x"}})).await;
    assert_eq!(updated["extras"], json!({"other": "x"}));
    let updated = put_ok(&app, &id, &user.key, json!({"extras": {}})).await;
    assert_eq!(updated["extras"], json!({}));
    assert_eq!(get_ok(&app, &id, None).await["extras"], json!({}));
    // A given `resources` list replaces the set: left-out resources are dropped.
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"resources": [{"id": ids[2]}, {"id": ids[0]}]}),
    )
    .await;
    assert_eq!(resource_ids(&updated), vec![ids[2].clone(), ids[0].clone()]);
    assert_eq!(
        resource_ids(&get_ok(&app, &id, None).await),
        vec![ids[2].clone(), ids[0].clone()]
    );
}

/// Checklist item 46.
#[tokio::test]
async fn put_ignores_stale_file_fields_of_hosted_resources() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let r = app.upload(&id, &user.key, "test.txt", b"aaa").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let hosted = r.json();
    let rid = id_of(&hosted);
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"resources": [{
            "id": rid,
            "title": "new title",
            "url": "https://example.com/other.pdf",
            "checksum": {"type": "sha1", "value": "0".repeat(40)},
            "filesize": 4,
            "filetype": "remote",
            "mime": "application/pdf",
            "format": "pdf"
        }]}),
    )
    .await;
    for res in [
        updated["resources"][0].clone(),
        get_ok(&app, &id, None).await["resources"][0].clone(),
    ] {
        assert_eq!(res["id"], rid.as_str());
        assert_eq!(res["title"], "new title");
        for key in ["url", "checksum", "filesize", "filetype", "mime", "format"] {
            assert_eq!(res[key], hosted[key], "{key}");
        }
        assert_eq!(res["filetype"], "file");
        assert_eq!(res["filesize"], 3);
        assert_eq!(
            res["checksum"],
            json!({"type": "sha1", "value": "7e240de74fb1ed08fa08d38063f6a6a91462a815"})
        );
    }
}
