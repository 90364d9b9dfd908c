//! `GET /organizations/{org}/datasets/` keeps hidden datasets hidden: a deleted (or private) one is
//! listed to the organization's members and sysadmins only (DESIGN §3.3: the guide's promise wins
//! over udata, which lists deleted ones to anyone).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn titles(body: &Value) -> Vec<String> {
    let mut t: Vec<String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn deleted_and_private_datasets_are_listed_to_members_only() {
    let app = TestApp::new().await;
    let admin = app.user("boss@example.org").await;
    let org = app.organization(&admin.key, "Acme Data").await;
    let editor = app.user("editor@example.org").await;
    app.add_member(&org, &editor, "editor").await;
    let stranger = app.user("stranger@example.org").await;
    let mut ids = Vec::new();
    for (title, private) in [("Open", false), ("Gone", false), ("Secret", true)] {
        let r = app
            .post(
                "/api/1/datasets/",
                &admin.key,
                json!({"title": title, "description": "Budget lines", "organization": org,
                       "private": private}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["id"].as_str().unwrap().to_string());
    }
    let r = app
        .delete(&format!("/api/1/datasets/{}/", ids[1]), &admin.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    let path = format!("/api/1/organizations/{org}/datasets/");
    for key in [None, Some(stranger.key.as_str())] {
        let r = app.get(&path, key).await;
        assert_eq!(r.status, StatusCode::OK);
        let body = r.json();
        assert_eq!(titles(&body), vec!["Open"], "{key:?}");
        assert_eq!(body["total"], 1);
        assert!(!r.text().contains("Gone"), "{key:?}");
    }
    for key in [&admin.key, &editor.key, &app.admin_key] {
        let body = app.get(&path, Some(key)).await.json();
        assert_eq!(titles(&body), vec!["Gone", "Open", "Secret"]);
        assert_eq!(body["total"], 3);
    }
}
