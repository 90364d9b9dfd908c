//! Catalog exports (`/api/1/site/*.csv`): udata's columns and CSV dialect, public data only, and a
//! body streamed in bounded chunks.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::dataset_helpers::{created, soft_delete};
use crate::helpers::{TestApp, TestResponse, id_of};

const DATASET_HEADER: &str = r#""id";"title";"slug";"acronym";"url";"organization";"organization_id";"owner";"owner_id";"description";"description_short";"frequency";"license";"temporal_coverage.start";"temporal_coverage.end";"spatial.granularity";"spatial.zones";"spatial.geom";"featured";"created_at";"last_modified";"badges";"tags";"archived";"resources_count";"main_resources_count";"resources_formats";"harvest.backend";"harvest.domain";"harvest.remote_id";"harvest.remote_url";"harvest.uri";"harvest.created_at";"harvest.issued_at";"harvest.modified_at";"harvest.last_update";"harvest.dct_identifier";"quality_score";"metric.discussions";"metric.discussions_open";"metric.reuses";"metric.reuses_by_months";"metric.dataservices";"metric.followers";"metric.followers_by_months";"metric.views";"metric.resources_downloads""#;
const RESOURCE_HEADER: &str = r#""dataset.id";"dataset.title";"dataset.slug";"dataset.url";"dataset.organization";"dataset.organization_id";"dataset.license";"dataset.private";"dataset.archived";"id";"url";"title";"description";"filetype";"type";"format";"mime";"filesize";"checksum.type";"checksum.value";"created_at";"modified";"downloads";"harvest.issued_at";"harvest.modified_at";"harvest.last_update";"schema_name";"schema_version";"preview_url";"extras""#;
const ORGANIZATION_HEADER: &str = r#""id";"name";"acronym";"slug";"url";"description";"logo";"badges";"created_at";"last_modified";"business_number_id";"members_count";"downloads";"metric.dataservices";"metric.dataservices_by_months";"metric.datasets";"metric.datasets_by_months";"metric.datasets_followers_by_months";"metric.datasets_reuses_by_months";"metric.members";"metric.reuses";"metric.reuses_by_months";"metric.reuses_followers_by_months";"metric.dataservices";"metric.followers";"metric.views""#;

/// The records of a `;` CSV as written by Python: quoted fields (with `""` and raw newlines
/// inside) and bare ones, `\r\n` between records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ';') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && record.is_empty(), "unterminated CSV");
    records
}

/// A CSV export as records keyed by the header, after checking the answer's headers.
fn records(r: &TestResponse, header: &str, name: &str) -> Vec<Vec<(String, String)>> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let disposition = r.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with(&format!("attachment; filename={name}-"))
            && disposition.ends_with(".csv"),
        "{disposition}"
    );
    let text = r.text();
    assert_eq!(text.split("\r\n").next(), Some(header));
    let mut all = parse_csv(&text);
    let names = all.remove(0);
    all.into_iter()
        .map(|row| {
            assert_eq!(row.len(), names.len(), "{row:?}");
            names.iter().cloned().zip(row).collect()
        })
        .collect()
}

fn field<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    &row.iter().find(|(n, _)| n == name).unwrap().1
}

/// The record whose `column` is `value`.
fn row_where<'a>(
    rows: &'a [Vec<(String, String)>],
    column: &str,
    value: &str,
) -> &'a [(String, String)] {
    rows.iter()
        .find(|r| field(r, column) == value)
        .unwrap_or_else(|| panic!("no row with {column} = {value}"))
}

const TRICKY: &str = "Budget; \"2024\"\nsuite";

/// A catalog: an organization with a public dataset (tricky text, two resources), a private one,
/// a deleted one and an archived one. Returns `(org, public, private, deleted, archived)`.
async fn catalog(app: &TestApp) -> (String, String, String, String, String) {
    let org = app.organization(&app.admin_key, "Acme Data").await;
    let key = &app.admin_key;
    let public = id_of(
        &created(
            app,
            key,
            json!({"title": TRICKY, "description": "line1\nline2; \"x\"", "acronym": "BP",
                   "organization": org, "tags": ["budget", "finances"], "license": "lov2",
                   "frequency": "annual", "temporal_coverage": {"start": "2024-01-01", "end": "2024-12-31"},
                   "resources": [
                       {"title": "data; \"main\"", "url": "https://example.org/a.csv", "filetype": "remote",
                        "format": "csv", "type": "main", "description": "multi\nline", "extras": {"k": "vé"}},
                       {"title": "doc", "url": "https://example.org/doc.pdf", "filetype": "remote",
                        "format": "pdf", "type": "documentation"}
                   ]}),
        )
        .await,
    );
    let hidden = |title: &str, extra: Value| {
        let mut body = json!({"title": title, "description": "d", "organization": org,
            "resources": [{"title": format!("{title} file"), "url": "https://example.org/h.csv", "filetype": "remote"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let private = id_of(&created(app, key, hidden("Private one", json!({"private": true}))).await);
    let deleted = id_of(&created(app, key, hidden("Deleted one", json!({}))).await);
    soft_delete(app, &deleted, key).await;
    let archived = id_of(
        &created(
            app,
            key,
            hidden("Archived one", json!({"archived": "2024-01-02T03:04:05"})),
        )
        .await,
    );
    (org, public, private, deleted, archived)
}

#[tokio::test]
async fn datasets_csv_has_udatas_columns_and_public_datasets_only() {
    let app = TestApp::new().await;
    let (org, public, _, _, archived) = catalog(&app).await;
    let r = app.get("/api/1/site/datasets.csv", None).await;
    let rows = records(&r, DATASET_HEADER, "datasets");
    let mut ids: Vec<&str> = rows.iter().map(|r| field(r, "id")).collect();
    ids.sort();
    let mut expected = vec![public.as_str(), archived.as_str()];
    expected.sort();
    assert_eq!(
        ids, expected,
        "neither private nor deleted; archived included"
    );

    let row = row_where(&rows, "id", &public);
    let json = app
        .get(&format!("/api/1/datasets/{public}/"), None)
        .await
        .json();
    for (column, value) in [
        ("title", TRICKY),
        ("description", "line1\nline2; \"x\""),
        ("acronym", "BP"),
        ("organization", "Acme Data"),
        ("organization_id", org.as_str()),
        ("owner", ""),
        ("frequency", "annual"),
        ("license", "Licence Ouverte / Open Licence version 2.0"),
        ("temporal_coverage.start", "2024-01-01"),
        ("temporal_coverage.end", "2024-12-31"),
        ("featured", "False"),
        ("tags", "budget,finances"),
        ("archived", "False"),
        ("resources_count", "2"),
        ("main_resources_count", "1"),
        ("resources_formats", "csv,pdf"),
        ("badges", ""),
        ("harvest.backend", ""),
        ("metric.views", "0"),
    ] {
        assert_eq!(field(row, column), value, "{column}");
    }
    assert_eq!(field(row, "slug"), json["slug"].as_str().unwrap());
    assert_eq!(field(row, "url"), json["uri"].as_str().unwrap());
    let score = json["quality"]["score"].as_f64().unwrap();
    assert_eq!(field(row, "quality_score"), format!("{score:.2}"));
    // udata's naive ISO timestamps.
    let created_at = json["created_at"].as_str().unwrap();
    assert_eq!(
        field(row, "created_at"),
        created_at.trim_end_matches("+00:00")
    );
    assert_eq!(
        field(row_where(&rows, "id", &archived), "archived"),
        "2024-01-02T03:04:05"
    );

    // Python's QUOTE_NONNUMERIC: texts quoted (quotes doubled, newlines kept), numbers and booleans bare.
    let text = r.text();
    assert!(text.contains("\"Budget; \"\"2024\"\"\nsuite\""), "{text}");
    assert!(
        text.contains(";\"budget,finances\";False;2;1;\"csv,pdf\";"),
        "{text}"
    );
    assert!(text.ends_with(";0;0;0;0;0;0;0;0;0\r\n"), "{text}");
}

#[tokio::test]
async fn resources_csv_joins_each_resource_to_its_dataset() {
    let app = TestApp::new().await;
    let (org, public, _, _, archived) = catalog(&app).await;
    let r = app.get("/api/1/site/resources.csv", None).await;
    let rows = records(&r, RESOURCE_HEADER, "resources");
    let titles: Vec<&str> = rows.iter().map(|r| field(r, "title")).collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(!titles.contains(&"Private one file") && !titles.contains(&"Deleted one file"));

    let json = app
        .get(&format!("/api/1/datasets/{public}/"), None)
        .await
        .json();
    let main = row_where(&rows, "title", "data; \"main\"");
    for (column, value) in [
        ("dataset.id", public.as_str()),
        ("dataset.title", TRICKY),
        ("dataset.url", json["uri"].as_str().unwrap()),
        ("dataset.organization", "Acme Data"),
        ("dataset.organization_id", org.as_str()),
        (
            "dataset.license",
            "Licence Ouverte / Open Licence version 2.0",
        ),
        ("dataset.private", "False"),
        ("dataset.archived", "False"),
        ("url", "https://example.org/a.csv"),
        ("description", "multi\nline"),
        ("filetype", "remote"),
        ("type", "main"),
        ("format", "csv"),
        ("downloads", "0"),
        ("extras", "{\"k\": \"v\\u00e9\"}"),
    ] {
        assert_eq!(field(main, column), value, "{column}");
    }
    // In the dataset's order: the resource given first comes first.
    let of_public: Vec<&str> = rows
        .iter()
        .filter(|r| field(r, "dataset.id") == public)
        .map(|r| field(r, "title"))
        .collect();
    assert_eq!(
        of_public,
        json["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap())
            .collect::<Vec<_>>()
    );
    let arch = row_where(&rows, "dataset.id", &archived);
    assert_eq!(field(arch, "dataset.archived"), "2024-01-02T03:04:05");
    assert!(!r.text().contains(";\"False\";"));
}

#[tokio::test]
async fn organizations_csv_lists_organizations_not_deleted() {
    let app = TestApp::new().await;
    let (org, ..) = catalog(&app).await;
    let gone = app.organization(&app.admin_key, "Gone; \"org\"").await;
    let r = app
        .delete(&format!("/api/1/organizations/{gone}/"), &app.admin_key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app.get("/api/1/site/organizations.csv", None).await;
    let rows = records(&r, ORGANIZATION_HEADER, "organizations");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    for (column, value) in [
        ("id", org.as_str()),
        ("name", "Acme Data"),
        ("slug", "acme-data"),
        ("url", "http://rudata.test/api/1/organizations/acme-data/"),
        ("description", "An organization"),
        ("members_count", "1"),
        ("metric.members", "1"),
        // Public, not archived.
        ("metric.datasets", "1"),
        ("downloads", "0"),
    ] {
        assert_eq!(field(row, column), value, "{column}");
    }
}

/// Sends a GET and returns the data frames of the body as they come.
async fn frames(app: &TestApp, path: &str) -> Vec<bytes::Bytes> {
    let req = Request::builder()
        .uri(path)
        .header("host", "rudata.test")
        .body(Body::empty())
        .unwrap();
    let response = rudata::app::handle(&app.state, req).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            out.push(data);
        }
    }
    out
}

#[tokio::test]
async fn a_large_catalog_streams_in_batches_and_bounded_chunks() {
    let app = TestApp::new().await;
    // More datasets than one batch (200), one with more resources than one batch (1000).
    let resources: Vec<Value> = (0..1005)
        .map(|i| json!({"title": format!("r{i:04}"), "url": format!("https://example.org/{i}.csv"), "filetype": "remote"}))
        .collect();
    let big = id_of(
        &created(
            &app,
            &app.admin_key,
            json!({"title": "Big", "description": "d", "resources": resources}),
        )
        .await,
    );
    let mut ids = vec![big.clone()];
    for i in 0..205 {
        let body = json!({"title": format!("Dataset {i}"), "description": "d".repeat(300),
            "private": i % 50 == 7});
        let d = created(&app, &app.admin_key, body).await;
        if i % 50 != 7 {
            ids.push(id_of(&d));
        }
    }
    ids.sort();

    let chunks = frames(&app, "/api/1/site/datasets.csv").await;
    // The header line goes first, alone: the body starts before the catalog is read.
    assert_eq!(chunks[0], format!("{DATASET_HEADER}\r\n"));
    assert!(chunks.len() > 2, "{} chunks", chunks.len());
    assert!(chunks.iter().all(|c| c.len() <= 64 * 1024 + 4096));
    let text: String = chunks
        .iter()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut rows = parse_csv(&text);
    rows.remove(0);
    let mut seen: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    seen.sort();
    assert_eq!(seen, ids, "every exported dataset once");
    let big_row = rows.iter().find(|r| r[0] == big).unwrap();
    assert_eq!(big_row[24], "1005");

    let chunks = frames(&app, "/api/1/site/resources.csv").await;
    assert_eq!(chunks[0], format!("{RESOURCE_HEADER}\r\n"));
    assert!(chunks.iter().all(|c| c.len() <= 64 * 1024 + 4096));
    let text: String = chunks
        .iter()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut rows = parse_csv(&text);
    rows.remove(0);
    let titles: Vec<&str> = rows.iter().map(|r| r[11].as_str()).collect();
    let expected: Vec<String> = {
        let json = app
            .get(&format!("/api/1/datasets/{big}/"), None)
            .await
            .json();
        json["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        titles, expected,
        "every resource once, in the dataset's order"
    );
}

#[tokio::test]
async fn the_exports_carry_the_counted_views_and_downloads() {
    let app = TestApp::new().await;
    let ds = app.dataset(&app.admin_key, "Counted").await;
    let id = ds["id"].as_str().unwrap().to_string();
    let remote = app.remote(&id, &app.admin_key, "Remote").await;
    let rid = remote["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let r = app.get(&format!("/api/1/datasets/r/{rid}"), None).await;
        assert_eq!(r.status, StatusCode::FOUND);
    }
    assert_eq!(
        app.get(&format!("/api/1/datasets/{id}/"), None)
            .await
            .status,
        StatusCode::OK
    );
    rudata::metrics::flush(&app.state).await.unwrap();

    let r = app.get("/api/1/site/datasets.csv", None).await;
    let rows = records(&r, DATASET_HEADER, "datasets");
    let row = row_where(&rows, "id", &id);
    assert_eq!(field(row, "metric.views"), "1");
    assert_eq!(field(row, "metric.resources_downloads"), "2");
    let r = app.get("/api/1/site/resources.csv", None).await;
    let rows = records(&r, RESOURCE_HEADER, "resources");
    assert_eq!(field(row_where(&rows, "id", &rid), "downloads"), "2");
}
