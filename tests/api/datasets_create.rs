//! Dataset creation (checklist items 10–23): form errors, owner and organization, required
//! fields, tags, extras, inline resources, spatial coverage, frequencies, defaults and slugs.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{
    create, created, get_ok, path_of, put_ok, resource_ids, total_datasets,
};
use crate::helpers::{TestApp, id_of};

const REQUIRED: &str = "This field is required.";

/// A valid GeoJSON MultiPolygon (udata's test sample shape).
fn sample_geom() -> Value {
    json!({
        "type": "MultiPolygon",
        "coordinates": [
            [[[102.0, 2.0], [103.0, 2.0], [103.0, 3.0], [102.0, 3.0], [102.0, 2.0]]],
            [
                [[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 1.0], [100.0, 0.0]],
                [[100.2, 0.2], [100.8, 0.2], [100.8, 0.8], [100.2, 0.8], [100.2, 0.2]]
            ]
        ]
    })
}

/// Checklist item 10.
#[tokio::test]
async fn create_form_errors_are_lists_of_strings_without_message() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = create(&app, &user.key, json!({"description": "d", "tags": ["ab"]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let body = r.json();
    assert_eq!(body["errors"]["title"], json!([REQUIRED]));
    assert_eq!(
        body["errors"]["tags"],
        json!(["Tag \"ab\" must be between 3 and 96 characters long."])
    );
    for (field, msgs) in body["errors"].as_object().unwrap() {
        let msgs = msgs.as_array().unwrap_or_else(|| panic!("{field}: {msgs}"));
        assert!(msgs.iter().all(Value::is_string), "{field}: {msgs:?}");
    }
    assert!(body.get("message").is_none(), "{body}");
    assert_eq!(total_datasets(&app).await, 0);
}

/// Checklist item 11.
#[tokio::test]
async fn create_as_user_makes_the_user_owner() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = create(
        &app,
        &user.key,
        json!({"title": "My dataset", "description": "Some data"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ds = r.json();
    assert_eq!(ds["owner"]["id"], user.id.as_str());
    assert_eq!(ds["owner"]["class"], "User");
    assert_eq!(ds["organization"], Value::Null);
    assert_eq!(ds["title"], "My dataset");
    assert_eq!(ds["description"], "Some data");
    assert!(ds["id"].as_str().unwrap().len() == 24, "{ds}");
    assert_eq!(ds["permissions"]["edit"], true);
    // It is persisted.
    let read = get_ok(&app, &id_of(&ds), None).await;
    assert_eq!(read["owner"]["id"], user.id.as_str());
    assert_eq!(read["organization"], Value::Null);
    assert_eq!(total_datasets(&app).await, 1);
}

/// Checklist item 12.
#[tokio::test]
async fn editor_creates_for_their_organization() {
    let app = TestApp::new().await;
    let admin = app.user("boss@example.org").await;
    let editor = app.user("editor@example.org").await;
    let org = app.organization(&admin.key, "My Org").await;
    app.add_member(&org, &editor, "editor").await;
    let r = create(
        &app,
        &editor.key,
        json!({"title": "Org data", "description": "d", "organization": org}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ds = r.json();
    assert_eq!(ds["organization"]["id"], org.as_str());
    assert_eq!(ds["organization"]["class"], "Organization");
    assert_eq!(ds["owner"], Value::Null);
    let read = get_ok(&app, &id_of(&ds), None).await;
    assert_eq!(read["organization"]["id"], org.as_str());
    assert_eq!(read["owner"], Value::Null);
    // The `{"id": ...}` form is accepted too.
    let ds = created(
        &app,
        &editor.key,
        json!({"title": "Org data 2", "description": "d", "organization": {"id": org}}),
    )
    .await;
    assert_eq!(ds["organization"]["id"], org.as_str());
    assert_eq!(ds["owner"], Value::Null);
}

/// Checklist item 13.
#[tokio::test]
async fn create_for_foreign_or_unknown_organization_is_rejected() {
    let app = TestApp::new().await;
    let admin = app.user("boss@example.org").await;
    let stranger = app.user("stranger@example.org").await;
    let org = app.organization(&admin.key, "My Org").await;
    let r = create(
        &app,
        &stranger.key,
        json!({"title": "Squat", "description": "d", "organization": org}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["errors"]["organization"],
        json!(["Permission denied for this organization"])
    );
    // An unknown organization.
    let r = create(
        &app,
        &stranger.key,
        json!({"title": "Squat", "description": "d", "organization": "000000000000000000000000"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["errors"]["organization"],
        json!(["Organization does not exists"])
    );
    assert_eq!(total_datasets(&app).await, 0);
}

/// Checklist item 14.
#[tokio::test]
async fn create_without_title_or_description_is_rejected() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = create(&app, &user.key, json!({"description": "d"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json(), json!({"errors": {"title": [REQUIRED]}}));
    let r = create(&app, &user.key, json!({"title": "t"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json(), json!({"errors": {"description": [REQUIRED]}}));
    let r = create(&app, &user.key, json!({"title": "", "description": ""})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["errors"]["title"], json!([REQUIRED]));
    assert_eq!(r.json()["errors"]["description"], json!([REQUIRED]));
    let r = create(
        &app,
        &user.key,
        json!({"title": "x".repeat(351), "description": "d"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["errors"]["title"],
        json!(["Field cannot be longer than 350 characters."])
    );
    assert_eq!(total_datasets(&app).await, 0);
}

/// Checklist item 15.
#[tokio::test]
async fn tags_are_normalized_and_sorted() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "tags": [" Aaa bBB $$ $$-µ  "]}),
    )
    .await;
    assert_eq!(ds["tags"], json!(["aaa-bbb-u"]));
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d",
               "tags": ["A b c", "  Zz-Top ", "ÉTÉ été", "l'eaux", "abc", "ABC"]}),
    )
    .await;
    let expected = json!(["a-b-c", "abc", "ete-ete", "leaux", "zz-top"]);
    assert_eq!(ds["tags"], expected);
    assert_eq!(get_ok(&app, &id_of(&ds), None).await["tags"], expected);
    // A comma-separated string is split.
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "tags": "ghi,abc , def"}),
    )
    .await;
    assert_eq!(ds["tags"], json!(["abc", "def", "ghi"]));
    // Tags set by PUT come back sorted too.
    let ds = put_ok(
        &app,
        &id_of(&ds),
        &user.key,
        json!({"tags": ["zulu", "alpha", "Mike"]}),
    )
    .await;
    assert_eq!(ds["tags"], json!(["alpha", "mike", "zulu"]));
}

/// Checklist item 16.
#[tokio::test]
async fn tags_must_be_3_to_96_characters_after_slugification() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = create(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "tags": ["abc", "ab"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"errors": {"tags": ["Tag \"ab\" must be between 3 and 96 characters long."]}})
    );
    // The length is checked after slugification: "ab-" is "ab".
    let r = create(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "tags": ["ab-"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let long = "a".repeat(97);
    let r = create(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "tags": [long]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["errors"]["tags"],
        json!([format!(
            "Tag \"{long}\" must be between 3 and 96 characters long."
        )])
    );
    assert_eq!(total_datasets(&app).await, 0);
    // The bounds themselves are accepted.
    let max = "b".repeat(96);
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "tags": ["abc", max]}),
    )
    .await;
    assert_eq!(ds["tags"], json!(["abc", max]));
    // PUT checks them as well, and a rejected PUT changes nothing.
    let r = app
        .put(&path_of(&id_of(&ds)), &user.key, json!({"tags": ["xy"]}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        get_ok(&app, &id_of(&ds), None).await["tags"],
        json!(["abc", max])
    );
}

/// Checklist item 17.
#[tokio::test]
async fn extras_keep_their_json_types() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let extras = json!({"integer": 42, "float": 42.5, "whole_float": 42.0, "string": "value",
                        "bool": true, "list": [1, "a"], "dict": {"foo": "bar"}});
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "extras": extras}),
    )
    .await;
    for value in [
        ds["extras"].clone(),
        get_ok(&app, &id_of(&ds), None).await["extras"].clone(),
    ] {
        assert_eq!(value["integer"], 42);
        assert!(value["integer"].is_i64(), "{value}");
        assert_eq!(value["float"], 42.5);
        assert!(value["whole_float"].is_f64(), "{value}");
        assert_eq!(value["whole_float"].as_f64(), Some(42.0));
        assert_eq!(value["string"], "value");
        assert_eq!(value["bool"], true);
        assert_eq!(value["list"], json!([1, "a"]));
        assert_eq!(value["dict"], json!({"foo": "bar"}));
    }
}

/// Checklist item 18.
#[tokio::test]
async fn create_with_inline_resources_keeps_their_order() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let resources: Vec<Value> = (1..=3)
        .map(|i| {
            json!({"title": format!("Resource {i}"), "filetype": "remote", "format": "csv",
                   "url": format!("https://example.com/{i}.csv")})
        })
        .collect();
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "resources": resources}),
    )
    .await;
    let titles: Vec<&str> = ds["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Resource 1", "Resource 2", "Resource 3"]);
    let read = get_ok(&app, &id_of(&ds), None).await;
    assert_eq!(resource_ids(&read), resource_ids(&ds));
    assert_eq!(read["resources"][2]["url"], "https://example.com/3.csv");

    // Resources as an object (dict) are refused, and nothing is created.
    let r = create(
        &app,
        &user.key,
        json!({"title": "t", "description": "d",
               "resources": {"0": resources[0], "1": resources[1]}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["resources"].is_array(), "{}", r.text());
    // An invalid inline resource reports its errors at its index.
    let r = create(
        &app,
        &user.key,
        json!({"title": "t", "description": "d",
               "resources": [resources[0], {"title": "no url", "filetype": "remote"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["errors"]["resources"][1]["url"], json!([REQUIRED]));
    assert_eq!(total_datasets(&app).await, 1);
}

/// Checklist item 19.
#[tokio::test]
async fn create_ignores_client_chosen_resource_ids() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let chosen = "6f1b6b9a-4c5e-4a57-9b39-8a4f5d2a1c01";
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "resources": [
            {"id": chosen, "title": "r", "filetype": "remote", "url": "https://example.com/r.csv"}
        ]}),
    )
    .await;
    let ids = resource_ids(&ds);
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], chosen);
    assert!(uuid::Uuid::parse_str(&ids[0]).is_ok(), "{}", ids[0]);
    assert_eq!(resource_ids(&get_ok(&app, &id_of(&ds), None).await), ids);
    assert_eq!(
        app.get(&format!("/api/1/datasets/r/{chosen}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// Checklist item 20.
#[tokio::test]
async fn spatial_geometry_round_trips_and_invalid_geometry_is_rejected() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "spatial": {"geom": sample_geom()}}),
    )
    .await;
    assert_eq!(ds["spatial"]["geom"], sample_geom());
    assert_eq!(
        get_ok(&app, &id_of(&ds), None).await["spatial"]["geom"],
        sample_geom()
    );
    for geom in [
        json!({"type": "Point", "coordinates": {}}),
        json!({"type": "MultiPolygon", "coordinates": {}}),
        json!({"type": "MultiPolygon", "coordinates": [[[["a", "b"]]]]}),
    ] {
        let r = create(
            &app,
            &user.key,
            json!({"title": "t", "description": "d", "spatial": {"geom": geom}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{geom}: {}", r.text());
        assert!(r.json()["errors"]["spatial"].is_array(), "{}", r.text());
    }
    assert_eq!(total_datasets(&app).await, 1);
}

/// Checklist item 21.
#[tokio::test]
async fn legacy_frequencies_are_mapped_and_unknown_ones_rejected() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    for (legacy, current) in [
        ("realtime", "continuous"),
        ("fourTimesADay", "severalTimesADay"),
        ("fourTimesAWeek", "other"),
        ("fortnighly", "biweekly"),
        ("biannual", "semiannual"),
        ("monthly", "monthly"),
    ] {
        let ds = created(
            &app,
            &user.key,
            json!({"title": "t", "description": "d", "frequency": legacy}),
        )
        .await;
        assert_eq!(ds["frequency"], current, "{legacy}");
        assert_eq!(
            get_ok(&app, &id_of(&ds), None).await["frequency"],
            current,
            "{legacy}"
        );
    }
    let r = create(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "frequency": "foo"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"message": "'foo' is not a valid UpdateFrequency"})
    );
}

/// Checklist item 22.
#[tokio::test]
async fn new_dataset_gets_defaults_and_unknown_license_is_dropped() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = created(
        &app,
        &user.key,
        json!({"title": "L'été à Paris", "description": "d"}),
    )
    .await;
    for ds in [ds.clone(), get_ok(&app, &id_of(&ds), None).await] {
        assert_eq!(ds["private"], false);
        assert_eq!(ds["deleted"], Value::Null);
        assert_eq!(ds["archived"], Value::Null);
        assert_eq!(ds["featured"], false);
        assert_eq!(ds["frequency"], "unknown");
        assert_eq!(ds["license"], "notspecified");
        assert_eq!(ds["access_type"], "open");
        assert_eq!(ds["slug"], "lete-a-paris");
        assert_eq!(ds["tags"], json!([]));
        assert_eq!(ds["extras"], json!({}));
        assert_eq!(ds["resources"], json!([]));
        assert_eq!(ds["temporal_coverage"], Value::Null);
        assert_eq!(ds["spatial"], Value::Null);
        assert_eq!(ds["quality"]["license"], false);
        assert_eq!(ds["uri"], "http://rudata.test/api/1/datasets/lete-a-paris/");
    }
    // A known license is kept; an unknown one is silently dropped (udata's ModelSelectField).
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "license": "cc-by"}),
    )
    .await;
    assert_eq!(ds["license"], "cc-by");
    assert_eq!(ds["quality"]["license"], true);
    let ds = created(
        &app,
        &user.key,
        json!({"title": "t", "description": "d", "license": "nope"}),
    )
    .await;
    assert_eq!(ds["license"], "notspecified");
}

/// Checklist item 23.
#[tokio::test]
async fn same_title_gets_numbered_slugs() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let body = json!({"title": "L'été à Paris", "description": "d"});
    let first = created(&app, &user.key, body.clone()).await;
    let second = created(&app, &user.key, body.clone()).await;
    let third = created(&app, &user.key, body).await;
    assert_eq!(first["slug"], "lete-a-paris");
    assert_eq!(second["slug"], "lete-a-paris-1");
    assert_eq!(third["slug"], "lete-a-paris-2");
    // Each slug leads to its own dataset.
    for ds in [&first, &second, &third] {
        let read = get_ok(&app, ds["slug"].as_str().unwrap(), None).await;
        assert_eq!(read["id"], ds["id"]);
    }
}
