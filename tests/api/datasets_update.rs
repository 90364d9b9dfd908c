//! Updating a dataset with PUT (checklist items 37–40, 44, 47–50): changed fields and their
//! validation, owner and organization transfer, privacy, deleted datasets, temporal coverage,
//! contact points and access type.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{create, created, get_ok, path_of, put_ok, soft_delete};
use crate::helpers::{TestApp, id_of};

const TRANSFER: &str = "Cannot change owner after creation. Please use transfer feature.";

const CONTACT_POINT_ERROR: &str = "Wrong contact point id or contact point ownership mismatch";

/// Checklist item 37.
#[tokio::test]
async fn put_persists_changes_and_needs_edit_rights() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = app.dataset(&user.key, "Title").await;
    let id = id_of(&ds);
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"description": "new description"}),
    )
    .await;
    assert_eq!(updated["description"], "new description");
    assert_eq!(updated["title"], "Title");
    let read = get_ok(&app, &id, None).await;
    assert_eq!(read["description"], "new description");
    assert_eq!(read["title"], "Title");
    assert!(
        read["last_modified"].as_str().unwrap() > ds["last_modified"].as_str().unwrap(),
        "{} vs {}",
        read["last_modified"],
        ds["last_modified"]
    );
    // Only editors may PUT.
    let bob = app.user("bob@example.org").await;
    let r = app
        .put(&path_of(&id), &bob.key, json!({"description": "hacked"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json(),
        json!({"message": "You do not have the permission to modify that object."})
    );
    let r = app
        .request(
            axum::http::Method::PUT,
            &path_of(&id),
            None,
            Some(&json!({"description": "hacked"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_ok(&app, &id, None).await["description"],
        "new description"
    );
}

/// Checklist item 38.
#[tokio::test]
async fn put_accepts_known_frequencies_and_rejects_others() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "t", "description": "d", "frequency": "annual"}),
        )
        .await,
    );
    let r = app
        .put(&path_of(&id), &user.key, json!({"frequency": 1}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"message": "'1' is not a valid UpdateFrequency"})
    );
    let r = app
        .put(&path_of(&id), &user.key, json!({"frequency": "foo"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"message": "'foo' is not a valid UpdateFrequency"})
    );
    assert_eq!(get_ok(&app, &id, None).await["frequency"], "annual");
    let updated = put_ok(&app, &id, &user.key, json!({"frequency": "monthly"})).await;
    assert_eq!(updated["frequency"], "monthly");
    assert_eq!(get_ok(&app, &id, None).await["frequency"], "monthly");
}

/// Checklist item 39.
#[tokio::test]
async fn put_with_another_id_keeps_the_id() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let other = "7776aa373aa050e302b5714d";
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"id": other, "description": "changed"}),
    )
    .await;
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["description"], "changed");
    assert_eq!(get_ok(&app, &id, None).await["description"], "changed");
    assert_eq!(
        app.get(&path_of(other), None).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Checklist item 40.
#[tokio::test]
async fn only_sysadmin_can_change_organization() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let first = app.organization(&user.key, "First org").await;
    let second = app.organization(&user.key, "Second org").await;
    let id = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "t", "description": "d", "organization": first}),
        )
        .await,
    );
    // Even an admin of both organizations cannot move it.
    let r = app
        .put(
            &path_of(&id),
            &user.key,
            json!({"organization": {"id": second}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json(), json!({"errors": {"organization": [TRANSFER]}}));
    assert_eq!(
        get_ok(&app, &id, None).await["organization"]["id"],
        first.as_str()
    );
    // Sending the current organization back is fine.
    put_ok(
        &app,
        &id,
        &user.key,
        json!({"organization": first, "description": "same org"}),
    )
    .await;
    // A sysadmin can.
    let updated = put_ok(
        &app,
        &id,
        &app.admin_key,
        json!({"organization": {"id": second}}),
    )
    .await;
    assert_eq!(updated["organization"]["id"], second.as_str());
    assert_eq!(updated["owner"], Value::Null);
    assert_eq!(
        get_ok(&app, &id, None).await["organization"]["id"],
        second.as_str()
    );
}

/// Checklist item 40.
#[tokio::test]
async fn only_sysadmin_can_change_owner() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let r = app
        .put(&path_of(&id), &user.key, json!({"owner": bob.id}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json(), json!({"errors": {"owner": [TRANSFER]}}));
    assert_eq!(
        get_ok(&app, &id, None).await["owner"]["id"],
        user.id.as_str()
    );
    let updated = put_ok(&app, &id, &app.admin_key, json!({"owner": bob.id})).await;
    assert_eq!(updated["owner"]["id"], bob.id.as_str());
}

/// Checklist item 44.
#[tokio::test]
async fn put_keeps_private_unless_given_and_null_means_public() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "t", "description": "d", "private": true}),
        )
        .await,
    );
    let updated = put_ok(&app, &id, &user.key, json!({"description": "new"})).await;
    assert_eq!(updated["private"], true);
    assert_eq!(
        app.get(&path_of(&id), None).await.status,
        StatusCode::NOT_FOUND
    );
    let updated = put_ok(&app, &id, &user.key, json!({"private": null})).await;
    assert_eq!(updated["private"], false);
    assert_eq!(get_ok(&app, &id, None).await["private"], false);
    let updated = put_ok(&app, &id, &user.key, json!({"private": true})).await;
    assert_eq!(updated["private"], true);
    assert_eq!(get_ok(&app, &id, Some(&user.key)).await["private"], true);
    let updated = put_ok(&app, &id, &user.key, json!({"private": false})).await;
    assert_eq!(updated["private"], false);
}

/// Checklist item 47.
#[tokio::test]
async fn put_on_deleted_dataset_is_gone_and_changes_nothing() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    soft_delete(&app, &id, &user.key).await;
    let before = get_ok(&app, &id, Some(&user.key)).await;
    for body in [
        json!({"description": "new description"}),
        json!({"description": "new description", "deleted": "2024-01-01T00:00:00"}),
    ] {
        let r = app.put(&path_of(&id), &user.key, body).await;
        assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
        assert_eq!(r.json(), json!({"message": "Dataset has been deleted"}));
    }
    // The 410 comes before the permission check.
    let bob = app.user("bob@example.org").await;
    let r = app
        .put(&path_of(&id), &bob.key, json!({"description": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    let after = get_ok(&app, &id, Some(&user.key)).await;
    assert_eq!(after["description"], before["description"]);
    assert_eq!(after["deleted"], before["deleted"]);
    assert_eq!(after["last_modified"], before["last_modified"]);
}

/// Checklist item 48.
#[tokio::test]
async fn temporal_coverage_end_can_be_cleared_and_reversed_bounds_are_swapped() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"temporal_coverage": {"start": "2024-01-01", "end": "2024-01-31"}}),
    )
    .await;
    assert_eq!(
        updated["temporal_coverage"],
        json!({"start": "2024-01-01", "end": "2024-01-31"})
    );
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"temporal_coverage": {"start": "2024-01-01", "end": null}}),
    )
    .await;
    assert_eq!(
        updated["temporal_coverage"],
        json!({"start": "2024-01-01", "end": null})
    );
    assert_eq!(
        get_ok(&app, &id, None).await["temporal_coverage"],
        json!({"start": "2024-01-01", "end": null})
    );
    assert_eq!(
        get_ok(&app, &id, None).await["quality"]["temporal_coverage"],
        true
    );
    // Reversed bounds are swapped.
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"temporal_coverage": {"start": "2024-12-31", "end": "2024-01-01"}}),
    )
    .await;
    assert_eq!(
        updated["temporal_coverage"],
        json!({"start": "2024-01-01", "end": "2024-12-31"})
    );
}

/// Checklist item 49.
#[tokio::test]
async fn unknown_contact_point_is_rejected() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let r = app
        .put(
            &path_of(&id),
            &user.key,
            json!({"contact_points": ["5f0000000000000000000001"], "description": "changed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["errors"]["contact_points"][0], CONTACT_POINT_ERROR);
    assert_eq!(
        get_ok(&app, &id, None).await["description"],
        "A test dataset"
    );
    // On creation too.
    let r = create(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "contact_points": ["5f0000000000000000000001"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["errors"]["contact_points"][0], CONTACT_POINT_ERROR);
    // No contact point (empty or null) is fine.
    let updated = put_ok(&app, &id, &user.key, json!({"contact_points": []})).await;
    assert_eq!(updated["contact_points"], json!([]));
    let updated = put_ok(&app, &id, &user.key, json!({"contact_points": null})).await;
    assert_eq!(updated["contact_points"], json!([]));
}

/// Checklist item 50.
#[tokio::test]
async fn restricted_access_resets_license() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "t", "description": "d", "license": "cc-by"}),
        )
        .await,
    );
    let updated = put_ok(&app, &id, &user.key, json!({"access_type": "restricted"})).await;
    assert_eq!(updated["access_type"], "restricted");
    assert_eq!(updated["license"], "notspecified");
    let read = get_ok(&app, &id, None).await;
    assert_eq!(read["access_type"], "restricted");
    assert_eq!(read["license"], "notspecified");
    assert_eq!(read["quality"]["license"], false);
    // A license sent with a non-open access type is dropped as well.
    let updated = put_ok(&app, &id, &user.key, json!({"license": "cc-by"})).await;
    assert_eq!(updated["license"], "notspecified");
}

/// Checklist item 50.
#[tokio::test]
async fn access_audiences_round_trip_and_duplicate_roles_are_rejected() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let audiences = json!([
        {"role": "local_authority_and_administration", "condition": "yes"},
        {"role": "company_and_association", "condition": "no"},
        {"role": "private", "condition": "under_condition"}
    ]);
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"access_type": "restricted", "access_audiences": audiences,
               "authorization_request_url": "https://example.org"}),
    )
    .await;
    assert_eq!(updated["access_audiences"], audiences);
    assert_eq!(updated["authorization_request_url"], "https://example.org");
    assert_eq!(get_ok(&app, &id, None).await["access_audiences"], audiences);
    let r = app
        .put(
            &path_of(&id),
            &user.key,
            json!({"access_audiences": [
                {"role": "local_authority_and_administration", "condition": "yes"},
                {"role": "local_authority_and_administration", "condition": "no"}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // udata's text (Dataset.clean); udata reports it under `__all__`, rudata under the field.
    assert_eq!(
        r.json()["errors"]["access_audiences"],
        json!(["You can only set one condition for a given access audience role"])
    );
    assert_eq!(get_ok(&app, &id, None).await["access_audiences"], audiences);
}
