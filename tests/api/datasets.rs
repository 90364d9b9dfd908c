//! Datasets: checklist items 10–52 (creation, read and list, filters and search, update, soft
//! delete and restore). Items 53–54 (featured and badges endpoints) are out of scope.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, TestUser};

const TRANSFER: &str = "Cannot change owner after creation. Please use transfer feature.";
const CONTACT_POINT_ERROR: &str = "Wrong contact point id or contact point ownership mismatch";
const REQUIRED: &str = "This field is required.";
const NOT_FOUND: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn path_of(id: &str) -> String {
    format!("/api/1/datasets/{id}/")
}

/// The ids of a list answer's `data`, in order.
fn data_ids(r: &TestResponse) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {}", r.text()))
        .iter()
        .map(id_of)
        .collect()
}

/// The ids listed at `path` for `key`, in order.
async fn list(app: &TestApp, path: &str, key: Option<&str>) -> Vec<String> {
    data_ids(&app.get(path, key).await)
}

/// The same ids as a sorted list (for set comparisons).
fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn create(app: &TestApp, key: &str, body: Value) -> TestResponse {
    app.post("/api/1/datasets/", key, body).await
}

/// Creates a dataset from `body` (201 expected) and returns its JSON.
async fn created(app: &TestApp, key: &str, body: Value) -> Value {
    let r = create(app, key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// Every dataset in the store, seen by the sysadmin (deleted and private ones included).
async fn total_datasets(app: &TestApp) -> i64 {
    let r = app
        .get("/api/1/datasets/?page_size=1000", Some(&app.admin_key))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["total"].as_i64().unwrap()
}

async fn get_ok(app: &TestApp, id: &str, key: Option<&str>) -> Value {
    let r = app.get(&path_of(id), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn put_ok(app: &TestApp, id: &str, key: &str, body: Value) -> Value {
    let r = app.put(&path_of(id), key, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn soft_delete(app: &TestApp, id: &str, key: &str) {
    let r = app.delete(&path_of(id), key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
}

fn resource_ids(dataset: &Value) -> Vec<String> {
    dataset["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}

/// Features a dataset through its operation (its endpoint, item 53, is out of scope here).
async fn set_featured(app: &TestApp, id: &str) {
    rudata::ops::datasets::set_featured(&app.state, id, true)
        .await
        .unwrap();
}

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

// ---------------------------------------------------------------------------------------------
// Item 10: form errors.

#[tokio::test]
async fn item_10_form_errors_are_lists_of_strings_without_message() {
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

// ---------------------------------------------------------------------------------------------
// Items 11–23: creation.

#[tokio::test]
async fn item_11_create_as_user_sets_owner() {
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

#[tokio::test]
async fn item_12_create_for_organization_as_editor() {
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

#[tokio::test]
async fn item_13_create_for_foreign_organization_is_400() {
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

#[tokio::test]
async fn item_14_missing_title_or_description_is_400() {
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

#[tokio::test]
async fn item_15_tags_are_normalized_and_sorted() {
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

#[tokio::test]
async fn item_16_tag_length_bounds() {
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

#[tokio::test]
async fn item_17_extras_round_trip_with_types() {
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

#[tokio::test]
async fn item_18_inline_resources_on_create() {
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

#[tokio::test]
async fn item_19_client_resource_id_is_ignored_on_create() {
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

#[tokio::test]
async fn item_20_spatial_geom_round_trips_and_invalid_geom_is_400() {
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

#[tokio::test]
async fn item_21_legacy_frequencies_are_mapped() {
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

#[tokio::test]
async fn item_22_new_dataset_defaults() {
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

#[tokio::test]
async fn item_23_same_title_gets_distinct_slugs() {
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

// ---------------------------------------------------------------------------------------------
// Items 24–36: read and list.

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

#[tokio::test]
async fn item_24_anonymous_list_shows_only_public_datasets_with_quality() {
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

#[tokio::test]
async fn item_25_get_dataset_has_resources_quality_and_internal() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = app.dataset(&user.key, "Detailed").await;
    let id = id_of(&ds);
    let res = app.remote(&id, &user.key, "A remote file").await;
    let read = get_ok(&app, &id, None).await;
    assert_eq!(read["id"], id.as_str());
    assert_eq!(resource_ids(&read), vec![id_of(&res)]);
    assert_eq!(read["resources"][0]["title"], "A remote file");
    assert!(read["quality"].is_object(), "{read}");
    assert_eq!(read["quality"]["has_resources"], true);
    let internal = &read["internal"];
    for key in ["created_at_internal", "last_modified_internal"] {
        let value = internal[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {read}"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(value).is_ok(),
            "{key}: {value}"
        );
    }
    assert_eq!(read["internal"]["created_at_internal"], read["created_at"]);
    assert_eq!(
        read["internal"]["last_modified_internal"],
        read["last_modified"]
    );
    // Anonymous callers have no rights; the owner has them all.
    assert_eq!(
        read["permissions"],
        json!({"delete": false, "edit": false, "edit_resources": false})
    );
    assert_eq!(
        get_ok(&app, &id, Some(&user.key)).await["permissions"],
        json!({"delete": true, "edit": true, "edit_resources": true})
    );
}

#[tokio::test]
async fn item_26_deleted_dataset_is_410_for_others_200_for_owner() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let id = id_of(&app.dataset(&user.key, "To delete").await);
    soft_delete(&app, &id, &user.key).await;
    for key in [None, Some(bob.key.as_str())] {
        let r = app.get(&path_of(&id), key).await;
        assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
        assert_eq!(r.json(), json!({"message": "Dataset has been deleted"}));
    }
    let read = get_ok(&app, &id, Some(&user.key)).await;
    assert!(read["deleted"].is_string(), "{read}");
    get_ok(&app, &id, Some(&app.admin_key)).await;
}

#[tokio::test]
async fn item_26_deleted_org_dataset_is_readable_by_members() {
    let app = TestApp::new().await;
    let admin = app.user("boss@example.org").await;
    let editor = app.user("editor@example.org").await;
    let org = app.organization(&admin.key, "My Org").await;
    app.add_member(&org, &editor, "editor").await;
    let id = id_of(
        &created(
            &app,
            &admin.key,
            json!({"title": "Org data", "description": "d", "organization": org}),
        )
        .await,
    );
    soft_delete(&app, &id, &admin.key).await;
    assert_eq!(app.get(&path_of(&id), None).await.status, StatusCode::GONE);
    get_ok(&app, &id, Some(&editor.key)).await;
}

#[tokio::test]
async fn item_27_private_dataset_is_404_for_others_200_for_owner() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let ds = created(
        &app,
        &user.key,
        json!({"title": "Secret", "description": "d", "private": true}),
    )
    .await;
    assert_eq!(ds["private"], true);
    let id = id_of(&ds);
    for key in [None, Some(bob.key.as_str())] {
        let r = app.get(&path_of(&id), key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
        assert_eq!(r.json()["message"], NOT_FOUND);
    }
    // Also by slug.
    assert_eq!(
        app.get("/api/1/datasets/secret/", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get_ok(&app, &id, Some(&user.key)).await["private"], true);
    get_ok(&app, &id, Some(&app.admin_key)).await;
    // Private and deleted: still 404 (not 410) for others.
    soft_delete(&app, &id, &user.key).await;
    assert_eq!(
        app.get(&path_of(&id), None).await.status,
        StatusCode::NOT_FOUND
    );
    get_ok(&app, &id, Some(&user.key)).await;
}

#[tokio::test]
async fn item_28_archived_dataset_is_readable_but_not_searchable() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let archived = id_of(&app.dataset(&user.key, "Zebra archive").await);
    let live = id_of(&app.dataset(&user.key, "Zebra live").await);
    put_ok(
        &app,
        &archived,
        &user.key,
        json!({"archived": "2024-01-01T00:00:00+00:00"}),
    )
    .await;
    let read = get_ok(&app, &archived, None).await;
    assert_eq!(read["archived"], "2024-01-01T00:00:00+00:00");
    assert_eq!(
        list(&app, "/api/1/datasets/?q=zebra", None).await,
        vec![live.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?q=archive", None).await,
        Vec::<String>::new()
    );
    assert_eq!(list(&app, "/api/1/datasets/", None).await, vec![live]);
    // Unarchiving brings it back.
    put_ok(&app, &archived, &user.key, json!({"archived": null})).await;
    assert_eq!(
        list(&app, "/api/1/datasets/?q=archive", None).await,
        vec![archived]
    );
}

#[tokio::test]
async fn item_29_lookup_by_id_slug_and_old_slug() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let r = app
        .get("/api/1/datasets/000000000000000000000000/", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({"message": NOT_FOUND}));
    assert_eq!(
        app.get("/api/1/datasets/no-such-slug/", None).await.status,
        StatusCode::NOT_FOUND
    );
    let ds = app.dataset(&user.key, "First name").await;
    let id = id_of(&ds);
    assert_eq!(ds["slug"], "first-name");
    assert_eq!(get_ok(&app, "first-name", None).await["id"], id.as_str());
    // Without the trailing slash too (rudata answers both directly).
    let r = app.get("/api/1/datasets/first-name", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], id.as_str());
    // A new title renames the slug; the old one redirects.
    let renamed = put_ok(&app, &id, &user.key, json!({"title": "Second name"})).await;
    assert_eq!(renamed["slug"], "second-name");
    let r = app.get("/api/1/datasets/first-name/", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/1/datasets/second-name/")
    );
    let r = app.get("/api/1/datasets/first-name", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/1/datasets/second-name/")
    );
    assert_eq!(get_ok(&app, "second-name", None).await["id"], id.as_str());
    // An old slug equal to a path segment of the prefix only replaces the key segment.
    let api = id_of(&app.dataset(&user.key, "API").await);
    put_ok(&app, &api, &user.key, json!({"title": "Renamed API"})).await;
    let r = app.get("/api/1/datasets/api/", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/1/datasets/renamed-api/")
    );
}

#[tokio::test]
async fn item_30_restricted_filters_need_auth_and_select_subsets() {
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

#[tokio::test]
async fn item_31_owner_list_includes_own_hidden_datasets() {
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

#[tokio::test]
async fn item_32_filter_by_tags_is_an_and() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let tagged =
        |title: &str, tags: Value| json!({"title": title, "description": "d", "tags": tags});
    let one = id_of(
        &created(
            &app,
            &user.key,
            tagged("one", json!(["my-tag-shared", "my-tag-1"])),
        )
        .await,
    );
    let two = id_of(
        &created(
            &app,
            &user.key,
            tagged("two", json!(["my-tag-shared", "my-tag-2"])),
        )
        .await,
    );
    created(&app, &user.key, tagged("three", json!(["other"]))).await;
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?tag=my-tag-shared", None).await),
        sorted(vec![one.clone(), two.clone()])
    );
    assert_eq!(
        list(
            &app,
            "/api/1/datasets/?tag=my-tag-shared&tag=my-tag-1",
            None
        )
        .await,
        vec![one.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?tag=my-tag-2", None).await,
        vec![two]
    );
    assert!(
        list(&app, "/api/1/datasets/?tag=my-tag-1&tag=my-tag-2", None)
            .await
            .is_empty()
    );
    assert!(
        list(&app, "/api/1/datasets/?tag=unknown", None)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn item_32_filter_by_format_license_and_featured() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let plain = id_of(&app.dataset(&user.key, "plain").await);
    let with_format = id_of(&app.dataset(&user.key, "with format").await);
    let r = app
        .post(
            &format!("/api/1/datasets/{with_format}/resources/"),
            &user.key,
            json!({"title": "r", "filetype": "remote", "format": "My-Format",
                   "url": "https://example.com/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.remote(&plain, &user.key, "csv one").await;
    let licensed = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "licensed", "description": "d", "license": "cc-by"}),
        )
        .await,
    );
    let featured = id_of(&app.dataset(&user.key, "featured").await);
    set_featured(&app, &featured).await;
    assert_eq!(get_ok(&app, &featured, None).await["featured"], true);
    let all = vec![
        plain.clone(),
        with_format.clone(),
        licensed.clone(),
        featured.clone(),
    ];

    assert_eq!(
        list(&app, "/api/1/datasets/?format=my-format", None).await,
        vec![with_format.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?format=csv", None).await,
        vec![plain.clone()]
    );
    assert!(
        list(&app, "/api/1/datasets/?format=pdf", None)
            .await
            .is_empty()
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?license=cc-by", None).await,
        vec![licensed.clone()]
    );
    assert!(
        list(&app, "/api/1/datasets/?license=lov2", None)
            .await
            .is_empty()
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?featured=true", None).await,
        vec![featured.clone()]
    );
    let not_featured: Vec<String> = all.iter().filter(|i| **i != featured).cloned().collect();
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?featured=false", None).await),
        sorted(not_featured)
    );
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/", None).await),
        sorted(all)
    );
}

#[tokio::test]
async fn item_33_filter_by_owner_and_organization() {
    let app = TestApp::new().await;
    let alice = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let org = app.organization(&bob.key, "Bob's org").await;
    let alice_ds = id_of(&app.dataset(&alice.key, "alice's").await);
    let bob_ds = id_of(&app.dataset(&bob.key, "bob's").await);
    let org_ds = id_of(
        &created(
            &app,
            &bob.key,
            json!({"title": "org's", "description": "d", "organization": org}),
        )
        .await,
    );
    assert_eq!(
        list(&app, &format!("/api/1/datasets/?owner={}", alice.id), None).await,
        vec![alice_ds]
    );
    assert_eq!(
        list(&app, &format!("/api/1/datasets/?owner={}", bob.id), None).await,
        vec![bob_ds]
    );
    assert_eq!(
        list(&app, &format!("/api/1/datasets/?organization={org}"), None).await,
        vec![org_ds]
    );
    assert!(
        list(
            &app,
            "/api/1/datasets/?organization=000000000000000000000000",
            None
        )
        .await
        .is_empty()
    );
    // Not ObjectIds.
    let r = app.get("/api/1/datasets/?owner=owner-id", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["message"], "Owner arg must be an identifier");
    let r = app.get("/api/1/datasets/?organization=org-id", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        "Organization arg must be an identifier"
    );
}

#[tokio::test]
async fn item_34_sort_by_created() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let first = id_of(&app.dataset(&user.key, "b first").await);
    let second = id_of(&app.dataset(&user.key, "c second").await);
    let third = id_of(&app.dataset(&user.key, "a third").await);
    let oldest_first = vec![first.clone(), second.clone(), third.clone()];
    let newest_first = vec![third, second, first];
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=created", None).await,
        oldest_first
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=-created", None).await,
        newest_first
    );
    // `-created` is the default.
    assert_eq!(list(&app, "/api/1/datasets/", None).await, newest_first);
    // An unknown sort key is a parser error.
    let r = app.get("/api/1/datasets/?sort=nope", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let body = r.json();
    assert!(body["errors"]["sort"].is_string(), "{body}");
    assert_eq!(body["message"], "Input payload validation failed");
}

#[tokio::test]
async fn item_34_sort_by_last_update_follows_resources() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let older = id_of(&app.dataset(&user.key, "older").await);
    let newer = id_of(&app.dataset(&user.key, "newer").await);
    // A resource added to the older dataset makes it the most recently updated.
    app.remote(&older, &user.key, "fresh").await;
    let a = get_ok(&app, &older, None).await;
    let b = get_ok(&app, &newer, None).await;
    assert!(
        a["last_update"].as_str().unwrap() > b["last_update"].as_str().unwrap(),
        "{} vs {}",
        a["last_update"],
        b["last_update"]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=-last_update", None).await,
        vec![older.clone(), newer.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=last_update", None).await,
        vec![newer.clone(), older.clone()]
    );
    // The creation order is the other way round.
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=-created", None).await,
        vec![newer, older]
    );
}

#[tokio::test]
async fn item_34_sort_by_title() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let b = id_of(&app.dataset(&user.key, "Bravo").await);
    let a = id_of(&app.dataset(&user.key, "Alpha").await);
    let c = id_of(&app.dataset(&user.key, "Charlie").await);
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=title", None).await,
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?sort=-title", None).await,
        vec![c, b, a]
    );
}

#[tokio::test]
async fn item_35_search_is_accent_insensitive_and_an_and() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    app.dataset(&user.key, "Unrelated one").await;
    app.dataset(&user.key, "Unrelated two").await;
    let integer = id_of(&app.dataset(&user.key, "some spécial integer").await);
    let float = id_of(&app.dataset(&user.key, "some spécial float").await);
    let chars = id_of(&app.dataset(&user.key, "some spécial chars").await);
    let three = sorted(vec![integer.clone(), float, chars.clone()]);
    assert_eq!(
        list(&app, "/api/1/datasets/?q=some%20sp%C3%A9cial%20chars", None).await,
        vec![chars.clone()]
    );
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?q=sp%C3%A9cial", None).await),
        three
    );
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?q=special", None).await),
        three
    );
    assert_eq!(
        sorted(list(&app, "/api/1/datasets/?q=SPECIAL", None).await),
        three
    );
    // Every word must match.
    assert_eq!(
        list(&app, "/api/1/datasets/?q=special+integer", None).await,
        vec![integer]
    );
    assert!(
        list(&app, "/api/1/datasets/?q=special+unrelated", None)
            .await
            .is_empty()
    );
    // The acronym is searched too.
    let acronym = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "Base adresse", "acronym": "BAN", "description": "d"}),
        )
        .await,
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?q=ban", None).await,
        vec![acronym]
    );
    // Searching applies the visibility rule.
    created(
        &app,
        &user.key,
        json!({"title": "special private", "description": "d", "private": true}),
    )
    .await;
    assert_eq!(
        list(&app, "/api/1/datasets/?q=special+private", None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(&app, "/api/1/datasets/?q=special+private", Some(&user.key))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn item_36_pagination() {
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

// ---------------------------------------------------------------------------------------------
// Items 37–52: update, delete, restore.

#[tokio::test]
async fn item_37_put_description_is_persisted() {
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

#[tokio::test]
async fn item_38_put_frequency() {
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

#[tokio::test]
async fn item_39_put_with_another_id_keeps_the_id() {
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

#[tokio::test]
async fn item_40_changing_organization_needs_a_sysadmin() {
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

#[tokio::test]
async fn item_40_changing_owner_needs_a_sysadmin() {
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

#[tokio::test]
async fn item_41_get_then_put_keeps_resource_ids_and_order() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "Round trip").await);
    app.remote(&id, &user.key, "first").await;
    let r = app.upload(&id, &user.key, "test.txt", b"aaa").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.remote(&id, &user.key, "third").await;
    let before = get_ok(&app, &id, Some(&user.key)).await;
    let ids = resource_ids(&before);
    assert_eq!(ids.len(), 3);
    let after = put_ok(&app, &id, &user.key, before.clone()).await;
    assert_eq!(resource_ids(&after), ids);
    let read = get_ok(&app, &id, Some(&user.key)).await;
    assert_eq!(resource_ids(&read), ids);
    for (a, b) in before["resources"]
        .as_array()
        .unwrap()
        .iter()
        .zip(read["resources"].as_array().unwrap())
    {
        for key in [
            "title", "url", "filetype", "format", "checksum", "filesize", "mime",
        ] {
            assert_eq!(a[key], b[key], "{key}");
        }
    }
    assert_eq!(read["title"], before["title"]);
    assert_eq!(read["slug"], before["slug"]);
    assert_eq!(read["owner"]["id"], user.id.as_str());
}

#[tokio::test]
async fn item_42_put_resource_with_unknown_or_malformed_id() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let existing = id_of(&app.remote(&id, &user.key, "existing").await);
    let unknown = "0b0e5f3c-8a3e-4d7a-9a4c-2f8a9d7e6b51";
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"resources": [
            {"id": existing, "title": "existing"},
            {"id": unknown, "title": "added", "filetype": "remote", "url": "https://example.com/a.csv"}
        ]}),
    )
    .await;
    let ids = resource_ids(&updated);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], existing);
    assert_ne!(ids[1], unknown);
    assert_eq!(updated["resources"][1]["title"], "added");
    assert_eq!(resource_ids(&get_ok(&app, &id, None).await), ids);

    let r = app
        .put(
            &path_of(&id),
            &user.key,
            json!({"resources": [
                {"id": "not-an-uuid", "title": "bad", "filetype": "remote", "url": "https://example.com/b.csv"}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["resources"].is_array(), "{}", r.text());
    assert_eq!(resource_ids(&get_ok(&app, &id, None).await), ids);
}

#[tokio::test]
async fn item_43_put_cannot_take_another_datasets_resource_id() {
    let app = TestApp::new().await;
    let victim_owner = app.user("victim@example.org").await;
    let user = app.user("alice@example.org").await;
    let victim = id_of(&app.dataset(&victim_owner.key, "victim").await);
    let victim_res = app.remote(&victim, &victim_owner.key, "victim's").await;
    let victim_rid = id_of(&victim_res);
    let id = id_of(&app.dataset(&user.key, "squatter").await);
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"resources": [
            {"id": victim_rid, "title": "squat", "filetype": "remote", "url": "https://evil.example.com/x"}
        ]}),
    )
    .await;
    let ids = resource_ids(&updated);
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], victim_rid);
    // The victim is untouched, and its permalink still leads to its own URL.
    let victim_read = get_ok(&app, &victim, None).await;
    assert_eq!(resource_ids(&victim_read), vec![victim_rid.clone()]);
    assert_eq!(victim_read["resources"][0]["title"], "victim's");
    assert_eq!(victim_read["resources"][0]["url"], victim_res["url"]);
    let r = app
        .get(&format!("/api/1/datasets/r/{victim_rid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.header("location").as_deref(), victim_res["url"].as_str());
}

#[tokio::test]
async fn item_44_put_private_semantics() {
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

#[tokio::test]
async fn item_45_put_keeps_omitted_resources_and_extras() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(
        &created(
            &app,
            &user.key,
            json!({"title": "t", "description": "d",
                   "extras": {"integer": 42, "float": 42.5, "string": "value"}}),
        )
        .await,
    );
    for i in 0..3 {
        app.remote(&id, &user.key, &format!("r{i}")).await;
    }
    let ids = resource_ids(&get_ok(&app, &id, None).await);
    let updated = put_ok(&app, &id, &user.key, json!({"description": "other"})).await;
    assert_eq!(resource_ids(&updated), ids);
    assert_eq!(
        updated["extras"],
        json!({"integer": 42, "float": 42.5, "string": "value"})
    );
    let read = get_ok(&app, &id, None).await;
    assert_eq!(resource_ids(&read), ids);
    assert_eq!(read["extras"]["integer"], 42);
    // New extras replace the old ones; `{}` clears them.
    let updated = put_ok(&app, &id, &user.key, json!({"extras": {"other": "x"}})).await;
    assert_eq!(updated["extras"], json!({"other": "x"}));
    let updated = put_ok(&app, &id, &user.key, json!({"extras": {}})).await;
    assert_eq!(updated["extras"], json!({}));
    assert_eq!(get_ok(&app, &id, None).await["extras"], json!({}));
    // A given `resources` list replaces the set: left-out resources are dropped.
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"resources": [{"id": ids[2]}, {"id": ids[0]}]}),
    )
    .await;
    assert_eq!(resource_ids(&updated), vec![ids[2].clone(), ids[0].clone()]);
    assert_eq!(
        resource_ids(&get_ok(&app, &id, None).await),
        vec![ids[2].clone(), ids[0].clone()]
    );
}

#[tokio::test]
async fn item_46_put_stale_hosted_resource_fields_are_ignored() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    let r = app.upload(&id, &user.key, "test.txt", b"aaa").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let hosted = r.json();
    let rid = id_of(&hosted);
    let updated = put_ok(
        &app,
        &id,
        &user.key,
        json!({"resources": [{
            "id": rid,
            "title": "new title",
            "url": "https://example.com/other.pdf",
            "checksum": {"type": "sha1", "value": "0".repeat(40)},
            "filesize": 4,
            "filetype": "remote",
            "mime": "application/pdf",
            "format": "pdf"
        }]}),
    )
    .await;
    for res in [
        updated["resources"][0].clone(),
        get_ok(&app, &id, None).await["resources"][0].clone(),
    ] {
        assert_eq!(res["id"], rid.as_str());
        assert_eq!(res["title"], "new title");
        for key in ["url", "checksum", "filesize", "filetype", "mime", "format"] {
            assert_eq!(res[key], hosted[key], "{key}");
        }
        assert_eq!(res["filetype"], "file");
        assert_eq!(res["filesize"], 3);
        assert_eq!(
            res["checksum"],
            json!({"type": "sha1", "value": "7e240de74fb1ed08fa08d38063f6a6a91462a815"})
        );
    }
}

#[tokio::test]
async fn item_47_put_on_deleted_dataset_is_410() {
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

#[tokio::test]
async fn item_48_temporal_coverage_end_can_be_cleared() {
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

#[tokio::test]
async fn item_49_unknown_contact_point_is_400() {
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

#[tokio::test]
async fn item_50_restricted_access_resets_license() {
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

#[tokio::test]
async fn item_50_access_audiences() {
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

#[tokio::test]
async fn item_51_delete_is_soft() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    app.remote(&id, &user.key, "kept").await;
    assert_eq!(
        list(&app, "/api/1/datasets/", Some(&bob.key)).await,
        vec![id.clone()]
    );
    // Unauthenticated: 401; a stranger: 403.
    let r = app
        .request(axum::http::Method::DELETE, &path_of(&id), None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.delete(&path_of(&id), &bob.key).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json(),
        json!({"message": "You do not have the permission to modify that object."})
    );

    let r = app.delete(&path_of(&id), &user.key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    // Still there for its owner, with `deleted` set and its resources.
    let read = get_ok(&app, &id, Some(&user.key)).await;
    let deleted = read["deleted"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(deleted).is_ok(),
        "{deleted}"
    );
    assert_eq!(read["resources"].as_array().unwrap().len(), 1);
    assert_eq!(total_datasets(&app).await, 1);
    // Gone from the others' lists.
    assert!(
        list(&app, "/api/1/datasets/", Some(&bob.key))
            .await
            .is_empty()
    );
    assert!(list(&app, "/api/1/datasets/", None).await.is_empty());
    // A second DELETE: 410 (before permissions).
    for key in [&user.key, &bob.key] {
        let r = app.delete(&path_of(&id), key).await;
        assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
        assert_eq!(r.json(), json!({"message": "Dataset has been deleted"}));
    }
    // Without the trailing slash as well (DESIGN §3.6).
    let id2 = id_of(&app.dataset(&user.key, "t2").await);
    let r = app
        .delete(&format!("/api/1/datasets/{id2}"), &user.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path_of(&id2), None).await.status, StatusCode::GONE);
}

#[tokio::test]
async fn item_51_org_members_and_sysadmin_may_delete() {
    let app = TestApp::new().await;
    let boss = app.user("boss@example.org").await;
    let editor = app.user("editor@example.org").await;
    let org = app.organization(&boss.key, "Org").await;
    app.add_member(&org, &editor, "editor").await;
    let body = json!({"title": "t", "description": "d", "organization": org});
    let a = id_of(&created(&app, &boss.key, body.clone()).await);
    let b = id_of(&created(&app, &boss.key, body).await);
    soft_delete(&app, &a, &editor.key).await;
    soft_delete(&app, &b, &app.admin_key).await;
    assert!(list(&app, "/api/1/datasets/", None).await.is_empty());
}

#[tokio::test]
async fn item_52_restore_with_deleted_null() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let bob = app.user("bob@example.org").await;
    let id = id_of(&app.dataset(&user.key, "t").await);
    soft_delete(&app, &id, &user.key).await;
    // A stranger cannot restore it.
    let r = app
        .put(&path_of(&id), &bob.key, json!({"deleted": null}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(app.get(&path_of(&id), None).await.status, StatusCode::GONE);
    // The owner can, with other changes in the same body.
    let restored = put_ok(
        &app,
        &id,
        &user.key,
        json!({"deleted": null, "description": "back"}),
    )
    .await;
    assert_eq!(restored["deleted"], Value::Null);
    assert_eq!(restored["description"], "back");
    let read = get_ok(&app, &id, None).await;
    assert_eq!(read["deleted"], Value::Null);
    assert_eq!(read["description"], "back");
    assert_eq!(list(&app, "/api/1/datasets/", None).await, vec![id.clone()]);
    // It can be edited and deleted again normally.
    put_ok(&app, &id, &user.key, json!({"title": "again"})).await;
    soft_delete(&app, &id, &user.key).await;
}

#[tokio::test]
async fn item_52_org_member_can_restore() {
    let app = TestApp::new().await;
    let boss = app.user("boss@example.org").await;
    let editor = app.user("editor@example.org").await;
    let org = app.organization(&boss.key, "Org").await;
    app.add_member(&org, &editor, "editor").await;
    let id = id_of(
        &created(
            &app,
            &boss.key,
            json!({"title": "t", "description": "d", "organization": org}),
        )
        .await,
    );
    soft_delete(&app, &id, &boss.key).await;
    let restored = put_ok(&app, &id, &editor.key, json!({"deleted": null})).await;
    assert_eq!(restored["deleted"], Value::Null);
    assert_eq!(get_ok(&app, &id, None).await["deleted"], Value::Null);
}
