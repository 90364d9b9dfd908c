//! A database made by rudata 0.1.0 (`tests/fixtures/v0.1.0`) upgrades in place: migration 4 adds the
//! search tables and columns, and the first start derives their rows from the stored documents,
//! after which searches, filters and facets see the old catalog, and writes keep it right.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use rudata::config::Config;
use rudata::domain::api_token::TokenKey;
use rudata::files::Files;
use rudata::state::AppState;
use rudata::store::Store;
use serde_json::Value;

use crate::common::TestDatabase;

fn fixture_dir(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/v0.1.0/{backend}"))
}

/// The upgraded fixture and what must live as long as it.
struct Upgraded {
    state: AppState,
    fixture: Value,
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

async fn upgraded() -> Upgraded {
    let dir = tempfile::tempdir().unwrap();
    let (backend, url, database) = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            use sqlx::Connection;
            let db = TestDatabase::create(&admin).await;
            let dump = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v0.1.0/postgres.sql"),
            )
            .unwrap();
            // The dump empties `search_path` for its session: a connection of its own.
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            ("postgres", db.url.clone(), Some(db))
        }
        _ => {
            let file = dir.path().join("rudata.db");
            std::fs::copy(fixture_dir("sqlite").join("rudata.db"), &file).unwrap();
            ("sqlite", format!("sqlite://{}", file.display()), None)
        }
    };
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let secret = std::fs::read_to_string(fixture_dir(backend).join("secret.key")).unwrap();
    let config = Config::new(TokenKey::new(hex::decode(secret.trim()).unwrap()));
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_dir(backend).join("fixture.json")).unwrap(),
    )
    .unwrap();
    let state = AppState::new(
        store,
        Files::local(&dir.path().join("files")).unwrap(),
        config,
    );
    Upgraded {
        state,
        fixture,
        _dir: dir,
        _database: database,
    }
}

impl Upgraded {
    async fn call(&self, method: Method, path: &str) -> (StatusCode, Value) {
        let key = self.fixture["publisher_key"].as_str().unwrap();
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "rudata.test")
            .header("X-API-KEY", key)
            .body(Body::empty())
            .unwrap();
        let response = rudata::app::handle(&self.state, req).await;
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// The ids an anonymous list or search at `path` returns.
    async fn ids(&self, path: &str) -> Vec<String> {
        let req = Request::builder()
            .uri(path)
            .header("host", "rudata.test")
            .body(Body::empty())
            .unwrap();
        let response = rudata::app::handle(&self.state, req).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let mut ids: Vec<String> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    }

    fn dataset(&self, name: &str) -> String {
        self.fixture["datasets"][name].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn an_old_catalog_is_searchable_after_the_upgrade() {
    let up = upgraded().await;
    let org_ds = up.dataset("org");
    let user_ds = up.dataset("user");
    let renamed = up.dataset("renamed");
    let datasets = "/api/1/datasets/";
    // Title, acronym, tags, description and organization name were all indexed.
    for q in [
        "budget+primitif",
        "bp",
        "finances",
        "conseil+municipal",
        "ville+de+test",
    ] {
        assert_eq!(
            up.ids(&format!("{datasets}?q={q}")).await,
            vec![org_ds.clone()],
            "{q}"
        );
    }
    assert_eq!(
        up.ids(&format!("{datasets}?q=rel")).await,
        vec![user_ds.clone()]
    );
    assert_eq!(
        up.ids(&format!("{datasets}?q=nouveau")).await,
        vec![renamed.clone()]
    );
    // Private and deleted datasets stay hidden.
    assert!(up.ids(&format!("{datasets}?q=brouillon")).await.is_empty());
    assert!(up.ids(&format!("{datasets}?q=supprime")).await.is_empty());
    // Filters on values derived from the documents and resources.
    let csv = {
        let mut v = vec![org_ds.clone(), user_ds.clone()];
        v.sort();
        v
    };
    assert_eq!(up.ids(&format!("{datasets}?format=csv")).await, csv);
    assert_eq!(
        up.ids(&format!("{datasets}?format=json")).await,
        vec![org_ds.clone()]
    );
    for query in [
        "geozone=fr:commune:75056",
        "granularity=fr:commune",
        "temporal_coverage=2024-01-01-2024-01-31",
        "license=lov2",
    ] {
        assert_eq!(
            up.ids(&format!("{datasets}?{query}")).await,
            vec![org_ds.clone()],
            "{query}"
        );
    }
    let (status, body) = up
        .call(
            Method::GET,
            "/api/2/datasets/search/?facets=license,format,frequency",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["facets"]["license"],
        serde_json::json!([{"name": "cc-by", "count": 1}, {"name": "lov2", "count": 1},
                           {"name": "notspecified", "count": 1}])
    );
    assert_eq!(
        body["facets"]["format"],
        serde_json::json!([{"name": "csv", "count": 2}, {"name": "json", "count": 1}])
    );
    assert_eq!(body["facets"]["frequency"][0]["count"], 2);
    let org = up.fixture["organization"].as_str().unwrap().to_string();
    assert_eq!(
        up.ids("/api/2/organizations/search/?q=test").await,
        vec![org]
    );
    // Writes after the upgrade keep the derived counts: the json resource goes, so does the format.
    let remote = up.fixture["resources"]["remote"].as_str().unwrap();
    let (status, body) = up
        .call(
            Method::DELETE,
            &format!("/api/1/datasets/{org_ds}/resources/{remote}/"),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(up.ids(&format!("{datasets}?format=json")).await.is_empty());
    assert_eq!(up.ids(&format!("{datasets}?format=csv")).await, csv);
    // Starting again derives nothing more and changes nothing.
    up.state.store.migrate().await.unwrap();
    assert_eq!(up.ids(&format!("{datasets}?format=csv")).await, csv);
    assert_eq!(
        up.ids(&format!("{datasets}?q=ville+de+test")).await,
        vec![org_ds]
    );
}
