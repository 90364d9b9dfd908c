//! The activity log (`GET /api/1/activity/`): every write records its author, token and changed
//! fields in its own transaction; udata's filters and paging; entries follow their object's
//! visibility; a refused write records nothing; the checks record what they find.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::checks::{Remote, Served, run_checks};
use crate::helpers::{TestApp, TestUser, id_of};

/// The entries of `/api/1/activity/?{query}` as `key` sees them (one page of 100).
async fn entries(app: &TestApp, query: &str, key: Option<&str>) -> Vec<Value> {
    let r = app
        .get(&format!("/api/1/activity/?page_size=100&{query}"), key)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["data"].as_array().unwrap().clone()
}

fn keys(entries: &[Value]) -> Vec<&str> {
    entries.iter().map(|e| e["key"].as_str().unwrap()).collect()
}

fn sorted_changes(entry: &Value) -> Vec<String> {
    let mut changes: Vec<String> = entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    changes.sort();
    changes
}

/// A fresh token for `user`, made through the API; returns (token id, token).
async fn token(app: &TestApp, user: &TestUser) -> (String, String) {
    let r = app
        .post(
            "/api/1/me/api_tokens/",
            &user.key,
            json!({"name": "script"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let body = r.json();
    (
        body["id"].as_str().unwrap().to_string(),
        body["token"].as_str().unwrap().to_string(),
    )
}

/// The total of the whole log as sysadmins see it.
async fn total(app: &TestApp) -> i64 {
    let r = app.get("/api/1/activity/", Some(&app.admin_key)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["total"].as_i64().unwrap()
}

#[tokio::test]
async fn every_dataset_and_resource_write_is_recorded_with_its_actor_token_and_changes() {
    let app = TestApp::new().await;
    let user = app.user("pub@example.org").await;
    let (token_id, key) = token(&app, &user).await;
    let ds = id_of(&app.dataset(&key, "Budget").await);
    let path = format!("/api/1/datasets/{ds}/");
    let r = app
        .put(
            &path,
            &key,
            json!({"title": "Budget 2026", "description": "New"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rid = id_of(&app.remote(&ds, &key, "Lines").await);
    let r = app
        .put(
            &format!("{path}resources/{rid}/"),
            &key,
            json!({"title": "All lines"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.upload(&ds, &key, "data.csv", b"a,b\n1,2\n").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let uploaded = id_of(&r.json());
    let r = app
        .replace_file(&ds, &uploaded, &key, "data.csv", b"a,b\n3,4\n")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.delete(&format!("{path}resources/{rid}/"), &key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app.delete(&path, &key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());

    let log = entries(&app, &format!("related_to={ds}"), Some(&user.key)).await;
    assert_eq!(
        keys(&log),
        [
            "dataset:deleted",
            "dataset:resource:deleted",
            "dataset:resource:updated",
            "dataset:resource:added",
            "dataset:resource:updated",
            "dataset:resource:added",
            "dataset:updated",
            "dataset:created",
        ]
    );
    for e in &log {
        assert_eq!(e["actor"]["id"], user.id.as_str(), "{e}");
        assert_eq!(e["actor"]["class"], "User");
        // The actor sees the token they wrote with.
        assert_eq!(e["api_token"], token_id.as_str(), "{e}");
        assert_eq!(e["related_to_id"], ds.as_str());
        assert_eq!(e["related_to_kind"], "Dataset");
        assert_eq!(e["related_to"], "Budget 2026");
        assert_eq!(
            e["related_to_url"],
            "http://rudata.test/api/1/datasets/budget-2026/"
        );
        assert!(e["id"].as_str().unwrap().len() == 24);
        assert!(e["created_at"].as_str().unwrap().ends_with("+00:00"));
        assert!(e["organization"].is_null());
    }
    assert_eq!(log[7]["label"], "created a dataset");
    assert_eq!(log[7]["icon"], "fa fa-plus");
    assert_eq!(sorted_changes(&log[6]), ["description", "title"]);
    // The resources' entries name their resource, as udata's extras do.
    assert_eq!(log[1]["extras"]["resource_id"], rid.as_str());
    assert_eq!(log[1]["extras"]["resource_title"], "All lines");
    // The new file: its checksum and URL changed.
    assert_eq!(log[2]["extras"]["resource_id"], uploaded.as_str());
    assert_eq!(sorted_changes(&log[2])[0], "checksum");
    assert!(sorted_changes(&log[2]).contains(&"url".to_string()));
    assert_eq!(log[3]["extras"]["resource_id"], uploaded.as_str());
    assert_eq!(sorted_changes(&log[4]), ["title"]);
    assert_eq!(log[4]["extras"]["resource_title"], "All lines");
    assert_eq!(log[5]["extras"]["resource_title"], "Lines");
    // Another reader does not see which token wrote; a sysadmin does.
    let admin_view = entries(&app, &format!("related_to={ds}"), Some(&app.admin_key)).await;
    assert_eq!(admin_view[0]["api_token"], token_id.as_str());

    // Restoring through a PUT is an update of `deleted`.
    let r = app.put(&path, &user.key, json!({"deleted": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let log = entries(&app, &format!("related_to={ds}"), None).await;
    assert_eq!(log[0]["key"], "dataset:updated");
    assert_eq!(sorted_changes(&log[0]), ["deleted"]);
    assert_ne!(log[0]["api_token"], token_id.as_str());
    assert!(log[0]["api_token"].is_null());
}

#[tokio::test]
async fn organization_membership_and_account_writes_are_recorded() {
    let app = TestApp::new().await;
    let boss = app.user("boss@example.org").await;
    let member = app.user("member@example.org").await;
    let org = app.organization(&boss.key, "Acme").await;
    let r = app
        .put(
            &format!("/api/1/organizations/{org}/"),
            &boss.key,
            json!({"description": "Data of Acme"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .post(
            &format!("/api/1/organizations/{org}/member/"),
            &boss.key,
            json!({"user": member.id, "role": "editor"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let invitation = id_of(&r.json());
    let r = app
        .post(
            &format!("/api/1/me/org_invitations/{invitation}/accept/"),
            &member.key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let member_path = format!("/api/1/organizations/{org}/member/{}/", member.id);
    let r = app
        .put(&member_path, &boss.key, json!({"role": "admin"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.delete(&member_path, &boss.key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    // A dataset of the organization is in its log too.
    let r = app
        .post(
            "/api/1/datasets/",
            &boss.key,
            json!({"title": "Acme sales", "description": "d", "organization": org}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ds = id_of(&r.json());

    // As a member reads it (the invitation among the entries).
    let log = entries(&app, &format!("organization={org}"), Some(&boss.key)).await;
    assert_eq!(
        keys(&log),
        [
            "dataset:created",
            "organization:member:removed",
            "organization:member:updated",
            "organization:member:added",
            "organization:member:invited",
            "organization:updated",
            "organization:created",
        ]
    );
    // Anyone else: the same but the invitation, which names someone who may never have joined.
    let public = entries(&app, &format!("organization={org}"), None).await;
    assert_eq!(
        keys(&public),
        [
            "dataset:created",
            "organization:member:removed",
            "organization:member:updated",
            "organization:member:added",
            "organization:updated",
            "organization:created",
        ]
    );
    assert_eq!(log[0]["related_to_id"], ds.as_str());
    assert_eq!(log[0]["organization"]["id"], org.as_str());
    for e in &log[1..] {
        assert_eq!(e["related_to_kind"], "Organization");
        assert_eq!(e["related_to"], "Acme");
        assert_eq!(e["organization"]["id"], org.as_str());
    }
    // The invitee accepted: they are the actor of their joining.
    assert_eq!(log[3]["actor"]["id"], member.id.as_str());
    assert_eq!(log[3]["extras"]["user_id"], member.id.as_str());
    assert_eq!(log[3]["extras"]["role"], "editor");
    assert_eq!(log[2]["actor"]["id"], boss.id.as_str());
    assert_eq!(log[2]["extras"]["role"], "admin");
    assert_eq!(sorted_changes(&log[2]), ["role"]);
    assert_eq!(log[1]["extras"]["user_id"], member.id.as_str());
    assert_eq!(sorted_changes(&log[5]), ["description"]);

    // The account's own writes are the user's business (and the sysadmins').
    let r = app
        .put("/api/1/me/", &member.key, json!({"about": "Hello"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (token_id, _) = token(&app, &member).await;
    let r = app
        .delete(&format!("/api/1/me/api_tokens/{token_id}/"), &member.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let own = entries(
        &app,
        &format!("related_to={}", member.id),
        Some(&member.key),
    )
    .await;
    // (The account and its first token came from the operator, as `rudata user create` does.)
    assert_eq!(
        keys(&own),
        [
            "user:token:revoked",
            "user:token:created",
            "user:updated",
            "user:token:created",
            "user:created"
        ]
    );
    assert!(own[3]["actor"].is_null());
    assert_eq!(own[0]["extras"]["token_id"], token_id.as_str());
    assert_eq!(sorted_changes(&own[2]), ["about"]);
    assert_eq!(own[2]["related_to"], "First Last");
    for reader in [None, Some(boss.key.as_str())] {
        let seen = entries(&app, &format!("related_to={}", member.id), reader).await;
        assert!(seen.is_empty(), "{seen:?}");
    }
    let seen = entries(
        &app,
        &format!("related_to={}", member.id),
        Some(&app.admin_key),
    )
    .await;
    assert_eq!(seen.len(), 5);

    // The organization's deletion is its last entry; a deleted organization's log is its members'.
    let r = app
        .delete(&format!("/api/1/organizations/{org}/"), &boss.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let log = entries(&app, &format!("organization={org}"), Some(&boss.key)).await;
    assert_eq!(log[0]["key"], "organization:deleted");
    let outside = entries(&app, &format!("related_to={org}"), None).await;
    assert!(outside.is_empty(), "{outside:?}");
}

#[tokio::test]
async fn the_filters_narrow_the_log_and_bad_ones_are_refused_as_udata_does() {
    let app = TestApp::new().await;
    let alice = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let a = id_of(&app.dataset(&alice.key, "Alpha").await);
    let b = id_of(&app.dataset(&bob.key, "Beta").await);
    let r = app
        .put(
            &format!("/api/1/datasets/{a}/"),
            &alice.key,
            json!({"tags": ["roads"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let by_alice = entries(&app, &format!("user={}", alice.id), None).await;
    assert_eq!(keys(&by_alice), ["dataset:updated", "dataset:created"]);
    assert!(by_alice.iter().all(|e| e["related_to_id"] == a.as_str()));
    let about_b = entries(&app, &format!("related_to={b}"), None).await;
    assert_eq!(keys(&about_b), ["dataset:created"]);
    assert_eq!(about_b[0]["actor"]["id"], bob.id.as_str());
    let created = entries(&app, "key=dataset:created", None).await;
    assert_eq!(created.len(), 2);
    let both = entries(&app, "key=dataset:created&key=dataset:updated", None).await;
    assert_eq!(both.len(), 3);
    // Oldest first on request.
    let oldest = entries(&app, "sort=created_at&key=dataset:created", None).await;
    assert_eq!(oldest[0]["related_to_id"], a.as_str());
    assert_eq!(created[0]["related_to_id"], b.as_str());
    // An organization nobody wrote about has an empty log.
    let none = entries(&app, "organization=0123456789abcdef01234567", None).await;
    assert!(none.is_empty());

    for (query, message) in [
        ("user=bad", "`user` must be an identifier"),
        ("organization=bad", "`organization` must be an identifier"),
        ("related_to=bad", "`related_to` must be an identifier"),
        ("key=nope", "Unknown activity key(s): nope"),
        (
            "key=dataset:updated&key=zzz&key=aaa",
            "Unknown activity key(s): aaa, zzz",
        ),
    ] {
        let r = app.get(&format!("/api/1/activity/?{query}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text());
        assert_eq!(r.json()["message"], message, "{query}");
    }
    for query in ["sort=bad", "page=0", "page_size=0", "page=x"] {
        let r = app.get(&format!("/api/1/activity/?{query}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text());
        assert_eq!(r.json()["message"], "Input payload validation failed");
        assert!(r.json()["errors"].is_object());
    }
}

#[tokio::test]
async fn the_log_is_paged_in_udatas_envelope() {
    let app = TestApp::new().await;
    let user = app.user("pager@example.org").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(&app.dataset(&user.key, &format!("Paged {i}")).await));
    }
    let base = format!("/api/1/activity/?user={}&page_size=2", user.id);
    let first = app.get(&base, None).await.json();
    assert_eq!(first["total"], 5);
    assert_eq!(first["page"], 1);
    assert_eq!(first["page_size"], 2);
    assert!(first["previous_page"].is_null());
    let next = first["next_page"].as_str().unwrap();
    assert!(
        next.starts_with("http://rudata.test/api/1/activity/?"),
        "{next}"
    );
    assert!(next.contains("page=2"), "{next}");
    let data = first["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["related_to_id"], ids[4].as_str());
    assert_eq!(data[1]["related_to_id"], ids[3].as_str());

    let third = app.get(&format!("{base}&page=3"), None).await.json();
    let data = third["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["related_to_id"], ids[0].as_str());
    assert!(third["next_page"].is_null());
    assert!(third["previous_page"].as_str().unwrap().contains("page=2"));
    let past = app.get(&format!("{base}&page=4"), None).await;
    assert_eq!(past.status, StatusCode::NOT_FOUND, "{}", past.text());
    assert!(past.json()["message"].is_string());
}

#[tokio::test]
async fn entries_about_private_deleted_and_purged_datasets_follow_the_datasets_visibility() {
    let app = TestApp::new().await;
    let boss = app.user("boss@example.org").await;
    let member = app.user("member@example.org").await;
    let stranger = app.user("stranger@example.org").await;
    let org = app.organization(&boss.key, "Acme").await;
    app.add_member(&org, &member, "editor").await;
    let r = app
        .post(
            "/api/1/datasets/",
            &boss.key,
            json!({"title": "Draft", "description": "d", "organization": org, "private": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let draft = id_of(&r.json());
    let public = id_of(&app.dataset(&stranger.key, "Open").await);

    let sees = |entries: &[Value], id: &str| entries.iter().any(|e| e["related_to_id"] == id);
    for reader in [None, Some(stranger.key.clone())] {
        let log = entries(&app, "", reader.as_deref()).await;
        assert!(!sees(&log, &draft), "{reader:?}: {log:?}");
        assert!(sees(&log, &public));
        let own = entries(&app, &format!("related_to={draft}"), reader.as_deref()).await;
        assert!(own.is_empty());
        let r = app
            .get(
                &format!("/api/1/activity/?related_to={draft}"),
                reader.as_deref(),
            )
            .await;
        assert_eq!(
            r.json()["total"],
            0,
            "the total counts only what the reader sees"
        );
    }
    for reader in [&member.key, &boss.key, &app.admin_key] {
        let log = entries(&app, &format!("related_to={draft}"), Some(reader)).await;
        assert_eq!(keys(&log), ["dataset:created"]);
    }

    // Published: its whole history is public, its time as a draft included.
    let r = app
        .put(
            &format!("/api/1/datasets/{draft}/"),
            &member.key,
            json!({"private": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let log = entries(&app, &format!("related_to={draft}"), None).await;
    assert_eq!(keys(&log), ["dataset:updated", "dataset:created"]);
    assert_eq!(log[0]["changes"], json!(["private"]));
    assert_eq!(log[0]["actor"]["id"], member.id.as_str());

    // Deleted: hidden again from all but the organization and sysadmins.
    let r = app
        .delete(&format!("/api/1/datasets/{draft}/"), &member.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for reader in [None, Some(stranger.key.as_str())] {
        let log = entries(&app, &format!("related_to={draft}"), reader).await;
        assert!(log.is_empty(), "{log:?}");
        let log = entries(&app, &format!("organization={org}"), reader).await;
        assert!(!sees(&log, &draft), "{log:?}");
    }
    let log = entries(&app, &format!("related_to={draft}"), Some(&member.key)).await;
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["key"], "dataset:deleted");

    // Purged: the history stays, for sysadmins only, with the purge (a job's: no actor) on top.
    let report = rudata::ops::purge::purge(&app.state, None).await.unwrap();
    assert_eq!(report.datasets, 1);
    let log = entries(&app, &format!("related_to={draft}"), Some(&member.key)).await;
    assert!(log.is_empty(), "{log:?}");
    let log = entries(&app, &format!("related_to={draft}"), Some(&app.admin_key)).await;
    assert_eq!(
        keys(&log),
        [
            "dataset:purged",
            "dataset:deleted",
            "dataset:updated",
            "dataset:created"
        ]
    );
    assert!(log[0]["actor"].is_null());
    assert_eq!(log[0]["related_to"], "Draft");
}

#[tokio::test]
async fn a_refused_write_records_nothing() {
    let app = TestApp::new().await;
    let owner = app.user("owner@example.org").await;
    let stranger = app.user("stranger@example.org").await;
    let ds = id_of(&app.dataset(&owner.key, "Mine").await);
    let rid = id_of(&app.remote(&ds, &owner.key, "File").await);
    let before = total(&app).await;
    let path = format!("/api/1/datasets/{ds}/");
    for r in [
        // Not theirs (403).
        app.put(&path, &stranger.key, json!({"title": "Stolen"}))
            .await,
        app.delete(&path, &stranger.key).await,
        // Invalid (400): the operation fails inside its transaction.
        app.put(&path, &owner.key, json!({"title": ""})).await,
        app.put(
            &format!("{path}resources/{rid}/"),
            &owner.key,
            json!({"url": "not a url", "filetype": "remote"}),
        )
        .await,
        // Unknown resource (404), after the dataset was locked.
        app.delete(
            &format!("{path}resources/00000000-0000-4000-8000-000000000000/"),
            &owner.key,
        )
        .await,
        // An organization without a name (400).
        app.post(
            "/api/1/organizations/",
            &owner.key,
            json!({"description": "no name"}),
        )
        .await,
    ] {
        assert!(r.status.is_client_error(), "{} {}", r.status, r.text());
    }
    assert_eq!(total(&app).await, before);
}

#[tokio::test]
async fn checks_record_a_resource_gone_unavailable_or_changed_without_an_actor() {
    let app = crate::checks::app().await;
    let remote = Remote::start().await;
    remote.serve("/f.csv", Served::ok("1111"));
    let ds = id_of(&app.dataset(&app.admin_key, "Watched").await);
    let r = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &app.admin_key,
            json!({"title": "Remote", "filetype": "remote", "url": remote.url("/f.csv")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let rid = id_of(&r.json());
    let signal = || async {
        let r = app
            .post(
                &format!("/api/1/datasets/{ds}/resources/{rid}/check/"),
                &app.admin_key,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
        run_checks(&app).await;
    };
    run_checks(&app).await;
    // A first check, and a check that finds the same bytes, tell nothing.
    signal().await;
    let checked = "key=dataset:resource:changed&key=dataset:resource:unavailable";
    assert!(entries(&app, checked, None).await.is_empty());

    remote.serve("/f.csv", Served::ok("2222"));
    signal().await;
    remote.serve("/f.csv", Served::status(404));
    signal().await;
    let log = entries(&app, &format!("related_to={ds}&{checked}"), None).await;
    assert_eq!(
        keys(&log),
        ["dataset:resource:unavailable", "dataset:resource:changed"]
    );
    for e in &log {
        assert!(e["actor"].is_null(), "{e}");
        assert_eq!(e["extras"]["resource_id"], rid.as_str());
        assert_eq!(e["extras"]["url"], remote.url("/f.csv"));
    }
    assert_eq!(log[0]["extras"]["status"], 404);
    assert_eq!(log[1]["extras"]["detection"], "computed-checksum");
    // Still unavailable: said once.
    signal().await;
    assert_eq!(entries(&app, checked, None).await.len(), 2);
}

#[tokio::test]
async fn refused_and_canceled_invitations_are_recorded_without_the_invitees_address() {
    let app = TestApp::new().await;
    let boss = app.user("boss@example.org").await;
    let invitee = app.user("invitee@example.org").await;
    let org = app.organization(&boss.key, "Acme").await;
    let invite = |body: Value| {
        let (app, org, key) = (&app, &org, &boss.key);
        async move {
            let r = app
                .post(&format!("/api/1/organizations/{org}/member/"), key, body)
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            id_of(&r.json())
        }
    };
    let first = invite(json!({"user": invitee.id})).await;
    let r = app
        .post(
            &format!("/api/1/me/org_invitations/{first}/refuse/"),
            &invitee.key,
            json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let second = invite(json!({"email": "someone@elsewhere.org"})).await;
    let r = app
        .post(
            &format!("/api/1/organizations/{org}/membership/{second}/cancel/"),
            &boss.key,
            json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.text());

    // Invitations are the organization's members' business: none for anyone else.
    let public = entries(&app, &format!("organization={org}"), None).await;
    assert!(
        keys(&public).iter().all(|k| !k.contains("invit")),
        "{:?}",
        keys(&public)
    );
    let log = entries(&app, &format!("organization={org}"), Some(&boss.key)).await;
    assert_eq!(
        keys(&log)[..4],
        [
            "organization:invitation:canceled",
            "organization:member:invited",
            "organization:invitation:refused",
            "organization:member:invited",
        ]
    );
    assert_eq!(log[2]["actor"]["id"], invitee.id.as_str());
    assert_eq!(log[2]["extras"]["user_id"], invitee.id.as_str());
    assert_eq!(log[2]["extras"]["invitation_id"], first.as_str());
    assert_eq!(log[0]["extras"]["invitation_id"], second.as_str());
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("someone@elsewhere.org"), "{text}");
}
