//! The v1 list parameters beyond those of `datasets_filters.rs`: resource schemas and formats
//! (kept right through every resource write), spatial zones and granularity, temporal coverage,
//! access type, badges, identifiers that must be object ids, and udata's error shapes.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, list, put_ok, sorted};
use crate::helpers::{TestApp, id_of};

fn ds(title: &str) -> Value {
    json!({"title": title, "description": "d"})
}

/// Adds a remote resource with `extra` fields; returns its id.
async fn resource(app: &TestApp, dataset: &str, key: &str, extra: Value) -> String {
    let mut body = json!({"title": "r", "filetype": "remote", "url": "https://example.com/x"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = app
        .post(&format!("/api/1/datasets/{dataset}/resources/"), key, body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    id_of(&r.json())
}

async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    sorted(list(app, &format!("/api/1/datasets/?{query}"), None).await)
}

#[tokio::test]
async fn schema_and_format_filters_follow_resource_writes() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let a = id_of(&created(&app, &key, ds("a")).await);
    let b = id_of(&created(&app, &key, ds("b")).await);
    let schema = |name: &str, version: &str| json!({"schema": {"name": name, "version": version, "url": "https://schema.example.org/s.json"}});
    let first = resource(&app, &a, &key, json!({"format": "csv"})).await;
    let second = resource(&app, &a, &key, json!({"format": "CSV"})).await;
    let with_schema = resource(&app, &b, &key, schema("etalab/irve", "2.0.0")).await;
    assert_eq!(ids(&app, "format=csv").await, vec![a.clone()]);
    assert_eq!(ids(&app, "schema=etalab/irve").await, vec![b.clone()]);
    assert_eq!(ids(&app, "schema_version=2.0.0").await, vec![b.clone()]);
    assert!(ids(&app, "schema_version=1.0.0").await.is_empty());

    // Two resources hold csv: removing one keeps the dataset under csv.
    let r = app
        .delete(&format!("/api/1/datasets/{a}/resources/{first}/"), &key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(ids(&app, "format=csv").await, vec![a.clone()]);
    // Changing the other's format moves the dataset.
    let r = app
        .put(
            &format!("/api/1/datasets/{a}/resources/{second}/"),
            &key,
            json!({"format": "json"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(ids(&app, "format=csv").await.is_empty());
    assert_eq!(ids(&app, "format=json").await, vec![a.clone()]);
    // A new schema version, then none.
    let path = format!("/api/1/datasets/{b}/resources/{with_schema}/");
    let r = app.put(&path, &key, schema("etalab/irve", "2.1.0")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(ids(&app, "schema_version=2.0.0").await.is_empty());
    assert_eq!(ids(&app, "schema_version=2.1.0").await, vec![b.clone()]);
    let r = app.put(&path, &key, json!({"schema": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(ids(&app, "schema=etalab/irve").await.is_empty());
    // A dataset PUT with its whole resource list rewrites them.
    let current = app.get(&format!("/api/1/datasets/{a}/"), None).await.json();
    let mut resources = current["resources"].as_array().unwrap().clone();
    resources[0]["format"] = json!("xlsx");
    put_ok(&app, &a, &key, json!({"resources": resources})).await;
    assert!(ids(&app, "format=json").await.is_empty());
    assert_eq!(ids(&app, "format=xlsx").await, vec![a.clone()]);
    put_ok(&app, &a, &key, json!({"resources": []})).await;
    assert!(ids(&app, "format=xlsx").await.is_empty());
}

#[tokio::test]
async fn spatial_temporal_and_access_filters() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let paris = id_of(
        &created(
            &app,
            &key,
            json!({"title": "paris", "description": "d",
                   "spatial": {"zones": ["fr:commune:75056", "fr:departement:75"], "granularity": "fr:commune"}}),
        )
        .await,
    );
    let country = id_of(
        &created(
            &app,
            &key,
            json!({"title": "pays", "description": "d", "spatial": {"granularity": "country"}}),
        )
        .await,
    );
    let dated = id_of(
        &created(
            &app,
            &key,
            json!({"title": "dated", "description": "d",
                   "temporal_coverage": {"start": "2022-05-03", "end": "2022-05-04"}}),
        )
        .await,
    );
    let restricted = id_of(
        &created(
            &app,
            &key,
            json!({"title": "restricted", "description": "d", "access_type": "restricted"}),
        )
        .await,
    );
    let all = sorted(vec![
        paris.clone(),
        country.clone(),
        dated.clone(),
        restricted.clone(),
    ]);
    assert_eq!(
        ids(&app, "geozone=fr:departement:75").await,
        vec![paris.clone()]
    );
    assert!(ids(&app, "geozone=fr:commune:69123").await.is_empty());
    assert_eq!(
        ids(&app, "granularity=fr:commune").await,
        vec![paris.clone()]
    );
    assert_eq!(
        ids(&app, "granularity=country").await,
        vec![country.clone()]
    );
    // v1: the coverage starts within the range.
    for range in [
        "2022-05-03-2022-05-04",
        "2022-05-01-2022-05-03",
        "2022-01-01-2022-12-31",
    ] {
        assert_eq!(
            ids(&app, &format!("temporal_coverage={range}")).await,
            vec![dated.clone()],
            "{range}"
        );
    }
    assert!(
        ids(&app, "temporal_coverage=2022-05-04-2022-06-01")
            .await
            .is_empty()
    );
    // udata does not check this value in v1: a malformed one matches nothing.
    assert!(ids(&app, "temporal_coverage=2022").await.is_empty());
    assert_eq!(
        ids(&app, "access_type=restricted").await,
        vec![restricted.clone()]
    );
    let open: Vec<String> = all.iter().filter(|i| **i != restricted).cloned().collect();
    assert_eq!(ids(&app, "access_type=open").await, open);
    // Zones and coverage follow updates.
    put_ok(
        &app,
        &paris,
        &key,
        json!({"spatial": {"zones": ["fr:commune:69123"]}}),
    )
    .await;
    assert!(ids(&app, "geozone=fr:departement:75").await.is_empty());
    assert_eq!(
        ids(&app, "geozone=fr:commune:69123").await,
        vec![paris.clone()]
    );
    assert_eq!(ids(&app, "granularity=other").await, vec![paris.clone()]);
    put_ok(&app, &dated, &key, json!({"temporal_coverage": null})).await;
    assert!(
        ids(&app, "temporal_coverage=2022-01-01-2022-12-31")
            .await
            .is_empty()
    );
    // Filters combine.
    assert_eq!(
        ids(&app, "access_type=open&granularity=country").await,
        vec![country]
    );
    assert_eq!(ids(&app, "").await, all);
}

#[tokio::test]
async fn enumerated_parameters_are_checked() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    created(&app, &key, ds("one")).await;
    for (param, value) in [
        ("access_type", "foo"),
        ("badge", "foo"),
        ("organization_badge", "bad-badge"),
        ("sort", "-name"),
        ("featured", "maybe"),
    ] {
        let r = app
            .get(&format!("/api/1/datasets/?{param}={value}"), None)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{param}: {}", r.text());
        let body = r.json();
        assert_eq!(body["message"], "Input payload validation failed", "{body}");
        assert!(body["errors"][param].is_string(), "{body}");
    }
    let r = app.get("/api/1/datasets/?badge=foo", None).await;
    assert_eq!(
        r.json()["errors"]["badge"],
        "The value 'foo' is not a valid choice for 'badge'."
    );
    // Valid values of things rudata does not record (badges) match nothing.
    for query in ["badge=spd", "organization_badge=public-service"] {
        assert!(ids(&app, query).await.is_empty(), "{query}");
    }
    for sort in [
        "reuses",
        "-reuses",
        "followers",
        "-followers",
        "views",
        "-views",
        "-last_update",
    ] {
        assert_eq!(ids(&app, &format!("sort={sort}")).await.len(), 1, "{sort}");
    }
}

#[tokio::test]
async fn identifier_parameters_must_be_object_ids() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let one = id_of(&created(&app, &key, ds("one")).await);
    for (param, label) in [
        ("topic", "Topic"),
        ("dataservice", "Dataservice"),
        ("reuse", "Reuse"),
        ("followed_by", "`followed_by`"),
        ("owner", "Owner"),
        ("organization", "Organization"),
    ] {
        let r = app
            .get(&format!("/api/1/datasets/?{param}=xxx"), None)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{param}: {}", r.text());
        assert_eq!(
            r.json()["message"],
            format!("{label} arg must be an identifier")
        );
    }
    // An unknown topic, dataservice or reuse is ignored (none exist in rudata).
    let unknown = "5f0c2b6e8b1e4a3d2c1b0a99";
    for param in ["topic", "dataservice", "reuse"] {
        assert_eq!(
            ids(&app, &format!("{param}={unknown}")).await,
            vec![one.clone()],
            "{param}"
        );
    }
    // rudata keeps no follows: nobody follows anything.
    assert!(
        ids(&app, &format!("followed_by={unknown}"))
            .await
            .is_empty()
    );
    // Identifiers are checked before the filters that need a caller.
    let r = app
        .get("/api/1/datasets/?private=true&owner=xxx", None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = app
        .get(
            &format!("/api/1/datasets/?private=true&owner={unknown}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
}

#[tokio::test]
async fn pages_past_the_end_are_404_even_with_filters() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    for i in 0..3 {
        created(
            &app,
            &key,
            json!({"title": format!("t{i}"), "description": "d", "tags": ["shared"]}),
        )
        .await;
    }
    let r = app
        .get("/api/1/datasets/?tag=shared&page=2&page_size=2", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["total"], 3);
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["next_page"], Value::Null);
    assert!(
        body["previous_page"]
            .as_str()
            .unwrap()
            .contains("tag=shared")
    );
    let r = app
        .get("/api/1/datasets/?tag=shared&page=3&page_size=2", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    // An empty first page is fine.
    let r = app.get("/api/1/datasets/?tag=none", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["total"], 0);
    for bad in ["page=0", "page_size=0", "page=-1", "page_size=abc"] {
        let r = app.get(&format!("/api/1/datasets/?{bad}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
    }
}

#[tokio::test]
async fn deep_pages_of_each_sort_are_in_order() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let mut made = Vec::new();
    for title in ["d", "b", "e", "a", "c"] {
        made.push((title, id_of(&created(&app, &key, ds(title)).await)));
    }
    // Pages of one, read one by one, give the whole order.
    let pages = |sort: &'static str| {
        let app = &app;
        async move {
            let mut out = Vec::new();
            for page in 1..=5 {
                let path = format!("/api/1/datasets/?sort={sort}&page_size=1&page={page}");
                out.extend(list(app, &path, None).await);
            }
            out
        }
    };
    let by_title: Vec<String> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|t| made.iter().find(|(m, _)| m == t).unwrap().1.clone())
        .collect();
    assert_eq!(pages("title").await, by_title);
    let newest: Vec<String> = made.iter().rev().map(|(_, id)| id.clone()).collect();
    assert_eq!(pages("-created").await, newest);
    assert_eq!(pages("-last_update").await, newest);
}

#[tokio::test]
async fn organization_datasets_follow_sort() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let org = app.organization(&key, "Org").await;
    let mut ids = Vec::new();
    for title in ["b", "a", "c"] {
        let body = json!({"title": title, "description": "d", "organization": org});
        ids.push(id_of(&created(&app, &key, body).await));
    }
    let path = format!("/api/1/organizations/{org}/datasets/");
    assert_eq!(
        list(&app, &format!("{path}?sort=title"), None).await,
        vec![ids[1].clone(), ids[0].clone(), ids[2].clone()]
    );
    assert_eq!(
        list(&app, &path, None).await,
        vec![ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    let r = app.get(&format!("{path}?sort=bad"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
}
