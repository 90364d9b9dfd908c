//! Authentication, `/me/` and API tokens: checklist items 1–9.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

/// Checklist item 1.
#[tokio::test]
async fn writing_without_credentials_is_401_with_www_authenticate() {
    let app = TestApp::new().await;
    let r = app
        .request(
            axum::http::Method::POST,
            "/api/1/datasets/",
            None,
            Some(&json!({"title": "t", "description": "d"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["message"].is_string());
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"uData\"")
    );
}

/// Checklist item 2.
#[tokio::test]
async fn unknown_key_is_401_even_on_a_read() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/", Some("fake")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["message"], "Invalid API token");
}

/// Checklist item 3.
#[tokio::test]
async fn revoked_token_is_refused_as_revoked() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let created = app
        .post("/api/1/me/api_tokens/", &user.key, json!({}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let (id, token) = (
        created.json()["id"].as_str().unwrap().to_string(),
        created.json()["token"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        app.get("/api/1/me/", Some(&token)).await.status,
        StatusCode::OK
    );
    let r = app
        .delete(&format!("/api/1/me/api_tokens/{id}/"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get("/api/1/datasets/", Some(&token)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["message"], "Revoked API token");
    assert!(r.header("www-authenticate").is_some());
    // The other key of the same user is untouched.
    assert_eq!(
        app.get("/api/1/me/", Some(&user.key)).await.status,
        StatusCode::OK
    );
}

/// Checklist item 3.
#[tokio::test]
async fn expired_token_is_refused_as_expired() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let (_, key) = rudata::ops::tokens::issue_api_token(
        &app.state,
        &rudata::domain::activity::Actor::none(),
        &user.id,
        None,
        Some(past),
    )
    .await
    .unwrap();
    let r = app.get("/api/1/datasets/", Some(key.expose())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["message"], "Expired API token");
    // A token expiring later still works.
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    let (_, key) = rudata::ops::tokens::issue_api_token(
        &app.state,
        &rudata::domain::activity::Actor::none(),
        &user.id,
        None,
        Some(future),
    )
    .await
    .unwrap();
    assert_eq!(
        app.get("/api/1/me/", Some(key.expose())).await.status,
        StatusCode::OK
    );
}

/// Checklist item 4.
#[tokio::test]
async fn inactive_users_tokens_are_refused_until_reactivated() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    assert_eq!(
        app.get("/api/1/me/", Some(&user.key)).await.status,
        StatusCode::OK
    );
    app.state
        .store
        .set_user_active(&user.id, false)
        .await
        .unwrap();
    let r = app.get("/api/1/datasets/", Some(&user.key)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["message"], "Inactive user");
    let r = app
        .post(
            "/api/1/datasets/",
            &user.key,
            json!({"title": "t", "description": "d"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["message"].is_string());
    app.state
        .store
        .set_user_active(&user.id, true)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/1/me/", Some(&user.key)).await.status,
        StatusCode::OK
    );
}

/// Checklist item 5.
#[tokio::test]
async fn me_requires_authentication() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/me/", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["message"].is_string());
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"uData\"")
    );
}

/// Checklist item 5.
#[tokio::test]
async fn me_returns_the_profile_without_an_apikey() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = app.get("/api/1/me/", Some(&user.key)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let me = r.json();
    assert_eq!(me["id"], user.id.as_str());
    assert_eq!(me["email"], "alice@example.org");
    assert_eq!(me["first_name"], "First");
    assert_eq!(me["last_name"], "Last");
    assert_eq!(me["roles"], json!([]));
    assert_eq!(me["active"], true);
    assert!(me.get("apikey").is_none(), "{me}");
    assert!(me["organizations"].as_array().unwrap().is_empty());
    assert!(me["slug"].is_string());
    // A sysadmin has the admin role.
    let admin = app.get("/api/1/me/", Some(&app.admin_key)).await.json();
    assert_eq!(admin["roles"], json!(["admin"]));
}

/// Checklist item 5.
#[tokio::test]
async fn me_lists_the_users_organizations() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let org = app.organization(&user.key, "Alice Corp").await;
    let me = app.get("/api/1/me/", Some(&user.key)).await.json();
    let orgs = me["organizations"].as_array().unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["id"], org.as_str());
    assert_eq!(orgs[0]["class"], "Organization");
}

/// Checklist item 5.
#[tokio::test]
async fn put_me_updates_the_profile_and_ignores_roles_and_active() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = app
        .put(
            "/api/1/me/",
            &user.key,
            json!({
                "first_name": "Alice",
                "last_name": "Liddell",
                "about": "Down the rabbit hole",
                "website": "https://example.org/alice",
                "roles": ["admin"],
                "active": false,
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let me = r.json();
    assert_eq!(me["first_name"], "Alice");
    assert_eq!(me["last_name"], "Liddell");
    assert_eq!(me["about"], "Down the rabbit hole");
    assert_eq!(me["website"], "https://example.org/alice");
    assert_eq!(me["roles"], json!([]));
    assert_eq!(me["active"], true);
    // Persisted, and the user is still active (the key still works) and not a sysadmin.
    let me = app.get("/api/1/me/", Some(&user.key)).await.json();
    assert_eq!(me["first_name"], "Alice");
    assert_eq!(me["email"], "alice@example.org");
    assert_eq!(me["roles"], json!([]));
    let r = app
        .get("/api/1/datasets/?deleted=true", Some(&user.key))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], 0);
}

/// Checklist item 5.
#[tokio::test]
async fn put_me_rejects_a_malformed_or_taken_email() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    app.user("bob@example.org").await;
    let r = app
        .put("/api/1/me/", &user.key, json!({"email": "not-an-email"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["errors"]["email"].is_array(), "{}", r.text());
    let r = app
        .put("/api/1/me/", &user.key, json!({"email": "bob@example.org"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["email"].is_array());
    let me = app.get("/api/1/me/", Some(&user.key)).await.json();
    assert_eq!(me["email"], "alice@example.org");
    let r = app
        .put(
            "/api/1/me/",
            &user.key,
            json!({"email": "alice2@example.org"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["email"], "alice2@example.org");
}

/// Checklist item 6.
#[tokio::test]
async fn new_token_is_shown_once_and_authenticates_its_user() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = app
        .post("/api/1/me/api_tokens/", &user.key, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let t = r.json();
    let token = t["token"].as_str().unwrap();
    assert!(token.starts_with("udata_"), "{token}");
    assert_eq!(token.len(), 6 + 64);
    let prefix = t["token_prefix"].as_str().unwrap();
    assert!(prefix.starts_with("udata_"));
    assert!(token.starts_with(prefix));
    assert!(prefix.len() < token.len());
    assert_eq!(t["expires_at"], json!(null));
    assert_eq!(t["revoked_at"], json!(null));
    assert_eq!(t["kind"], "api_key");
    assert!(t["id"].is_string());
    // The new token authenticates as the same user.
    let me = app.get("/api/1/me/", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["id"], user.id.as_str());

    let r = app
        .post(
            "/api/1/me/api_tokens/",
            &user.key,
            json!({"name": "My CI token"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["name"], "My CI token");
    assert_ne!(r.json()["token"], t["token"]);
}

/// Checklist item 6.
#[tokio::test]
async fn token_endpoints_require_authentication() {
    let app = TestApp::new().await;
    let r = app
        .request(
            Method::POST,
            "/api/1/me/api_tokens/",
            None,
            Some(&json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.get("/api/1/me/api_tokens/", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// Checklist item 7.
#[tokio::test]
async fn token_expiry_must_be_a_valid_future_date() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let before = app
        .get("/api/1/me/api_tokens/", Some(&user.key))
        .await
        .json();
    let r = app
        .post(
            "/api/1/me/api_tokens/",
            &user.key,
            json!({"expires_at": "not-a-date"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["expires_at"].is_array(), "{}", r.text());
    let r = app
        .post(
            "/api/1/me/api_tokens/",
            &user.key,
            json!({"expires_at": "2020-01-01T00:00:00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["expires_at"].is_array());
    // Neither failed request created a token.
    let after = app
        .get("/api/1/me/api_tokens/", Some(&user.key))
        .await
        .json();
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len()
    );

    let future = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let r = app
        .post(
            "/api/1/me/api_tokens/",
            &user.key,
            json!({"expires_at": future}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let expires = r.json()["expires_at"].as_str().unwrap().to_string();
    let parsed = chrono::DateTime::parse_from_rfc3339(&expires).unwrap();
    assert!(parsed > chrono::Utc::now() + chrono::Duration::days(29));
    let token = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/1/me/", Some(&token)).await.status,
        StatusCode::OK
    );
}

/// Checklist item 8.
#[tokio::test]
async fn token_list_shows_prefixes_never_tokens() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let other = app.user("bob@example.org").await;
    let created = app
        .post("/api/1/me/api_tokens/", &user.key, json!({"name": "ci"}))
        .await
        .json();
    let r = app.get("/api/1/me/api_tokens/", Some(&user.key)).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let list = list.as_array().unwrap();
    // The harness key plus the new one; none of bob's.
    assert_eq!(list.len(), 2, "{list:?}");
    for t in list {
        assert!(t.get("token").is_none(), "{t}");
        assert!(t["token_prefix"].as_str().unwrap().starts_with("udata_"));
        assert!(t["id"].is_string());
    }
    let mine = list.iter().find(|t| t["id"] == created["id"]).unwrap();
    assert_eq!(mine["name"], "ci");
    assert_eq!(mine["token_prefix"], created["token_prefix"]);
    assert!(!r.text().contains(created["token"].as_str().unwrap()));
    assert!(!r.text().contains(&other.key));
}

/// Checklist item 8.
#[tokio::test]
async fn revoking_a_token_is_owner_only_and_final() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let other = app.user("bob@example.org").await;
    let created = app
        .post("/api/1/me/api_tokens/", &user.key, json!({}))
        .await
        .json();
    let id = created["id"].as_str().unwrap();
    // Someone else's token id is unknown to me.
    let r = app
        .delete(&format!("/api/1/me/api_tokens/{id}/"), &other.key)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .delete(&format!("/api/1/me/api_tokens/{id}/"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    let r = app
        .delete(&format!("/api/1/me/api_tokens/{id}/"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.json()["message"].is_string());
    let r = app
        .delete("/api/1/me/api_tokens/5f0c9a3e2b1d4c0012345678/", &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The revoked token is no longer listed.
    let list = app
        .get("/api/1/me/api_tokens/", Some(&user.key))
        .await
        .json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != created["id"])
    );
    let r = app
        .get("/api/1/me/", Some(created["token"].as_str().unwrap()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// Checklist item 9.
#[tokio::test]
async fn form_endpoints_refuse_bodies_that_are_not_json() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = app.dataset(&user.key, "Some data").await;
    let id = ds["id"].as_str().unwrap();
    let multipart = "multipart/form-data; boundary=xyz";
    let body =
        b"--xyz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--xyz--\r\n".to_vec();
    for (method, path) in [
        (Method::POST, "/api/1/datasets/".to_string()),
        (Method::POST, format!("/api/1/datasets/{id}/resources/")),
        (Method::POST, "/api/1/organizations/".to_string()),
        (Method::POST, "/api/1/me/api_tokens/".to_string()),
        (Method::PUT, "/api/1/me/".to_string()),
    ] {
        let r = app
            .raw(
                method.clone(),
                &path,
                Some(&user.key),
                &[("content-type", multipart)],
                body.clone(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {}",
            r.text()
        );
        assert_eq!(
            r.json(),
            json!({"errors": {"Content-Type": "expecting application/json"}}),
            "{method} {path}"
        );
    }
    // No content type at all is refused the same way.
    let r = app
        .raw(
            Method::POST,
            "/api/1/datasets/",
            Some(&user.key),
            &[],
            br#"{"title":"t","description":"d"}"#.to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"]["Content-Type"],
        "expecting application/json"
    );
}

/// Checklist item 9.
#[tokio::test]
async fn malformed_json_is_400_with_a_json_message() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = app
        .raw(
            Method::POST,
            "/api/1/datasets/",
            Some(&user.key),
            &[("content-type", "application/json")],
            b"{\"title\": \"t\", ".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["message"].is_string(), "{}", r.text());
    // Nothing was created.
    let list = app.get("/api/1/datasets/", Some(&user.key)).await.json();
    assert_eq!(list["total"], 0);
}

/// Checklist item 9.
#[tokio::test]
async fn form_endpoints_refuse_json_that_is_not_an_object() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    for body in [
        json!([{"title": "t", "description": "d"}]),
        json!("text"),
        json!(42),
    ] {
        let r = app
            .request(
                Method::POST,
                "/api/1/datasets/",
                Some(&user.key),
                Some(&body),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            r.json(),
            json!({"errors": {"request": "expecting a JSON object"}})
        );
    }
    let r = app
        .request(
            Method::PUT,
            "/api/1/me/",
            Some(&user.key),
            Some(&json!(["x"])),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"]["request"], "expecting a JSON object");
}

/// Checklist item 90.
#[tokio::test]
async fn cors_preflight_echoes_the_origin() {
    let app = TestApp::new().await;
    let r = app
        .raw(
            axum::http::Method::OPTIONS,
            "/api/1/datasets/",
            None,
            &[
                ("Origin", "https://reuser.example.org"),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "X-API-KEY, Content-Type"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://reuser.example.org")
    );
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert_eq!(
        r.header("access-control-allow-headers").as_deref(),
        Some("X-API-KEY, Content-Type")
    );
    // Plain answers carry the origin too.
    let r = app
        .raw(
            axum::http::Method::GET,
            "/api/1/datasets/",
            None,
            &[("Origin", "https://reuser.example.org")],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://reuser.example.org")
    );
}

#[tokio::test]
async fn cors_origins_can_be_restricted() {
    let mut app = TestApp::new().await;
    app.configure(|c| c.cors_origins = vec!["https://allowed.example.org".into()]);
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.raw(
                axum::http::Method::OPTIONS,
                "/api/1/datasets/",
                None,
                &[("Origin", origin), ("Access-Control-Request-Method", "GET")],
                Vec::new(),
            )
            .await
        }
    };
    let r = preflight("https://allowed.example.org").await;
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://allowed.example.org")
    );
    let r = preflight("https://evil.example.org").await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}
