//! `TestApp`: a rudata instance in process, plus request helpers per verb and per actor.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use rudata::app::handle;
use rudata::config::Config;
use rudata::domain::api_token::TokenKey;
use rudata::files::Files;
use rudata::ops::users::NewUser;
use rudata::state::AppState;
use rudata::store::Store;
use serde_json::{Value, json};

pub use crate::common::{TestDatabase, test_s3};

pub struct TestApp {
    pub state: AppState,
    /// Holds the temporary directory (database, files) for the test's lifetime.
    _dir: tempfile::TempDir,
    /// A sysadmin's API key.
    pub admin_key: String,
    /// The PostgreSQL database made for this test, dropped with it.
    _database: Option<TestDatabase>,
    /// The folder of the S3 test bucket this test's files are under (with `TEST_S3_ENDPOINT`).
    pub s3_prefix: Option<String>,
    /// The database's URL, for a second node on it.
    pub database_url: String,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// A user created for a test, with an API key.
pub struct TestUser {
    pub id: String,
    pub key: String,
}

/// A file part (or plain field) of a multipart upload.
pub enum Part<'a> {
    File {
        name: &'a str,
        filename: &'a str,
        bytes: &'a [u8],
    },
    Field {
        name: &'a str,
        value: String,
    },
}

impl TestApp {
    /// A fresh instance: SQLite in a temp dir, or (with `TEST_DATABASE_URL`) a PostgreSQL database
    /// created for this test and dropped after it; files in a temp dir, or (with `TEST_S3_ENDPOINT`)
    /// under a fresh prefix of the S3 test bucket.
    pub async fn new() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (url, database) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let db = TestDatabase::create(&admin_url).await;
                (db.url.clone(), Some(db))
            }
            _ => (
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
                None,
            ),
        };
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let s3_prefix = test_s3().map(|_| format!("test-{}", rudata::domain::ids::new_object_id()));
        let files = match (test_s3(), &s3_prefix) {
            (Some(s3), Some(prefix)) => Files::s3(&s3, Some(prefix)).unwrap(),
            _ => Files::local(&dir.path().join("files")).unwrap(),
        };
        let config = Config::new(TokenKey::new(
            b"test-secret-test-secret-test-secret".to_vec(),
        ));
        let state = AppState::new(store, files, config);
        // As `rudata serve` does: what another process writes is seen, and answers may be kept.
        state.store.watch_changes();
        let new = NewUser::new("admin@example.org", "Ad", "Min", true).unwrap();
        let admin =
            rudata::ops::users::create_user(&state, &rudata::domain::activity::Actor::none(), new)
                .await
                .unwrap();
        let (_, key) = rudata::ops::tokens::issue_api_token(
            &state,
            &rudata::domain::activity::Actor::none(),
            &admin.id,
            None,
            None,
        )
        .await
        .unwrap();
        TestApp {
            state,
            _dir: dir,
            admin_key: key.expose().to_string(),
            _database: database,
            s3_prefix,
            database_url: url,
        }
    }

    /// A new user with an API key.
    pub async fn user(&self, email: &str) -> TestUser {
        let new = NewUser::new(email, "First", "Last", false).unwrap();
        let user = rudata::ops::users::create_user(
            &self.state,
            &rudata::domain::activity::Actor::none(),
            new,
        )
        .await
        .unwrap();
        let (_, key) = rudata::ops::tokens::issue_api_token(
            &self.state,
            &rudata::domain::activity::Actor::none(),
            &user.id,
            None,
            None,
        )
        .await
        .unwrap();
        TestUser {
            id: user.id,
            key: key.expose().to_string(),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let response = handle(&self.state, req).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "rudata.test");
        if let Some(k) = key {
            req = req.header("X-API-KEY", k);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(b).unwrap()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> TestResponse {
        self.request(Method::GET, path, key, None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(key), Some(&body))
            .await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> TestResponse {
        self.request(Method::PUT, path, Some(key), Some(&body))
            .await
    }

    pub async fn delete(&self, path: &str, key: &str) -> TestResponse {
        self.request(Method::DELETE, path, Some(key), None).await
    }

    /// A multipart/form-data POST.
    pub async fn multipart(
        &self,
        path: &str,
        key: Option<&str>,
        parts: &[Part<'_>],
    ) -> TestResponse {
        let boundary = "----rudata-test-boundary";
        let mut body = Vec::new();
        for part in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match part {
                Part::File {
                    name,
                    filename,
                    bytes,
                } => {
                    body.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    body.extend_from_slice(bytes);
                }
                Part::Field { name, value } => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}")
                            .as_bytes(),
                    );
                }
            }
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("host", "rudata.test")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            );
        if let Some(k) = key {
            req = req.header("X-API-KEY", k);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Uploads one file as a new resource of `dataset`.
    pub async fn upload(
        &self,
        dataset: &str,
        key: &str,
        filename: &str,
        bytes: &[u8],
    ) -> TestResponse {
        self.multipart(
            &format!("/api/1/datasets/{dataset}/upload/"),
            Some(key),
            &[Part::File {
                name: "file",
                filename,
                bytes,
            }],
        )
        .await
    }

    /// Replaces the file of resource `rid` of `dataset` with one upload.
    pub async fn replace_file(
        &self,
        dataset: &str,
        rid: &str,
        key: &str,
        filename: &str,
        bytes: &[u8],
    ) -> TestResponse {
        self.multipart(
            &format!("/api/1/datasets/{dataset}/resources/{rid}/upload/"),
            Some(key),
            &[Part::File {
                name: "file",
                filename,
                bytes,
            }],
        )
        .await
    }

    /// Creates a dataset owned by the key's user; returns its JSON.
    pub async fn dataset(&self, key: &str, title: &str) -> Value {
        let r = self
            .post(
                "/api/1/datasets/",
                key,
                json!({"title": title, "description": "A test dataset"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// Creates an organization administered by the key's user; returns its id.
    pub async fn organization(&self, key: &str, name: &str) -> String {
        let r = self
            .post(
                "/api/1/organizations/",
                key,
                json!({"name": name, "description": "An organization"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }

    /// Adds `user` to `org` with `role` directly (as the CLI does).
    pub async fn add_member(&self, org: &str, user: &TestUser, role: &str) {
        let role = rudata::domain::organization::Role::parse(role).unwrap();
        rudata::ops::organizations::add_member(
            &self.state,
            &rudata::domain::activity::Actor::none(),
            org,
            &user.id,
            role,
        )
        .await
        .unwrap();
    }

    /// A remote resource on `dataset`; returns its JSON.
    pub async fn remote(&self, dataset: &str, key: &str, title: &str) -> Value {
        let r = self
            .post(
                &format!("/api/1/datasets/{dataset}/resources/"),
                key,
                json!({"title": title, "filetype": "remote", "url": "https://example.com/data.csv", "format": "csv"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// Path of a stored file URL (`http://rudata.test/s/...` → `/s/...`).
    /// The directory of the local file storage (`None` when the files are in S3).
    pub fn files_dir(&self) -> Option<std::path::PathBuf> {
        self.state
            .files
            .is_local()
            .then(|| self._dir.path().join("files"))
    }

    pub fn path_of(url: &str) -> String {
        url.strip_prefix("http://rudata.test")
            .unwrap_or(url)
            .to_string()
    }
}

impl TestApp {
    /// A request with an arbitrary body, content type and extra headers.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> TestResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "rudata.test");
        if let Some(k) = key {
            req = req.header("X-API-KEY", k);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }
}

impl TestApp {
    /// Files still marked pending a day from now: what an interrupted or refused upload left behind.
    pub async fn stale_marks(&self) -> Vec<String> {
        self.state
            .store
            .list_stale_pending_files(&(chrono::Utc::now() + chrono::Duration::days(1)))
            .await
            .unwrap()
    }

    /// Changes the configuration (before any request holds the state).
    pub fn configure(&mut self, change: impl FnOnce(&mut rudata::config::Config)) {
        change(std::sync::Arc::get_mut(&mut self.state.config).expect("no request in flight"));
    }

    /// One part of a chunked upload (fields first, then the file).
    pub async fn send_part(
        &self,
        path: &str,
        key: &str,
        uuid: &str,
        index: usize,
        total: usize,
        bytes: &[u8],
    ) -> TestResponse {
        self.multipart(
            path,
            Some(key),
            &[
                Part::Field {
                    name: "uuid",
                    value: uuid.to_string(),
                },
                Part::Field {
                    name: "filename",
                    value: "data.csv".to_string(),
                },
                Part::Field {
                    name: "partindex",
                    value: index.to_string(),
                },
                Part::Field {
                    name: "totalparts",
                    value: total.to_string(),
                },
                Part::Field {
                    name: "chunksize",
                    value: bytes.len().to_string(),
                },
                Part::File {
                    name: "file",
                    filename: "blob",
                    bytes,
                },
            ],
        )
        .await
    }

    /// The final request of a chunked upload, with optional extra fields (e.g. `checksum`).
    pub async fn finish_upload(
        &self,
        path: &str,
        key: &str,
        uuid: &str,
        total: usize,
        extra: &[(&'static str, &str)],
    ) -> TestResponse {
        let mut parts = vec![
            Part::Field {
                name: "uuid",
                value: uuid.to_string(),
            },
            Part::Field {
                name: "filename",
                value: "data.csv".to_string(),
            },
            Part::Field {
                name: "totalparts",
                value: total.to_string(),
            },
        ];
        for (name, value) in extra {
            parts.push(Part::Field {
                name,
                value: value.to_string(),
            });
        }
        self.multipart(path, Some(key), &parts).await
    }
}

/// The sha1 of `bytes`, in hex, as the API writes a checksum.
pub fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(bytes))
}

/// The `id` of an API object (dataset, resource, ...).
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}
