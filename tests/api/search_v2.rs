//! API v2 search: `GET /api/2/datasets/search/` (its parameters, checks, result window and v2
//! dataset shape), facets (beyond udata), and `GET /api/2/organizations/search/`.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, data_ids, put_ok, soft_delete, sorted};
use crate::helpers::{TestApp, id_of};

const SEARCH: &str = "/api/2/datasets/search/";

async fn found(app: &TestApp, query: &str) -> Vec<String> {
    data_ids(&app.get(&format!("{SEARCH}?{query}"), None).await)
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn datasets_come_in_v2_shape_with_linked_resources() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let id = id_of(&app.dataset(&key, "Qualité de l'air").await);
    app.remote(&id, &key, "Mesures").await;
    app.remote(&id, &key, "Stations").await;
    let r = app.get(&format!("{SEARCH}?q=qualite"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(
        keys(&body),
        [
            "data",
            "facets",
            "next_page",
            "page",
            "page_size",
            "previous_page",
            "total"
        ]
        .iter()
        .map(|k| k.to_string())
        .collect()
    );
    assert_eq!(body["facets"], json!({}));
    assert_eq!(
        (body["page"].clone(), body["page_size"].clone()),
        (json!(1), json!(20))
    );
    let v2 = &body["data"][0];
    assert_eq!(v2["id"], id);
    assert_eq!(
        v2["resources"],
        json!({"rel": "subsection", "type": "GET", "total": 2,
               "href": format!("http://rudata.test/api/2/datasets/{id}/resources/?page=1&page_size=50")})
    );
    assert_eq!(
        v2["community_resources"]["href"],
        format!(
            "http://rudata.test/api/1/datasets/community_resources/?dataset={id}&page=1&page_size=50"
        )
    );
    assert_eq!(v2["community_resources"]["total"], 0);
    // The v1 fields but `schema`, with `resources` as a link and `community_resources` added.
    let v1 = app
        .get(&format!("/api/1/datasets/{id}/"), None)
        .await
        .json();
    let mut expected = keys(&v1);
    expected.remove("schema");
    expected.insert("community_resources".into());
    assert_eq!(keys(v2), expected);
    for field in [
        "title",
        "slug",
        "quality",
        "tags",
        "license",
        "uri",
        "last_update",
    ] {
        assert_eq!(v2[field], v1[field], "{field}");
    }
}

#[tokio::test]
async fn only_public_datasets_are_searched_whoever_asks() {
    let app = TestApp::new().await;
    let alice = app.user("alice@example.org").await;
    let public = id_of(&app.dataset(&alice.key, "Relevés publics").await);
    created(
        &app,
        &alice.key,
        json!({"title": "Relevés privés", "description": "d", "private": true}),
    )
    .await;
    let deleted = id_of(&app.dataset(&alice.key, "Relevés supprimés").await);
    soft_delete(&app, &deleted, &alice.key).await;
    let r = app
        .get(&format!("{SEARCH}?q=releves"), Some(&alice.key))
        .await;
    assert_eq!(data_ids(&r), vec![public.clone()]);
    assert_eq!(r.json()["data"][0]["permissions"]["edit"], true);
    assert_eq!(found(&app, "").await, vec![public]);
}

#[tokio::test]
async fn parameters_are_checked_as_udata_does() {
    let app = TestApp::new().await;
    let cases = [
        ("badge=foo", "badge"),
        ("organization_badge=foo", "organization_badge"),
        ("format_family=foo", "format_family"),
        ("producer_type=foo", "producer_type"),
        ("last_update_range=yesterday", "last_update_range"),
        ("featured=maybe", "featured"),
        ("sort=title", "sort"),
        ("temporal_coverage=2022", "temporal_coverage"),
        ("facets=nope", "facets"),
        ("page=0", "page"),
    ];
    for (query, param) in cases {
        let r = app.get(&format!("{SEARCH}?{query}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text());
        assert!(
            r.json()["errors"][param].is_string(),
            "{query}: {}",
            r.text()
        );
    }
    let r = app.get(&format!("{SEARCH}?sort=title"), None).await;
    assert_eq!(
        r.json()["errors"]["sort"],
        "The field (and direction) on which sorting apply The value 'title' is not a valid choice for 'sort'."
    );
    let r = app
        .get(&format!("{SEARCH}?temporal_coverage=2020"), None)
        .await;
    assert_eq!(
        r.json()["errors"]["temporal_coverage"],
        "A date range expressed as start-end where both dates are in iso format (ie. YYYY-MM-DD-YYYY-MM-DD) \"2020\" does not match YYYY-MM-DD-YYYY-MM-DD"
    );
    let r = app
        .get(&format!("{SEARCH}?include_geozone_ancestors=perhaps"), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["include_geozone_ancestors"].is_string());
    for (query, label) in [
        ("organization=x", "Organization"),
        ("owner=x", "Owner"),
        ("topic=x", "Topic"),
    ] {
        let r = app.get(&format!("{SEARCH}?{query}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            r.json()["message"],
            format!("{label} arg must be an identifier")
        );
    }
    // The result window: page × page_size ≤ 10,000.
    let r = app
        .get(&format!("{SEARCH}?page=501&page_size=20"), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        "Result window is too large: page 501 with page_size 20 exceeds the maximum of 10000 results. Maximum page for this page_size is 500."
    );
    let r = app
        .get(&format!("{SEARCH}?page=1&page_size=10001"), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // Within it, past the last page: 404.
    let r = app
        .get(&format!("{SEARCH}?page=500&page_size=20"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = app.get(&format!("{SEARCH}?page_size=10000"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn filters_of_the_v2_document() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let key = &user.key;
    let org = app.organization(key, "Org").await;
    let csv = id_of(&app.dataset(key, "csv").await);
    app.remote(&csv, key, "r").await;
    let pdf = id_of(
        &created(
            &app,
            key,
            json!({"title": "pdf", "description": "d", "organization": org,
                   "temporal_coverage": {"start": "2020-01-01", "end": "2022-12-31"},
                   "spatial": {"granularity": "country"}, "tags": ["a-tag", "b-tag"]}),
        )
        .await,
    );
    let r = app
        .post(
            &format!("/api/1/datasets/{pdf}/resources/"),
            key,
            json!({"title": "r", "filetype": "remote", "url": "https://example.com/x.pdf", "format": "pdf"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let bare = id_of(
        &created(
            &app,
            key,
            json!({"title": "bare", "description": "d", "spatial": {"granularity": "fr:region"}}),
        )
        .await,
    );
    let all = sorted(vec![csv.clone(), pdf.clone(), bare.clone()]);
    let set = |v: Vec<String>| sorted(v);
    // Repeatable list filters: any of the values.
    assert_eq!(
        set(found(&app, "format=csv&format=PDF").await),
        set(vec![csv.clone(), pdf.clone()])
    );
    assert_eq!(found(&app, "format=pdf").await, vec![pdf.clone()]);
    assert_eq!(
        set(found(&app, "granularity=country&granularity=fr:region").await),
        set(vec![pdf.clone(), bare.clone()])
    );
    // Tags: all of them.
    assert_eq!(found(&app, "tag=a-tag&tag=b-tag").await, vec![pdf.clone()]);
    assert!(found(&app, "tag=a-tag&tag=c-tag").await.is_empty());
    // Families of formats; "other" holds datasets without any format.
    assert_eq!(
        found(&app, "format_family=tabular").await,
        vec![csv.clone()]
    );
    assert_eq!(
        found(&app, "format_family=documents").await,
        vec![pdf.clone()]
    );
    assert_eq!(found(&app, "format_family=other").await, vec![bare.clone()]);
    // Producer types: a user or an organization without badges.
    assert_eq!(
        set(found(&app, "producer_type=user").await),
        set(vec![csv.clone(), bare.clone()])
    );
    assert_eq!(
        found(&app, "producer_type=not-specified").await,
        vec![pdf.clone()]
    );
    assert!(found(&app, "producer_type=public-service").await.is_empty());
    assert_eq!(
        found(&app, &format!("organization={org}")).await,
        vec![pdf.clone()]
    );
    // By the organization's exact name; zones have no ancestors in rudata.
    assert_eq!(
        found(&app, "organization_name=Org").await,
        vec![pdf.clone()]
    );
    assert!(found(&app, "organization_name=Or").await.is_empty());
    assert_eq!(
        found(&app, "organization_name=Org&include_geozone_ancestors=true").await,
        vec![pdf.clone()]
    );
    assert_eq!(
        set(found(&app, &format!("owner={}", user.id)).await),
        set(vec![csv.clone(), bare.clone()])
    );
    // v2 (Elasticsearch): the coverage holds the whole range.
    assert_eq!(
        found(&app, "temporal_coverage=2021-01-01-2021-12-31").await,
        vec![pdf.clone()]
    );
    assert!(
        found(&app, "temporal_coverage=2019-01-01-2021-12-31")
            .await
            .is_empty()
    );
    // Every dataset was just updated.
    assert_eq!(
        sorted(found(&app, "last_update_range=last_30_days").await),
        all
    );
    assert_eq!(sorted(found(&app, "access_type=open").await), all);
    assert!(found(&app, "access_type=anything").await.is_empty());
    assert!(found(&app, "badge=hvd").await.is_empty());
    assert!(found(&app, "featured=true").await.is_empty());
    // Sorts (ties of metrics rudata does not count follow creation).
    assert_eq!(
        found(&app, "sort=created").await,
        vec![csv.clone(), pdf.clone(), bare.clone()]
    );
    assert_eq!(found(&app, "sort=-last_update").await[0], bare);
    assert_eq!(found(&app, "sort=-views").await.len(), 3);
}

#[tokio::test]
async fn facets_count_values_under_the_same_filter() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let org = app.organization(&key, "Org").await;
    let make = |title: &str, license: &str, frequency: &str, tags: Value, org: Option<&str>| {
        json!({"title": title, "description": "d", "license": license, "frequency": frequency,
               "tags": tags, "organization": org})
    };
    let a = id_of(
        &created(
            &app,
            &key,
            make(
                "Budget a",
                "lov2",
                "annual",
                json!(["fin", "city"]),
                Some(&org),
            ),
        )
        .await,
    );
    let b = id_of(
        &created(
            &app,
            &key,
            make("Budget b", "lov2", "monthly", json!(["fin"]), Some(&org)),
        )
        .await,
    );
    let c = id_of(
        &created(
            &app,
            &key,
            make("Budget c", "cc-by", "annual", json!(["fin"]), None),
        )
        .await,
    );
    created(
        &app,
        &key,
        make("Autre", "cc-by", "daily", json!(["zzz"]), None),
    )
    .await;
    for (id, format) in [
        (&a, "csv"),
        (&a, "csv"),
        (&a, "json"),
        (&b, "csv"),
        (&c, "pdf"),
    ] {
        let r = app
            .post(
                &format!("/api/1/datasets/{id}/resources/"),
                &key,
                json!({"title": "r", "filetype": "remote", "url": "https://example.com/x", "format": format}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = app
        .get(
            &format!("{SEARCH}?q=budget&facets=license,format,organization&facets=tag,frequency"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let facets = r.json()["facets"].clone();
    let f = |name: &str, count: i64| json!({"name": name, "count": count});
    assert_eq!(facets["license"], json!([f("lov2", 2), f("cc-by", 1)]));
    // One dataset with two csv resources counts once.
    assert_eq!(
        facets["format"],
        json!([f("csv", 2), f("json", 1), f("pdf", 1)])
    );
    assert_eq!(facets["organization"], json!([f(&org, 2)]));
    assert_eq!(facets["tag"], json!([f("fin", 3), f("city", 1)]));
    assert_eq!(
        facets["frequency"],
        json!([f("annual", 2), f("monthly", 1)])
    );
    // Under another filter, other counts; a dataset without license counts as `notspecified`.
    put_ok(&app, &c, &key, json!({"license": null})).await;
    let r = app
        .get(
            &format!("{SEARCH}?tag=fin&format=csv&facets=license,format"),
            None,
        )
        .await;
    let facets = r.json()["facets"].clone();
    assert_eq!(facets["license"], json!([f("lov2", 2)]));
    assert_eq!(facets["format"], json!([f("csv", 2), f("json", 1)]));
    let r = app.get(&format!("{SEARCH}?facets=license"), None).await;
    assert_eq!(
        r.json()["facets"]["license"],
        json!([f("lov2", 2), f("cc-by", 1), f("notspecified", 1)])
    );
}

#[tokio::test]
async fn organizations_are_searched_ranked_and_sorted() {
    let app = TestApp::new().await;
    let key = app.user("alice@example.org").await.key;
    let in_description = app.organization(&key, "Mairie").await;
    let r = app
        .put(
            &format!("/api/1/organizations/{in_description}/"),
            &key,
            json!({"description": "La commune de Besançon"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let in_name = app.organization(&key, "Ville de Besançon").await;
    let other = app.organization(&key, "Région").await;
    let path = "/api/2/organizations/search/";
    let r = app.get(&format!("{path}?q=besancon"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(data_ids(&r), vec![in_name.clone(), in_description.clone()]);
    let body = r.json();
    assert_eq!(body["facets"], json!({}));
    assert_eq!(body["data"][0]["name"], "Ville de Besançon");
    assert!(body["data"][0]["members"].is_array());
    assert_eq!(
        data_ids(&app.get(&format!("{path}?q=region"), None).await),
        vec![other.clone()]
    );
    // Newest first by default; by public datasets.
    assert_eq!(
        data_ids(&app.get(path, None).await),
        vec![other.clone(), in_name.clone(), in_description.clone()]
    );
    created(
        &app,
        &key,
        json!({"title": "t", "description": "d", "organization": in_description}),
    )
    .await;
    assert_eq!(
        data_ids(&app.get(&format!("{path}?sort=-datasets"), None).await)[0],
        in_description
    );
    let r = app.get(&format!("{path}?sort=name"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.json()["errors"]["sort"].is_string());
    // No organization has a badge (nor a producer type told by one).
    assert!(data_ids(&app.get(&format!("{path}?badge=certified"), None).await).is_empty());
    assert_eq!(
        data_ids(
            &app.get(&format!("{path}?producer_type=not-specified"), None)
                .await
        )
        .len(),
        3
    );
    let r = app.get(&format!("{path}?producer_type=user"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // A deleted organization is not found; a renamed one under its new name.
    let r = app
        .delete(&format!("/api/1/organizations/{other}/"), &key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(data_ids(&app.get(&format!("{path}?q=region"), None).await).is_empty());
    let r = app
        .put(
            &format!("/api/1/organizations/{in_name}/"),
            &key,
            json!({"name": "Ville de Dole"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        data_ids(&app.get(&format!("{path}?q=dole"), None).await),
        vec![in_name]
    );
    assert_eq!(
        data_ids(&app.get(&format!("{path}?q=besancon"), None).await),
        vec![in_description]
    );
}
