//! Invitations into organizations: listing (the admins', the invitee's), cancelling, what ends an
//! invitation (acceptance, a newer one, the member's removal, the organization's deletion), an
//! organization that always keeps an administrator, and invitations by e-mail that do not tell
//! whether an account has the address.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// An organization administered by a new user: `(admin, org id)`.
async fn org_with_admin(app: &TestApp) -> (TestUser, String) {
    let admin = app.user("boss@example.org").await;
    let org = app.organization(&admin.key, "Acme Data").await;
    (admin, org)
}

/// Invites `body` into `org` as `admin`; returns the invitation's id.
async fn invite(app: &TestApp, org: &str, admin: &TestUser, body: Value) -> String {
    let r = app
        .post(
            &format!("/api/1/organizations/{org}/member/"),
            &admin.key,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

async fn accept(app: &TestApp, user: &TestUser, id: &str) -> crate::helpers::TestResponse {
    app.post(
        &format!("/api/1/me/org_invitations/{id}/accept/"),
        &user.key,
        json!({}),
    )
    .await
}

/// The role `user` has in `org`, as its public JSON lists it.
async fn role_of(app: &TestApp, org: &str, user: &TestUser) -> Option<String> {
    let got = app
        .get(&format!("/api/1/organizations/{org}/"), None)
        .await
        .json();
    got["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["id"] == user.id.as_str())
        .map(|m| m["role"].as_str().unwrap().to_string())
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn invitee_lists_and_admin_lists_and_cancels_invitations() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let invitee = app.user("invitee@example.org").await;
    let stranger = app.user("stranger@example.org").await;
    let id = invite(
        &app,
        &org,
        &admin,
        json!({"user": invitee.id, "role": "admin", "comment": "welcome"}),
    )
    .await;

    // The invitee sees it, with its organization (udata's PendingInvitation).
    let r = app
        .get("/api/1/me/org_invitations/", Some(&invitee.key))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mine = r.json();
    assert_eq!(ids(&mine), vec![id.clone()]);
    assert_eq!(mine[0]["organization"]["id"], org.as_str());
    assert_eq!(mine[0]["role"], "admin");
    assert_eq!(mine[0]["comment"], "welcome");
    // Nobody else's list shows it; anonymous callers have none.
    let r = app
        .get("/api/1/me/org_invitations/", Some(&stranger.key))
        .await;
    assert_eq!(r.json(), json!([]));
    let r = app.get("/api/1/me/org_invitations/", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The organization's admins list its invitations (udata's MembershipRequest list).
    let list_path = format!("/api/1/organizations/{org}/membership/");
    let r = app.get(&list_path, Some(&admin.key)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let all = r.json();
    assert_eq!(ids(&all), vec![id.clone()]);
    assert_eq!(all[0]["kind"], "invitation");
    assert_eq!(all[0]["status"], "pending");
    assert_eq!(all[0]["user"]["id"], invitee.id.as_str());
    // Not to strangers, nor to editors (managing members is the admins').
    let editor = app.user("editor@example.org").await;
    app.add_member(&org, &editor, "editor").await;
    for key in [&stranger.key, &editor.key] {
        let r = app.get(&list_path, Some(key)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    // The invitee may see their own (udata's `?user=`).
    let r = app
        .get(
            &format!("{list_path}?user={}", invitee.id),
            Some(&invitee.key),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.json()), vec![id.clone()]);

    // An editor cannot cancel; an admin can; then it cannot be accepted.
    let cancel = format!("/api/1/organizations/{org}/membership/{id}/cancel/");
    let r = app.post(&cancel, &editor.key, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post(&cancel, &admin.key, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.post(&cancel, &admin.key, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "Only pending invitations can be canceled"
    );
    let r = accept(&app, &invitee, &id).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["message"], "Invitation is not pending");
    assert_eq!(role_of(&app, &org, &invitee).await, None);
    let r = app
        .get("/api/1/me/org_invitations/", Some(&invitee.key))
        .await;
    assert_eq!(r.json(), json!([]));
    let r = app
        .get(&format!("{list_path}?status=canceled"), Some(&admin.key))
        .await;
    assert_eq!(ids(&r.json()), vec![id.clone()]);
    let r = app
        .get(&format!("{list_path}?status=pending"), Some(&admin.key))
        .await;
    assert_eq!(r.json(), json!([]));

    // Another organization's admin cannot cancel it: unknown there.
    let other = app.organization(&stranger.key, "Other Org").await;
    let id2 = invite(&app, &org, &admin, json!({"user": invitee.id})).await;
    let r = app
        .post(
            &format!("/api/1/organizations/{other}/membership/{id2}/cancel/"),
            &stranger.key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The invitee may refuse instead.
    let r = app
        .post(
            &format!("/api/1/me/org_invitations/{id2}/refuse/"),
            &invitee.key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"message": "Invitation refused"}));
    assert_eq!(
        accept(&app, &invitee, &id2).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn removed_member_cannot_rejoin_with_an_old_invitation() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let user = app.user("user@example.org").await;
    let old = invite(&app, &org, &admin, json!({"user": user.id})).await;
    let new = invite(&app, &org, &admin, json!({"user": user.id})).await;
    // Only the newest pending invitation can be accepted.
    let r = accept(&app, &user, &old).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["message"], "Invitation is not pending");
    assert_eq!(accept(&app, &user, &new).await.status, StatusCode::OK);
    assert_eq!(role_of(&app, &org, &user).await.as_deref(), Some("editor"));
    // Removed: neither invitation lets them back in.
    let r = app
        .delete(
            &format!("/api/1/organizations/{org}/member/{}/", user.id),
            &admin.key,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for id in [&old, &new] {
        let r = accept(&app, &user, id).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    }
    assert_eq!(role_of(&app, &org, &user).await, None);
}

#[tokio::test]
async fn invitation_pending_at_removal_is_void() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let user = app.user("user@example.org").await;
    // Invited by e-mail while a member (the answer cannot refuse without telling), then removed.
    app.add_member(&org, &user, "editor").await;
    let id = invite(
        &app,
        &org,
        &admin,
        json!({"email": "user@example.org", "role": "admin"}),
    )
    .await;
    // A member accepting an invitation does not change their role.
    let r = accept(&app, &user, &id).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(role_of(&app, &org, &user).await.as_deref(), Some("editor"));
    let r = app
        .delete(
            &format!("/api/1/organizations/{org}/member/{}/", user.id),
            &admin.key,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = accept(&app, &user, &id).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(role_of(&app, &org, &user).await, None);
}

#[tokio::test]
async fn an_older_admin_invitation_does_not_raise_the_role() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let user = app.user("user@example.org").await;
    let as_admin = invite(
        &app,
        &org,
        &admin,
        json!({"user": user.id, "role": "admin"}),
    )
    .await;
    let as_editor = invite(
        &app,
        &org,
        &admin,
        json!({"user": user.id, "role": "editor"}),
    )
    .await;
    assert_eq!(accept(&app, &user, &as_editor).await.status, StatusCode::OK);
    let r = accept(&app, &user, &as_admin).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(role_of(&app, &org, &user).await.as_deref(), Some("editor"));
    // The admin's list shows the first as canceled, the second as accepted.
    let list = app
        .get(
            &format!("/api/1/organizations/{org}/membership/"),
            Some(&admin.key),
        )
        .await
        .json();
    let status = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| i["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status(&as_admin).as_deref(), Some("canceled"));
    assert_eq!(status(&as_editor).as_deref(), Some("accepted"));
}

#[tokio::test]
async fn invitation_into_a_deleted_organization_cannot_be_accepted() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let user = app.user("user@example.org").await;
    let id = invite(&app, &org, &admin, json!({"user": user.id})).await;
    let r = app
        .delete(&format!("/api/1/organizations/{org}/"), &admin.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get("/api/1/me/org_invitations/", Some(&user.key)).await;
    assert_eq!(r.json(), json!([]));
    let r = accept(&app, &user, &id).await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
    assert_eq!(r.json()["message"], "Organization has been deleted");
    let members = app
        .get(&format!("/api/1/organizations/{org}/"), Some(&admin.key))
        .await
        .json();
    assert_eq!(members["metrics"]["members"], 1);
}

#[tokio::test]
async fn the_only_admin_can_neither_leave_nor_be_demoted() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let member_path = format!("/api/1/organizations/{org}/member/{}/", admin.id);
    let last = "An organization must keep at least one administrator: appoint another one first";
    for role in ["editor", "partial_editor"] {
        let r = app
            .put(&member_path, &admin.key, json!({"role": role}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_eq!(r.json(), json!({"message": last}));
    }
    let r = app.delete(&member_path, &admin.key).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({"message": last}));
    // Sysadmins are held to it too.
    let r = app.delete(&member_path, &app.admin_key).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(role_of(&app, &org, &admin).await.as_deref(), Some("admin"));
    // With a second admin, the first may step down, and then leave.
    let second = app.user("second@example.org").await;
    app.add_member(&org, &second, "admin").await;
    let r = app
        .put(&member_path, &admin.key, json!({"role": "editor"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Now the second is the only admin.
    let second_path = format!("/api/1/organizations/{org}/member/{}/", second.id);
    let r = app.delete(&second_path, &second.key).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.delete(&member_path, &second.key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // Keeping the admin role is no demotion.
    let r = app
        .put(&second_path, &second.key, json!({"role": "admin"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn inviting_by_email_answers_alike_with_or_without_an_account() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    app.user("known@example.org").await;
    let path = format!("/api/1/organizations/{org}/member/");
    let mut answers = Vec::new();
    for email in ["known@example.org", "Nobody@Example.org"] {
        let r = app
            .post(&path, &admin.key, json!({"email": email, "role": "editor"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{email}: {}", r.text());
        let mut body = r.json();
        let obj = body.as_object_mut().unwrap();
        // What differs by nature: the id, the date and the address given.
        for k in ["id", "created", "email"] {
            assert!(obj.remove(k).is_some(), "{k}");
        }
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0]["user"], json!(null));
    assert_eq!(answers[0]["kind"], "invitation");
    assert_eq!(answers[0]["status"], "pending");
    // The admin's list does not tell either: both are invitations by e-mail.
    let list = app
        .get(
            &format!("/api/1/organizations/{org}/membership/"),
            Some(&admin.key),
        )
        .await
        .json();
    let mut shown: Vec<(Value, Value)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["email"].clone(), i["user"].clone()))
        .collect();
    shown.sort_by_key(|(e, _)| e.to_string());
    assert_eq!(
        shown,
        vec![
            (json!("known@example.org"), json!(null)),
            (json!("nobody@example.org"), json!(null)),
        ]
    );
    // A malformed address is refused the same way for anyone.
    let r = app.post(&path, &admin.key, json!({"email": "nope"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn invitation_by_email_reaches_the_account_created_later() {
    let app = TestApp::new().await;
    let (admin, org) = org_with_admin(&app).await;
    let id = invite(&app, &org, &admin, json!({"email": "Later@example.org"})).await;
    let later = app.user("later@example.org").await;
    let mine = app
        .get("/api/1/me/org_invitations/", Some(&later.key))
        .await
        .json();
    assert_eq!(ids(&mine), vec![id.clone()]);
    assert_eq!(accept(&app, &later, &id).await.status, StatusCode::OK);
    assert_eq!(role_of(&app, &org, &later).await.as_deref(), Some("editor"));
    // An account with another address never sees it.
    let other = app.user("other@example.org").await;
    let r = accept(&app, &other, &id).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
