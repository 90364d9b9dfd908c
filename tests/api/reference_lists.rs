//! The reference lists under `/api/1/datasets/` (checklist items 80–81): licenses, update
//! frequencies, resource types and allowed file extensions.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

/// Checklist item 80.
#[tokio::test]
async fn licenses_are_listed_in_order_with_their_flags() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/licenses/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let list = list.as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec![
            "lov2",
            "fr-lo",
            "odc-odbl",
            "odc-by",
            "odc-pddl",
            "cc-by",
            "cc-by-sa",
            "cc-zero",
            "other-at",
            "other-open",
            "other-pd",
            "notspecified"
        ]
    );
    for l in list {
        for k in [
            "id",
            "title",
            "maintainer",
            "url",
            "flags",
            "alternate_urls",
            "alternate_titles",
        ] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
        assert!(l["title"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let lov2 = &list[0];
    assert_eq!(lov2["maintainer"], "Etalab");
    assert_eq!(lov2["alternate_titles"], json!(["Licence Ouverte v2.0"]));
    assert_eq!(
        lov2["flags"],
        json!(["domain_content", "domain_data", "okd_compliant"])
    );
    let odbl = list.iter().find(|l| l["id"] == "odc-odbl").unwrap();
    assert_eq!(odbl["maintainer"], "Open Data Commons");
    assert_eq!(odbl["flags"], json!(["domain_data", "okd_compliant"]));
    let other_pd = list.iter().find(|l| l["id"] == "other-pd").unwrap();
    assert_eq!(other_pd["maintainer"], json!(null));
    assert_eq!(other_pd["url"], json!(null));
    assert_eq!(
        other_pd["flags"],
        json!(["domain_content", "domain_data", "generic", "okd_compliant"])
    );
    let ns = list.iter().find(|l| l["id"] == "notspecified").unwrap();
    assert_eq!(
        ns["flags"],
        json!(["domain_content", "domain_data", "generic"])
    );
}

/// Checklist item 80.
#[tokio::test]
async fn frequencies_are_listed_without_legacy_ids() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/frequencies/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 40);
    assert_eq!(list[0], json!({"id": "continuous", "label": "Real time"}));
    assert_eq!(
        list[5],
        json!({"id": "thirtyMinutes", "label": "Every thirty minute"})
    );
    assert_eq!(list[39], json!({"id": "unknown", "label": "Unknown"}));
    let ids: Vec<&str> = list.iter().map(|f| f["id"].as_str().unwrap()).collect();
    for id in [
        "daily",
        "weekly",
        "monthly",
        "annual",
        "punctual",
        "irregular",
        "notPlanned",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert!(!ids.contains(&"realtime"));
}

/// Checklist item 80.
#[tokio::test]
async fn resource_types_are_listed() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/resource_types/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!([
            {"id": "main", "label": "Main file"},
            {"id": "documentation", "label": "Documentation"},
            {"id": "update", "label": "Update"},
            {"id": "api", "label": "API"},
            {"id": "code", "label": "Code repository"},
            {"id": "other", "label": "Other"},
        ])
    );
}

/// Checklist item 81.
#[tokio::test]
async fn allowed_extensions_are_sorted_and_exclude_executables_and_html() {
    let app = TestApp::new().await;
    let r = app.get("/api/1/datasets/extensions/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let list: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    let mut sorted = list.clone();
    sorted.sort();
    assert_eq!(list, sorted);
    assert_eq!(list.len(), 64);
    for e in [
        "csv", "txt", "json", "geojson", "zip", "tar", "gz", "ssim", "other", "xlsx",
    ] {
        assert!(list.contains(&e.to_string()), "{e}");
    }
    for e in ["exe", "html", "htm"] {
        assert!(!list.contains(&e.to_string()), "{e}");
    }
}
