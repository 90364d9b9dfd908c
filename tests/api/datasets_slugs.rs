//! Old slugs of renamed datasets: they redirect (308) only for those who may see the dataset, and
//! stay reserved to it, so that an old link never leads to someone else's dataset.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn old_slug_of_a_hidden_dataset_is_unknown_to_those_who_may_not_see_it() {
    let app = TestApp::new().await;
    let owner = app.user("owner@example.org").await;
    let stranger = app.user("stranger@example.org").await;
    let r = app
        .post(
            "/api/1/datasets/",
            &owner.key,
            json!({"title": "Draft budget", "description": "d", "private": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/"),
            &owner.key,
            json!({"title": "Secret merger plan"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["slug"], "secret-merger-plan");

    let old = "/api/1/datasets/draft-budget/";
    for key in [None, Some(stranger.key.as_str())] {
        let r = app.get(old, key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{key:?}");
        assert_eq!(r.header("location"), None);
        assert!(!r.text().contains("secret-merger-plan"));
        let r = app.get("/api/2/datasets/draft-budget/", key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{key:?}");
    }
    // Writes through the old slug tell a stranger nothing either.
    let r = app
        .put(old, &stranger.key, json!({"title": "Mine now"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("location"), None);
    // The owner and sysadmins are redirected.
    for key in [&owner.key, &app.admin_key] {
        let r = app.get(old, Some(key)).await;
        assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
        assert!(
            r.header("location")
                .unwrap()
                .ends_with("/api/1/datasets/secret-merger-plan/")
        );
    }
    // Deleted (public): the old slug is unknown to anonymous callers too.
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/"),
            &owner.key,
            json!({"private": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get(old, None).await.status,
        StatusCode::PERMANENT_REDIRECT
    );
    let r = app
        .delete(&format!("/api/1/datasets/{id}/"), &owner.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get(old, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(old, Some(&owner.key)).await.status,
        StatusCode::PERMANENT_REDIRECT
    );
}

#[tokio::test]
async fn an_old_slug_stays_with_its_dataset() {
    let app = TestApp::new().await;
    let owner = app.user("owner@example.org").await;
    let other = app.user("other@example.org").await;
    let first = app.dataset(&owner.key, "Budget").await;
    let id = first["id"].as_str().unwrap().to_string();
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/"),
            &owner.key,
            json!({"title": "Budget 2024"}),
        )
        .await;
    assert_eq!(r.json()["slug"], "budget-2024");
    // A newcomer with the old title does not get the old slug...
    let newcomer = app.dataset(&other.key, "Budget").await;
    assert_ne!(newcomer["slug"], "budget");
    assert_eq!(newcomer["slug"], "budget-1");
    // ...so old links still lead to the renamed dataset.
    let r = app.get("/api/1/datasets/budget/", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert!(
        r.header("location")
            .unwrap()
            .ends_with("/api/1/datasets/budget-2024/")
    );
    // Renaming another dataset to that title does not take it either.
    let third = app.dataset(&other.key, "Misc").await;
    let r = app
        .put(
            &format!("/api/1/datasets/{}/", third["id"].as_str().unwrap()),
            &other.key,
            json!({"title": "Budget"}),
        )
        .await;
    assert_ne!(r.json()["slug"], "budget");
    // The dataset itself may take it back; the redirect then goes the other way.
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/"),
            &owner.key,
            json!({"title": "Budget"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["slug"], "budget");
    let r = app.get("/api/1/datasets/budget/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], id.as_str());
    let r = app.get("/api/1/datasets/budget-2024/", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
}
