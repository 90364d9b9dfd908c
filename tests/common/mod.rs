//! Shared by the test binaries: the PostgreSQL database and S3 bucket prefix a test may run on.
//! `TEST_DATABASE_URL` and `TEST_S3_ENDPOINT` (set by `.ci/run`) switch them on.
#![allow(dead_code)]

/// The S3 test bucket, when `TEST_S3_ENDPOINT` is set (CI starts a local S3-compatible server).
pub fn test_s3() -> Option<rudata::files::S3Settings> {
    let endpoint = std::env::var("TEST_S3_ENDPOINT").ok().filter(|e| !e.is_empty())?;
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    Some(rudata::files::S3Settings {
        bucket: var("TEST_S3_BUCKET", "rudata-test"),
        region: var("TEST_S3_REGION", "us-east-1"),
        endpoint: Some(endpoint),
        access_key_id: var("TEST_S3_ACCESS_KEY_ID", "test"),
        secret_access_key: var("TEST_S3_SECRET_ACCESS_KEY", "test"),
    })
}

/// A database created for one test on the server of `TEST_DATABASE_URL`. Only databases this
/// harness created (named `rudata_test_<id>`) are ever dropped.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create(admin_url: &str) -> TestDatabase {
        use sqlx::Connection;
        let name = format!("rudata_test_{}", rudata::domain::ids::new_object_id());
        let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin_url, String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        TestDatabase { admin_url: admin_url.to_string(), url: format!("{server}/{name}{query}"), name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async code: a thread with its own runtime does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}
