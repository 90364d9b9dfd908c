//! Shared by the test binaries: the PostgreSQL database and S3 bucket prefix a test may run on.
//! `TEST_DATABASE_URL` and `TEST_S3_ENDPOINT` (set by `.ci/run`) switch them on.
#![allow(dead_code)]

/// The S3 test bucket, when `TEST_S3_ENDPOINT` is set (CI starts a local S3-compatible server).
pub fn test_s3() -> Option<rudata::files::S3Settings> {
    let endpoint = std::env::var("TEST_S3_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())?;
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
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin_url, String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        TestDatabase {
            admin_url: admin_url.to_string(),
            url: format!("{server}/{name}{query}"),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async code: a thread with its own runtime does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The `rudata` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_rudata");

/// A `rudata` command on a data dir, with extra environment.
pub fn rudata(data: &std::path::Path, env: &[(String, String)]) -> std::process::Command {
    let mut c = std::process::Command::new(BIN);
    c.arg("--data-dir").arg(data);
    // Tests poll and repeat requests from one address far faster than any client should: no rate
    // limits, unless a test sets them.
    c.env("RUDATA_RATE_LIMIT_ANONYMOUS", "0");
    c.env("RUDATA_RATE_LIMIT_AUTHENTICATED", "0");
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c.env("RUST_LOG", "warn");
    c
}

/// Runs a CLI command; returns its stdout (trimmed), failing the test on error.
pub fn cli(data: &std::path::Path, env: &[(String, String)], args: &[&str]) -> String {
    let out = rudata(data, env).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "rudata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A `rudata serve` process; killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// `<base>/api/1`
    pub api: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `rudata serve` on a free port and waits until it listens (it prints its address).
pub fn start(data: &std::path::Path, env: &[(String, String)], extra: &[&str]) -> Server {
    use std::io::BufRead;
    let mut child = rudata(data, env)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(addr) = line.strip_prefix("rudata listening on ") {
            break addr.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let api = format!("{base}/api/1");
    Server { child, base, api }
}

/// One curl call: (status, body).
pub fn curl(args: &[&str]) -> (u16, String) {
    let out = std::process::Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl must be installed");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Whether `check` holds within `limit`, polled every 20 ms: for what another process changes,
/// which a node sees within a bound rather than at once (its cache, see `api::cache`).
pub fn within(limit: std::time::Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        if check() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs `command`, which must exit (a server that started instead is killed after 10 s).
pub fn refused(command: &mut std::process::Command) -> std::process::Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
