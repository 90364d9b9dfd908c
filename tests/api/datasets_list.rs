//! Listing datasets (checklist items 24, 30, 31, 36): which datasets each caller sees, the
//! private/deleted/archived filters, and pagination.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, data_ids, list, put_ok, soft_delete, sorted};
use crate::helpers::{TestApp, TestUser, id_of};

/// A user's four datasets: public, private, deleted and archived (ids in that order).
async fn hidden_fixture(app: &TestApp, user: &TestUser) -> [String; 4] {
    let public = id_of(&app.dataset(&user.key, "Public data").await);
    let private = id_of(
        &created(
            app,
            &user.key,
            json!({"title": "Private data", "description": "d", "private": true}),
        )
        .await,
    );
    let deleted = id_of(&app.dataset(&user.key, "Deleted data").await);
    soft_delete(app, &deleted, &user.key).await;
    let archived = id_of(&app.dataset(&user.key, "Archived data").await);
    let ds = put_ok(
        app,
        &archived,
        &user.key,
        json!({"archived": "2024-05-02T10:11:12"}),
    )
    .await;
    assert_eq!(ds["archived"], "2024-05-02T10:11:12+00:00");
    [public, private, deleted, archived]
}

/// Checklist item 24.
#[tokio::test]
async fn anonymous_list_shows_only_public_datasets_with_quality() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let [public, ..] = hidden_fixture(&app, &user).await;
    let other = id_of(&app.dataset(&app.admin_key, "Other public").await);
    let r = app.get("/api/1/datasets/", None).await;
    assert_eq!(sorted(data_ids(&r)), sorted(vec![public, other]));
    let body = r.json();
    assert_eq!(body["total"], 2);
    for d in body["data"].as_array().unwrap() {
        assert!(d["quality"].is_object(), "{d}");
        assert!(d["quality"]["score"].is_number(), "{d}");
        assert_eq!(d["private"], false);
        assert_eq!(d["deleted"], Value::Null);
        assert_eq!(d["archived"], Value::Null);
    }
    // Another (non-owner) user sees the same.
    let bob = app.user("bob@example.org").await;
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/", Some(&bob.key)).await),
        sorted(data_ids(&r))
    );
}

/// Checklist item 30.
#[tokio::test]
async fn hidden_state_filters_need_auth_and_select_subsets() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let [public, private, deleted, archived] = hidden_fixture(&app, &user).await;
    for flag in ["private", "archived", "deleted"] {
        for value in ["true", "false"] {
            let r = app
                .get(&format!("/api/1/datasets/?{flag}={value}"), None)
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{flag}={value}");
            assert!(r.json()["message"].is_string());
        }
    }
    let all = [&public, &private, &deleted, &archived];
    for (flag, only) in [
        ("private", &private),
        ("deleted", &deleted),
        ("archived", &archived),
    ] {
        assert_eq!(
            list(
                &app,
                &format!("/api/1/datasets/?{flag}=true"),
                Some(&user.key)
            )
            .await,
            vec![only.clone()],
            "{flag}=true"
        );
        let rest: Vec<String> = all
            .iter()
            .filter(|id| **id != only)
            .map(|id| id.to_string())
            .collect();
        assert_eq!(
            sorted(
                list(
                    &app,
                    &format!("/api/1/datasets/?{flag}=false"),
                    Some(&user.key)
                )
                .await
            ),
            sorted(rest),
            "{flag}=false"
        );
    }
    // A stranger asking for private ones sees none of alice's.
    let bob = app.user("bob@example.org").await;
    assert!(
        list(&app, "/api/1/datasets/?private=true", Some(&bob.key))
            .await
            .is_empty()
    );
    // All three together: only public ones.
    assert_eq!(
        list(
            &app,
            "/api/1/datasets/?private=false&deleted=false&archived=false",
            Some(&user.key)
        )
        .await,
        vec![public]
    );
    // A non-boolean value is a parser error.
    let r = app
        .get("/api/1/datasets/?private=maybe", Some(&user.key))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["errors"]["private"].is_string(), "{}", r.text());
}

/// Checklist item 31.
#[tokio::test]
async fn list_includes_hidden_datasets_of_owner_and_members() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ids = hidden_fixture(&app, &user).await;
    let other_public = id_of(&app.dataset(&app.admin_key, "Admin public").await);
    let other_private = id_of(
        &created(
            &app,
            &app.admin_key,
            json!({"title": "Admin private", "description": "d", "private": true}),
        )
        .await,
    );
    let mut expected: Vec<String> = ids.to_vec();
    expected.push(other_public.clone());
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/", Some(&user.key)).await),
        sorted(expected.clone())
    );
    // Through an organization: a member sees its hidden datasets, a stranger does not.
    let boss = app.user("boss@example.org").await;
    let org = app.organization(&boss.key, "Org").await;
    let org_private = id_of(
        &created(
            &app,
            &boss.key,
            json!({"title": "Org private", "description": "d", "private": true, "organization": org}),
        )
        .await,
    );
    assert!(
        !list(&app, "/api/1/datasets/", Some(&user.key))
            .await
            .contains(&org_private)
    );
    app.add_member(&org, &user, "editor").await;
    expected.push(org_private);
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/", Some(&user.key)).await),
        sorted(expected)
    );
    // The sysadmin sees everything.
    let all = list(&app, "/api/1/datasets/", Some(&app.admin_key)).await;
    assert_eq!(all.len(), 7);
    assert!(all.contains(&other_private));
}

/// Checklist item 36.
#[tokio::test]
async fn list_is_paginated_with_page_links_keeping_filters() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(
            &app.dataset(&user.key, &format!("Dataset {i}")).await,
        ));
    }
    ids.reverse(); // default sort: newest first
    for bad in ["page_size=0", "page=0", "page=-1", "page_size=abc"] {
        let r = app.get(&format!("/api/1/datasets/?{bad}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
        let body = r.json();
        let param = bad.split('=').next().unwrap();
        assert!(body["errors"][param].is_string(), "{bad}: {body}");
        assert_eq!(body["message"], "Input payload validation failed");
    }
    // Default page size is 20.
    let r = app.get("/api/1/datasets/", None).await;
    let body = r.json();
    assert_eq!(body["page"], 1);
    assert_eq!(body["page_size"], 20);
    assert_eq!(body["total"], 5);
    assert_eq!(body["next_page"], Value::Null);
    assert_eq!(body["previous_page"], Value::Null);

    let r = app.get("/api/1/datasets/?page_size=2", None).await;
    assert_eq!(data_ids(&r), ids[0..2]);
    let body = r.json();
    assert_eq!(body["total"], 5);
    assert_eq!(body["page"], 1);
    assert_eq!(body["page_size"], 2);
    assert_eq!(body["previous_page"], Value::Null);
    let next = body["next_page"].as_str().unwrap().to_string();
    assert!(
        next.starts_with("http://rudata.test/api/1/datasets/?"),
        "{next}"
    );
    assert!(
        next.contains("page=2") && next.contains("page_size=2"),
        "{next}"
    );

    let r = app.get(&TestApp::path_of(&next), None).await;
    assert_eq!(data_ids(&r), ids[2..4]);
    let body = r.json();
    assert_eq!(body["page"], 2);
    let previous = body["previous_page"].as_str().unwrap();
    assert!(previous.contains("page=1"), "{previous}");
    let next = body["next_page"].as_str().unwrap().to_string();
    assert!(next.contains("page=3"), "{next}");

    let r = app.get(&TestApp::path_of(&next), None).await;
    assert_eq!(data_ids(&r), ids[4..5]);
    let body = r.json();
    assert_eq!(body["page"], 3);
    assert_eq!(body["next_page"], Value::Null);
    assert!(body["previous_page"].as_str().unwrap().contains("page=2"));

    // Past the end: 404. An empty first page is fine.
    let r = app.get("/api/1/datasets/?page_size=2&page=4", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = app.get("/api/1/datasets/?tag=nothing", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["data"], json!([]));
    assert_eq!(r.json()["total"], 0);
    let r = app.get("/api/1/datasets/?tag=nothing&page=2", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The filters are kept in the page links.
    let r = app
        .get("/api/1/datasets/?page_size=1&sort=title", None)
        .await;
    let next = r.json()["next_page"].as_str().unwrap().to_string();
    assert!(next.contains("sort=title"), "{next}");
}
