//! `GET /api/2/datasets/{id}/resources/`: udata's v2 envelope and defaults (page size 50, 200 with an
//! empty page past the last), its parameter errors, the `type` filter and the title search `q`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of};
use crate::v2_helpers::{dataset_with, ids, inline_resources};

fn titles(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {page}"))
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

async fn page(app: &TestApp, id: &str, query: &str) -> Value {
    let r = app
        .get(&format!("/api/2/datasets/{id}/resources/{query}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
    r.json()
}

#[tokio::test]
async fn pages_follow_dataset_order_with_udata_links() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let ds = dataset_with(&app, &user.key, "Paged", inline_resources(5)).await;
    let id = id_of(&ds);
    let link = |q: &str| format!("http://rudata.test/api/2/datasets/{id}/resources/?{q}");

    for path in [
        format!("/api/2/datasets/{id}/resources/"),
        format!("/api/2/datasets/{id}/resources"),
        "/api/2/datasets/paged/resources/".to_string(),
    ] {
        let r = app.get(&path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        // udata's v2 key order.
        assert!(r.text().starts_with("{\"data\":["), "{}", r.text());
        let body = r.json();
        assert_eq!(titles(&body), ["R0", "R1", "R2", "R3", "R4"]);
        assert_eq!(body["data"][0], ds["resources"][0]);
        assert_eq!(
            (
                body["page"].clone(),
                body["page_size"].clone(),
                body["total"].clone()
            ),
            (json!(1), json!(50), json!(5))
        );
        assert_eq!(
            (body["next_page"].clone(), body["previous_page"].clone()),
            (Value::Null, Value::Null)
        );
    }

    let first = page(&app, &id, "?page_size=2").await;
    assert_eq!(titles(&first), ["R0", "R1"]);
    assert_eq!(first["next_page"], link("page=2&page_size=2"));
    assert_eq!(first["previous_page"], Value::Null);
    let third = page(&app, &id, "?page=3&page_size=2").await;
    assert_eq!(titles(&third), ["R4"]);
    assert_eq!(third["next_page"], Value::Null);
    assert_eq!(third["previous_page"], link("page=2&page_size=2"));
    // Past the last page: an empty page, not a 404 (unlike v1 lists).
    let past = page(&app, &id, "?page=4&page_size=2").await;
    assert_eq!(
        (past["data"].clone(), past["total"].clone()),
        (json!([]), json!(5))
    );
    assert_eq!(past["previous_page"], link("page=3&page_size=2"));
    // Beyond 64 bits too, as Python's integers (the page is echoed exactly).
    let r = app
        .get(
            &format!("/api/2/datasets/{id}/resources/?page=99999999999999999999"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text().contains("\"page\":99999999999999999999,"),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["data"], json!([]));
    assert_eq!(
        r.json()["previous_page"],
        link("page=99999999999999999998&page_size=50")
    );
    // Integers as Python reads them; the first of repeated values.
    for query in [
        "?page=%2B2&page_size=2",
        "?page=%202%20&page_size=2",
        "?page=2&page=1&page_size=2",
    ] {
        assert_eq!(
            titles(&page(&app, &id, query).await),
            ["R2", "R3"],
            "{query}"
        );
    }
    assert_eq!(page(&app, &id, "?page_size=1_0").await["page_size"], 10);
    let all = page(&app, &id, "?page_size=1000000").await;
    assert_eq!(all["total"], 5);

    // After a reorder, pages follow the new order.
    let mut order = ids(&ds);
    order.reverse();
    let r = app
        .put(
            &format!("/api/1/datasets/{id}/resources/"),
            &user.key,
            json!(order),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        titles(&page(&app, &id, "?page=2&page_size=2").await),
        ["R2", "R1"]
    );
}

#[tokio::test]
async fn bad_page_parameters_are_udata_parser_errors() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let id = id_of(&dataset_with(&app, &user.key, "Params", inline_resources(1)).await);
    for (query, key, message) in [
        (
            "?page=0",
            "page",
            "The page to fetch Invalid page: 0. page must be a positive integer",
        ),
        (
            "?page=-1",
            "page",
            "The page to fetch Invalid page: -1. page must be a positive integer",
        ),
        (
            "?page_size=0",
            "page_size",
            "The page size to fetch Invalid page_size: 0. page_size must be a positive integer",
        ),
        (
            "?page_size=-05",
            "page_size",
            "The page size to fetch Invalid page_size: -5. page_size must be a positive integer",
        ),
        (
            "?page=abc",
            "page",
            "The page to fetch abc is not a valid integer",
        ),
        (
            "?page=",
            "page",
            "The page to fetch  is not a valid integer",
        ),
        (
            "?page=1.5",
            "page",
            "The page to fetch 1.5 is not a valid integer",
        ),
        (
            "?page=1&page=abc",
            "page",
            "The page to fetch abc is not a valid integer",
        ),
        (
            "?page_size=",
            "page_size",
            "The page size to fetch  is not a valid integer",
        ),
    ] {
        let r = app
            .get(&format!("/api/2/datasets/{id}/resources/{query}"), None)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text());
        assert_eq!(
            r.json(),
            json!({"errors": {key: message}, "message": "Input payload validation failed"}),
            "{query}"
        );
    }
}

#[tokio::test]
async fn type_and_title_filters_page_what_they_select() {
    let app = TestApp::new().await;
    let user = app.user("alice@example.org").await;
    let mut resources = inline_resources(7);
    for (i, title) in ["Été 2020", "ÉTÉ 2021", "ete", "100%_done", "100 done"]
        .iter()
        .enumerate()
    {
        resources[i]["title"] = json!(title);
    }
    let ds = dataset_with(&app, &user.key, "Filters", resources).await;
    let id = id_of(&ds);
    let link = |q: &str| format!("http://rudata.test/api/2/datasets/{id}/resources/?{q}");

    // Types: R0, R3 and R6 are documentation.
    let docs = page(&app, &id, "?type=documentation").await;
    assert_eq!(titles(&docs), ["Été 2020", "100%_done", "R6"]);
    assert_eq!(docs["total"], 3);
    let docs = page(&app, &id, "?type=documentation&page_size=1&page=2").await;
    assert_eq!(titles(&docs), ["100%_done"]);
    assert_eq!(
        docs["next_page"],
        link("page=3&page_size=1&type=documentation")
    );
    assert_eq!(
        docs["previous_page"],
        link("page=1&page_size=1&type=documentation")
    );
    let none = page(&app, &id, "?type=nonsense").await;
    assert_eq!(
        (none["data"].clone(), none["total"].clone()),
        (json!([]), json!(0))
    );
    assert_eq!(page(&app, &id, "?type=").await["total"], 7);

    // `q`: case-insensitive in every script, accents kept, no wildcard.
    assert_eq!(
        titles(&page(&app, &id, "?q=%C3%A9t%C3%A9").await),
        ["Été 2020", "ÉTÉ 2021"]
    );
    assert_eq!(titles(&page(&app, &id, "?q=ETE").await), ["ete"]);
    assert_eq!(titles(&page(&app, &id, "?q=%25_").await), ["100%_done"]);
    assert_eq!(titles(&page(&app, &id, "?q=_").await), ["100%_done"]);
    assert_eq!(page(&app, &id, "?q=").await["total"], 7);
    let q = page(&app, &id, "?q=%C3%89t%C3%A9%20&page_size=1").await;
    assert_eq!(
        (titles(&q), q["total"].clone()),
        (vec!["Été 2020".to_string()], json!(2))
    );
    assert_eq!(q["next_page"], link("page=2&page_size=1&q=%C3%89t%C3%A9+"));
    let q2 = page(&app, &id, "?q=%C3%89t%C3%A9%20&page_size=1&page=2").await;
    assert_eq!(titles(&q2), ["ÉTÉ 2021"]);
    assert_eq!(
        page(&app, &id, "?q=%C3%A9t%C3%A9&page=3&page_size=1").await["data"],
        json!([])
    );
    // Both filters at once.
    let both = page(&app, &id, "?q=done&type=main").await;
    assert_eq!(titles(&both), ["100 done"]);
    assert_eq!(
        page(&app, &id, "?q=done&type=documentation&page_size=1").await["next_page"],
        Value::Null
    );
}
