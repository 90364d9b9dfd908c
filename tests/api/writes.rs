//! Write semantics that the operations layer guarantees: simultaneous creations with one title get
//! distinct slugs, slugs are reused once freed, and a change to one resource leaves the rest of the
//! rendered dataset exactly as it was.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, get_ok};
use crate::helpers::{TestApp, id_of};

#[tokio::test]
async fn twenty_simultaneous_creations_with_one_title_get_twenty_slugs() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let body = json!({"title": "Budget primitif", "description": "Même titre"});
    let answers = futures_util::future::join_all(
        (0..20).map(|_| app.post("/api/1/datasets/", &key, body.clone())),
    )
    .await;
    let mut slugs: Vec<String> = answers
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            r.json()["slug"].as_str().unwrap().to_string()
        })
        .collect();
    slugs.sort();
    let mut expected: Vec<String> = (0..20)
        .map(|n| match n {
            0 => "budget-primitif".to_string(),
            n => format!("budget-primitif-{n}"),
        })
        .collect();
    expected.sort();
    assert_eq!(slugs, expected);
}

#[tokio::test]
async fn a_title_ending_in_a_number_does_not_steal_a_suffix() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let slug = |v: Value| v["slug"].as_str().unwrap().to_string();
    let taken = created(&app, &key, json!({"title": "Budget 1", "description": "d"})).await;
    assert_eq!(slug(taken), "budget-1");
    let first = created(&app, &key, json!({"title": "Budget", "description": "d"})).await;
    assert_eq!(slug(first), "budget");
    // `budget-1` is taken by the title "Budget 1": the next "Budget" skips it.
    let second = created(&app, &key, json!({"title": "Budget", "description": "d"})).await;
    assert_eq!(slug(second), "budget-2");
}

#[tokio::test]
async fn an_old_slug_is_not_given_again() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let ds = created(&app, &key, json!({"title": "Budget", "description": "d"})).await;
    let id = id_of(&ds);
    let renamed = app
        .put(
            &format!("/api/1/datasets/{id}/"),
            &key,
            json!({"title": "Comptes"}),
        )
        .await;
    assert_eq!(renamed.json()["slug"], "comptes");
    // The old slug now redirects, and stays reserved to its dataset (udata would give it to a new
    // one, whose data old links would then serve): a new dataset gets the next suffix.
    let again = created(&app, &key, json!({"title": "Budget", "description": "d"})).await;
    assert_eq!(again["slug"], "budget-1");
    let r = app.get("/api/1/datasets/budget/", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
}

/// The dataset as rendered, without what any write changes (its dates).
fn without_dates(mut v: Value) -> Value {
    let obj = v.as_object_mut().unwrap();
    for k in ["last_modified", "last_update", "internal", "quality"] {
        obj.remove(k);
    }
    v
}

#[tokio::test]
async fn adding_then_deleting_a_resource_leaves_the_others_as_they_were() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let ds = app.dataset(&key, "Budget").await;
    let id = id_of(&ds);
    for title in ["one", "two", "three"] {
        app.remote(&id, &key, title).await;
    }
    let before = get_ok(&app, &id, None).await;
    let added = app.remote(&id, &key, "four").await;
    let rid = id_of(&added);
    let after_add = get_ok(&app, &id, None).await;
    let resources = after_add["resources"].as_array().unwrap();
    assert_eq!(
        resources[0]["id"],
        rid.as_str(),
        "a new resource comes first"
    );
    assert_eq!(&resources[1..], before["resources"].as_array().unwrap());
    assert_eq!(after_add["last_update"], added["last_modified"]);

    let r = app
        .delete(&format!("/api/1/datasets/{id}/resources/{rid}/"), &key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let after_delete = get_ok(&app, &id, None).await;
    assert_eq!(after_delete["resources"], before["resources"]);
    // `last_update` is the newest remaining resource change again.
    assert_eq!(after_delete["last_update"], before["last_update"]);
    assert_eq!(without_dates(after_delete), without_dates(before));
}

#[tokio::test]
async fn updating_one_resource_changes_that_resource_only() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let ds = app.dataset(&key, "Budget").await;
    let id = id_of(&ds);
    for title in ["one", "two", "three"] {
        app.remote(&id, &key, title).await;
    }
    let before = get_ok(&app, &id, None).await;
    let middle = before["resources"][1].clone();
    let rid = id_of(&middle);
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/resources/{rid}/"),
            &key,
            json!({"description": "changed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = get_ok(&app, &id, None).await;
    let (b, a) = (
        before["resources"].as_array().unwrap(),
        after["resources"].as_array().unwrap(),
    );
    assert_eq!(a.len(), 3);
    assert_eq!(a[0], b[0]);
    assert_eq!(a[2], b[2]);
    assert_eq!(a[1]["id"], middle["id"], "the resource keeps its place");
    assert_eq!(a[1]["description"], "changed");
    assert_eq!(after["last_update"], a[1]["last_modified"]);
    assert_eq!(
        without_dates(after.clone())["title"],
        without_dates(before)["title"]
    );
}
