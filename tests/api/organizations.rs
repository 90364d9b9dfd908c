//! Organizations, members and invitations: checklist items 84–87, plus the invitation flow,
//! the organization's datasets and the roles list.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

fn members_of(org: &Value) -> Vec<(String, String)> {
    org["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["id"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An organization administered by a new user: `(admin, org id)`.
async fn org_with_admin(app: &TestApp) -> (TestUser, String) {
    let admin = app.user("boss@example.org").await;
    let org = app.organization(&admin.key, "Acme Data").await;
    (admin, org)
}

/// Checklist item 84.
#[tokio::test]
async fn creator_becomes_the_new_organizations_admin() {
    let app = TestApp::new().await;
    let user = app.user("boss@example.org").await;
    let r = app
        .post(
            "/api/1/organizations/",
            &user.key,
            json!({"name": "Acme Data", "description": "We publish", "acronym": "ACME"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let org = r.json();
    assert_eq!(org["name"], "Acme Data");
    assert_eq!(org["slug"], "acme-data");
    assert_eq!(org["acronym"], "ACME");
    assert_eq!(org["description"], "We publish");
    assert_eq!(org["deleted"], json!(null));
    assert_eq!(org["metrics"]["members"], 1);
    assert_eq!(
        members_of(&org),
        vec![(user.id.clone(), "admin".to_string())]
    );
    assert_eq!(org["members"][0]["label"], "Administrator");
    assert_eq!(org["permissions"]["edit"], true);
    assert_eq!(org["permissions"]["members"], true);
    assert_eq!(
        org["uri"],
        "http://rudata.test/api/1/organizations/acme-data/"
    );
    let id = org["id"].as_str().unwrap();
    assert_eq!(id.len(), 24);
    // Persisted; anonymous readers get no rights.
    let r = app.get(&format!("/api/1/organizations/{id}/"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["metrics"]["members"], 1);
    assert_eq!(r.json()["permissions"]["edit"], false);
    let r = app.get("/api/1/organizations/acme-data/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], id);
    // The creator's profile lists it.
    let me = app.get("/api/1/me/", Some(&user.key)).await.json();
    assert_eq!(me["organizations"][0]["id"], id);
}

/// Checklist item 84.
#[tokio::test]
async fn creating_needs_authentication_a_name_and_a_description() {
    let app = TestApp::new().await;
    let user = app.user("boss@example.org").await;
    let r = app
        .request(
            Method::POST,
            "/api/1/organizations/",
            None,
            Some(&json!({"name": "x", "description": "d"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .post(
            "/api/1/organizations/",
            &user.key,
            json!({"description": "d"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["errors"]["name"].is_array(), "{}", r.text());
    let r = app
        .post("/api/1/organizations/", &user.key, json!({"name": "n"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["errors"]["description"].is_array(), "{}", r.text());
    let list = app.get("/api/1/organizations/", None).await.json();
    assert_eq!(list["total"], 0);
}

/// Checklist item 84.
#[tokio::test]
async fn organizations_with_one_name_get_distinct_slugs() {
    let app = TestApp::new().await;
    let user = app.user("boss@example.org").await;
    let a = app.organization(&user.key, "Same Name").await;
    let b = app.organization(&user.key, "Same Name").await;
    let a = app
        .get(&format!("/api/1/organizations/{a}/"), None)
        .await
        .json();
    let b = app
        .get(&format!("/api/1/organizations/{b}/"), None)
        .await
        .json();
    assert_eq!(a["slug"], "same-name");
    assert_eq!(b["slug"], "same-name-1");
}

/// Checklist item 85.
#[tokio::test]
async fn deleted_organization_is_gone_except_for_members_and_sysadmins() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let editor = app.user("editor@example.org").await;
    app.add_member(&org, &editor, "editor").await;
    let outsider = app.user("outsider@example.org").await;
    let path = format!("/api/1/organizations/{org}/");
    assert_eq!(
        app.delete(&path, &admin.key).await.status,
        StatusCode::NO_CONTENT
    );
    let r = app.get(&path, None).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.json()["message"], "Organization has been deleted");
    assert_eq!(
        app.get(&path, Some(&outsider.key)).await.status,
        StatusCode::GONE
    );
    for key in [&admin.key, &editor.key] {
        let r = app.get(&path, Some(key)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.json()["deleted"].is_string());
    }
    assert_eq!(
        app.get(&path, Some(&app.admin_key)).await.status,
        StatusCode::OK
    );
}

/// Checklist item 85.
#[tokio::test]
async fn only_its_admins_and_sysadmins_update_an_organization() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let editor = app.user("editor@example.org").await;
    app.add_member(&org, &editor, "editor").await;
    let outsider = app.user("outsider@example.org").await;
    let path = format!("/api/1/organizations/{org}/");
    let r = app
        .put(&path, &editor.key, json!({"description": "hacked"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json()["message"],
        "You do not have the permission to modify that object."
    );
    let r = app
        .put(&path, &outsider.key, json!({"description": "hacked"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .request(
            Method::PUT,
            &path,
            None,
            Some(&json!({"description": "hacked"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .put(
            &path,
            &admin.key,
            json!({"description": "New description", "url": "https://example.org"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["description"], "New description");
    assert_eq!(r.json()["url"], "https://example.org");
    // A partial update keeps the other fields.
    assert_eq!(r.json()["name"], "Acme Data");
    let got = app.get(&path, None).await.json();
    assert_eq!(got["description"], "New description");
    // A sysadmin may edit any organization.
    let r = app
        .put(&path, &app.admin_key, json!({"acronym": "AD"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["acronym"], "AD");
}

/// Checklist item 85.
#[tokio::test]
async fn updating_a_deleted_organization_is_gone() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let path = format!("/api/1/organizations/{org}/");
    assert_eq!(
        app.delete(&path, &admin.key).await.status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .put(&path, &admin.key, json!({"description": "changed"}))
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.json()["message"], "Organization has been deleted");
    let got = app.get(&path, Some(&admin.key)).await.json();
    assert_eq!(got["description"], "An organization");
}

/// Checklist item 86.
#[tokio::test]
async fn delete_is_soft_and_for_admins_only() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let editor = app.user("editor@example.org").await;
    app.add_member(&org, &editor, "editor").await;
    let outsider = app.user("outsider@example.org").await;
    let path = format!("/api/1/organizations/{org}/");
    let r = app.delete(&path, &editor.key).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.delete(&path, &outsider.key).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.request(Method::DELETE, &path, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&path, None).await.status, StatusCode::OK);
    let r = app.delete(&path, &admin.key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    // Soft: the admin still reads it, with `deleted` set.
    let got = app.get(&path, Some(&admin.key)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.json()["deleted"].is_string());
    let r = app.delete(&path, &admin.key).await;
    assert_eq!(r.status, StatusCode::GONE);
    let r = app.delete(&path, &outsider.key).await;
    assert_eq!(r.status, StatusCode::GONE);
    // Deleted organizations leave the member's profile.
    let me = app.get("/api/1/me/", Some(&admin.key)).await.json();
    assert!(me["organizations"].as_array().unwrap().is_empty());
    let r = app
        .delete("/api/1/organizations/5f0c9a3e2b1d4c0012345678/", &admin.key)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Checklist item 87.
#[tokio::test]
async fn admin_changes_a_members_role() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let member = app.user("member@example.org").await;
    app.add_member(&org, &member, "editor").await;
    let path = format!("/api/1/organizations/{org}/member/{}/", member.id);
    let r = app.put(&path, &admin.key, json!({"role": "admin"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["role"], "admin");
    assert_eq!(body["label"], "Administrator");
    assert_eq!(body["user"]["id"], member.id.as_str());
    assert!(body["since"].is_string());
    let got = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    assert!(members_of(&got).contains(&(member.id.clone(), "admin".to_string())));
    // The new admin may now edit the organization.
    let r = app
        .put(
            &format!("/api/1/organizations/{org}/"),
            &member.key,
            json!({"acronym": "X"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Checklist item 87.
#[tokio::test]
async fn role_change_refuses_non_admins_non_members_and_unknown_roles() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let member = app.user("member@example.org").await;
    app.add_member(&org, &member, "editor").await;
    let outsider = app.user("outsider@example.org").await;
    let r = app
        .put(
            &format!("/api/1/organizations/{org}/member/{}/", outsider.id),
            &admin.key,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let path = format!("/api/1/organizations/{org}/member/{}/", member.id);
    let r = app.put(&path, &member.key, json!({"role": "admin"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .put(&path, &outsider.key, json!({"role": "admin"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.put(&path, &admin.key, json!({"role": "boss"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let msg = "'boss' is not a valid choice. Valid choices: ['admin', 'editor', 'partial_editor']";
    assert_eq!(r.json()["errors"]["role"], msg);
    assert_eq!(r.json()["message"], msg);
    let got = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    assert!(members_of(&got).contains(&(member.id.clone(), "editor".to_string())));
}

/// Checklist item 87.
#[tokio::test]
async fn removed_member_loses_their_rights() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let member = app.user("member@example.org").await;
    app.add_member(&org, &member, "editor").await;
    let outsider = app.user("outsider@example.org").await;
    let got = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    assert_eq!(got["metrics"]["members"], 2);
    let path = format!("/api/1/organizations/{org}/member/{}/", member.id);
    assert_eq!(
        app.delete(&path, &member.key).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&path, &outsider.key).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.delete(&path, &admin.key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    let got = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    assert_eq!(got["metrics"]["members"], 1);
    assert_eq!(
        members_of(&got),
        vec![(admin.id.clone(), "admin".to_string())]
    );
    // The former member lost their rights.
    let r = app
        .post(
            "/api/1/datasets/",
            &member.key,
            json!({"title": "t", "description": "d", "organization": org}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["organization"].is_array());
    // Deleting a non-member is 404.
    assert_eq!(
        app.delete(&path, &admin.key).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invitation_flow() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let invitee = app.user("invitee@example.org").await;
    // Before: no rights on the organization.
    let body = json!({"title": "Org data", "description": "d", "organization": org});
    let r = app
        .post("/api/1/datasets/", &invitee.key, body.clone())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"]["organization"][0],
        "Permission denied for this organization"
    );

    let r = app
        .post(
            &format!("/api/1/organizations/{org}/member/"),
            &admin.key,
            json!({"user": invitee.id, "role": "editor", "comment": "join us"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let inv = r.json();
    assert_eq!(inv["kind"], "invitation");
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["role"], "editor");
    assert_eq!(inv["comment"], "join us");
    assert_eq!(inv["user"]["id"], invitee.id.as_str());
    assert_eq!(inv["user"]["email"], "***@example.org");
    let inv_id = inv["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&inv_id).is_ok());
    // Pending: not a member yet.
    let got = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    assert_eq!(got["metrics"]["members"], 1);

    // Only the invitee may accept.
    let accept = format!("/api/1/me/org_invitations/{inv_id}/accept/");
    let r = app.post(&accept, &admin.key, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.post(&accept, &invitee.key, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"message": "Invitation accepted"}));
    let r = app.post(&accept, &invitee.key, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["message"], "Invitation is not pending");

    let got = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    assert_eq!(got["metrics"]["members"], 2);
    assert!(members_of(&got).contains(&(invitee.id.clone(), "editor".to_string())));
    let r = app.post("/api/1/datasets/", &invitee.key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["organization"]["id"], org.as_str());
    assert_eq!(r.json()["owner"], json!(null));
}

#[tokio::test]
async fn invitation_errors() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let member = app.user("member@example.org").await;
    app.add_member(&org, &member, "editor").await;
    let invitee = app.user("invitee@example.org").await;
    let path = format!("/api/1/organizations/{org}/member/");
    // Only an admin invites.
    let r = app
        .post(&path, &member.key, json!({"user": invitee.id}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post(&path, &admin.key, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"]["user"],
        "Either user or email is required"
    );
    assert_eq!(r.json()["message"], "Either user or email is required");
    let r = app
        .post(
            &path,
            &admin.key,
            json!({"user": invitee.id, "email": "invitee@example.org"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"]["user"],
        "Cannot provide both user and email"
    );
    let r = app
        .post(
            &path,
            &admin.key,
            json!({"user": "5f0c9a3e2b1d4c0012345678"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"]["user"],
        "Unknown user '5f0c9a3e2b1d4c0012345678'"
    );
    let r = app
        .post(
            &path,
            &admin.key,
            json!({"user": invitee.id, "role": "boss"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"]["role"], "Invalid role 'boss'");
    let r = app
        .post(&path, &admin.key, json!({"user": member.id}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"]["user"], "User is already a member");
    // By e-mail (case-insensitive), with the default role.
    let r = app
        .post(&path, &admin.key, json!({"email": "INVITEE@example.org"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // Shown as an invitation by e-mail, not as the account's (that would tell it exists).
    assert_eq!(r.json()["user"], json!(null));
    assert_eq!(r.json()["email"], "invitee@example.org");
    assert_eq!(r.json()["role"], "editor");
    // An unknown invitation id.
    let r = app
        .post(
            &format!("/api/1/me/org_invitations/{}/accept/", uuid::Uuid::new_v4()),
            &invitee.key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn organization_datasets_paginated_with_private_for_members() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let editor = app.user("editor@example.org").await;
    app.add_member(&org, &editor, "editor").await;
    let outsider = app.user("outsider@example.org").await;
    let mut public = Vec::new();
    for i in 0..3 {
        let r = app
            .post(
                "/api/1/datasets/",
                &admin.key,
                json!({"title": format!("Public {i}"), "description": "d", "organization": org}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        public.push(r.json()["id"].as_str().unwrap().to_string());
    }
    let r = app
        .post(
            "/api/1/datasets/",
            &admin.key,
            json!({"title": "Secret", "description": "d", "organization": org, "private": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let private = r.json()["id"].as_str().unwrap().to_string();
    // A dataset of someone else, not of the org.
    app.dataset(&outsider.key, "Unrelated").await;

    let path = format!("/api/1/organizations/{org}/datasets/");
    let ids = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    };
    for key in [None, Some(outsider.key.as_str())] {
        let r = app.get(&path, key).await;
        assert_eq!(r.status, StatusCode::OK);
        let body = r.json();
        assert_eq!(body["total"], 3, "{key:?}");
        assert!(!ids(&body).contains(&private));
    }
    for key in [&admin.key, &editor.key, &app.admin_key] {
        let body = app.get(&path, Some(key)).await.json();
        assert_eq!(body["total"], 4);
        assert!(ids(&body).contains(&private));
    }
    // The envelope.
    let r = app.get(&format!("{path}?page_size=2"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["page"], 1);
    assert_eq!(body["page_size"], 2);
    assert_eq!(body["total"], 3);
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["previous_page"], json!(null));
    let next = body["next_page"].as_str().unwrap();
    assert!(
        next.starts_with("http://rudata.test/api/1/organizations/"),
        "{next}"
    );
    assert!(next.contains("page=2"), "{next}");
    let page2 = app.get(&TestApp::path_of(next), None).await.json();
    assert_eq!(page2["page"], 2);
    assert_eq!(page2["data"].as_array().unwrap().len(), 1);
    assert_eq!(page2["next_page"], json!(null));
    assert!(page2["previous_page"].is_string());
    let mut all = ids(&body);
    all.extend(ids(&page2));
    all.sort();
    public.sort();
    assert_eq!(all, public);
    assert_eq!(
        app.get(&format!("{path}?page=3&page_size=2"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("{path}?page=0"), None).await.status,
        StatusCode::BAD_REQUEST
    );
    // By slug too; unknown organization is 404.
    let r = app
        .get("/api/1/organizations/acme-data/datasets/", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], 3);
    let r = app
        .get(
            "/api/1/organizations/5f0c9a3e2b1d4c0012345678/datasets/",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn organization_roles() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/organizations/roles/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let list = list.as_array().unwrap();
    let pairs: Vec<(&str, &str)> = list
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["label"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("admin", "Administrator"),
            ("editor", "Editor"),
            ("partial_editor", "Partial editor")
        ]
    );
    assert_eq!(
        list[0]["description"],
        "Can manage the organization, its members and all its content."
    );
}
