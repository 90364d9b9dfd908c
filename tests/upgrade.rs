//! Upgrade from rudata 0.1 (772f365): the current binary opens, in place, a catalog that the old
//! binary made and that kept its own migration table (`schema_migrations`), and answers every saved read
//! as the old one did. The fixtures (tests/fixtures/v0.1.0, written by its make.sh with the old binary)
//! hold the database, the stored files, the server secret, and the old server's answers.
//! SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set (the dump restored into a fresh
//! database, files on the local disk).

mod common;

use std::path::{Path, PathBuf};

use common::{Server, TestDatabase, curl, json};
use serde_json::Value;
use sha1::Digest;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v0.1.0");
const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// The old server's public URL (fixed by make.sh, so that saved URLs do not depend on a port), and a
/// retention and purge grace long enough that neither the half-done upload nor the deleted dataset,
/// days old by the time the test runs, is cleaned away by the jobs the server starts with; and no
/// remote checks (they would write `check:*` extras into the answers the old server saved).
const SERVE_ARGS: [&str; 8] = [
    "--public-url",
    "http://rudata.test",
    "--upload-retention",
    "36500d",
    "--purge-grace",
    "36500d",
    "--check-enabled",
    "false",
];

#[test]
fn sqlite_catalog_of_0_1_upgrades_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_data_dir(&Path::new(FIXTURE).join("sqlite"), &data);
    let db_url = format!("sqlite://{}", data.join("rudata.db").display());
    check_upgrade("sqlite", &data, &db_url, &[]);
}

#[test]
fn postgres_catalog_of_0_1_upgrades_in_place() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL upgrade is not tested");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::create(&admin_url));
    let dump = std::fs::read_to_string(Path::new(FIXTURE).join("postgres.sql")).unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        // A plain-SQL dump (--inserts, no psql meta-commands): one multi-statement query.
        sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_data_dir(&Path::new(FIXTURE).join("postgres"), &data);
    let env = [("RUDATA_DATABASE_URL".to_string(), db.url.clone())];
    check_upgrade("postgres", &data, &db.url, &env);
}

/// The whole upgrade, on a data dir holding a copy of the fixture and a database restored from it.
fn check_upgrade(dialect: &str, data: &Path, db_url: &str, env: &[(String, String)]) {
    let fixture = Fixture::load(dialect);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let legacy_before = rt.block_on(legacy_versions(db_url));
    assert_eq!(
        legacy_before.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        [1, 2],
        "the fixture was migrated by rudata 0.1's own runner"
    );

    // Two processes migrating at once, as nodes starting together do: both succeed, and the versions
    // of `schema_migrations` are recorded once, with the checksums of the migration files.
    let migrating: Vec<_> = (0..2)
        .map(|_| {
            common::rudata(data, env)
                .arg("migrate")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in migrating {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "rudata migrate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let adopted = rt.block_on(sqlx_migrations(db_url));
    // Every migration file of this release, as sqlx names it (`0003_flat_writes.sql`: 3, "flat writes").
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(format!("{MIGRATIONS}/{dialect}"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let expected: Vec<(i64, String, Vec<u8>)> = files
        .iter()
        .map(|file| {
            let name = file.file_stem().unwrap().to_str().unwrap();
            let (version, description) = name.split_once('_').unwrap();
            let sql = std::fs::read(file).unwrap();
            (
                version.parse().unwrap(),
                description.replace('_', " "),
                sha2::Sha384::digest(&sql).to_vec(),
            )
        })
        .collect();
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(
        adopted
            .iter()
            .map(|m| (m.version, m.description.clone(), m.checksum.clone()))
            .collect::<Vec<_>>(),
        expected
    );
    let legacy: Vec<i64> = rt
        .block_on(legacy_versions(db_url))
        .iter()
        .map(|v| v.0)
        .collect();
    for m in &adopted {
        assert_eq!(m.success, 1);
        // sqlx's mark for a migration recorded without being run (a run one has its duration):
        // those 0.1 applied are recorded, never run again; the newer ones are run once.
        let recorded_only = m.execution_time == -1;
        assert_eq!(
            recorded_only,
            legacy.contains(&m.version),
            "migration {}: execution_time {}",
            m.version,
            m.execution_time
        );
    }
    // The old table is left as it was (its dates are the only record of when the schema was made).
    assert_eq!(rt.block_on(legacy_versions(db_url)), legacy_before);

    // First start: every saved answer, unchanged.
    let server = common::start(data, env, &SERVE_ARGS);
    compare_answers(&server, &fixture);
    check_highlights(&server, &fixture);
    drop(server);

    // Second start: nothing re-applied or re-recorded, and the answers are still the same.
    let server = common::start(data, env, &SERVE_ARGS);
    assert_eq!(rt.block_on(sqlx_migrations(db_url)), adopted);
    assert_eq!(rt.block_on(legacy_versions(db_url)), legacy_before);
    compare_answers(&server, &fixture);

    // Writes work on the upgraded catalog.
    check_writes(&server, &fixture, data);
    drop(server);
    assert_eq!(rt.block_on(sqlx_migrations(db_url)), adopted);
}

/// What make.sh recorded besides the answers: keys, ids and the expected file contents.
struct Fixture {
    dir: PathBuf,
    meta: Value,
    key: String,
}

impl Fixture {
    fn load(dialect: &str) -> Fixture {
        let dir = Path::new(FIXTURE).join(dialect);
        let meta = json(&std::fs::read_to_string(dir.join("fixture.json")).unwrap());
        let key = meta["publisher_key"].as_str().unwrap().to_string();
        Fixture { dir, meta, key }
    }

    fn str(&self, pointer: &str) -> &str {
        self.meta
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("fixture.json has no {pointer}"))
    }

    /// Every saved answer, by file name.
    fn answers(&self) -> Vec<(String, Value)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.join("answers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        assert!(names.len() >= 20, "answers missing from the fixture");
        names
            .into_iter()
            .map(|p| {
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                (name, json(&std::fs::read_to_string(&p).unwrap()))
            })
            .collect()
    }

    fn answer(&self, name: &str) -> Value {
        let path = self.dir.join("answers").join(format!("{name}.json"));
        json(&std::fs::read_to_string(path).unwrap())
    }
}

/// One HTTP answer, raw.
struct Reply {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

/// GET `path` on `server`, as the publisher (`key`) or anonymously, without following redirects.
fn get(server: &Server, path: &str, key: Option<&str>) -> Reply {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "-i"]);
    if let Some(key) = key {
        cmd.args(["-H", &format!("X-API-KEY: {key}")]);
    }
    let out = cmd.arg(format!("{}{path}", server.base)).output().unwrap();
    assert!(out.status.success(), "curl {path}");
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer has a blank line after its headers");
    let head = String::from_utf8_lossy(&out.stdout[..split]).into_owned();
    let body = out.stdout[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let location = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_string())
    });
    Reply {
        status,
        location,
        body,
    }
}

/// Drops what is computed from the time of the request: `quality.update_fulfilled_in_time` (whether the
/// last update is within the dataset's frequency of now) and `quality.score`, which counts it; and
/// what counts the requests themselves (`metrics.views`, `metrics.resources_downloads`: this test's
/// own reads and downloads, which 0.1 did not count). Nothing else in the saved answers depends on
/// when they are asked.
fn without_clock(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(q)) = map.get_mut("quality") {
                    q.remove("update_fulfilled_in_time");
                    q.remove("score");
                }
                if let Some(Value::Object(m)) = map.get_mut("metrics") {
                    m.remove("views");
                    m.remove("resources_downloads");
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// Replays every saved read: same status, same Location, same JSON (or the same bytes).
fn compare_answers(server: &Server, fixture: &Fixture) {
    for (name, saved) in fixture.answers() {
        let path = saved["path"].as_str().unwrap();
        let key = match saved["reader"].as_str().unwrap() {
            "owner" => Some(fixture.key.as_str()),
            "anon" => None,
            other => panic!("unknown reader {other}"),
        };
        let reply = get(server, path, key);
        assert_eq!(reply.status, saved["status"], "{name}: status of {path}");
        assert_eq!(
            reply.location.as_deref(),
            saved["location"].as_str(),
            "{name}: Location of {path}"
        );
        if saved["json"].is_null() {
            assert_eq!(
                hex::encode(sha1::Sha1::digest(&reply.body)),
                saved["sha1"].as_str().unwrap(),
                "{name}: bytes of {path}"
            );
        } else {
            let now: Value = serde_json::from_slice(&reply.body)
                .unwrap_or_else(|e| panic!("{name}: {path} is not JSON ({e})"));
            assert_eq!(
                without_clock(now),
                without_clock(saved["json"].clone()),
                "{name}: {path}"
            );
        }
    }
}

/// What the upgrade must keep, spelled out (the saved answers already hold it; this guards against a
/// fixture that would have recorded something else).
fn check_highlights(server: &Server, fixture: &Fixture) {
    // The renamed dataset's old slug still redirects.
    let old = get(
        server,
        &format!("/api/1/datasets/{}/", fixture.str("/old_slug")),
        None,
    );
    assert_eq!(old.status, 308);
    assert_eq!(
        old.location.as_deref(),
        Some(format!("/api/1/datasets/{}/", fixture.str("/new_slug")).as_str())
    );
    // The uploaded file, and the one it replaced, download with their bytes.
    for which in ["current", "replaced"] {
        let file = get(server, fixture.str(&format!("/files/{which}/path")), None);
        assert_eq!(file.status, 200, "{which} file");
        assert_eq!(
            String::from_utf8(file.body).unwrap(),
            fixture.str(&format!("/files/{which}/text")),
            "{which} file"
        );
    }
    // The soft-deleted dataset stays hidden from strangers, file included; its owner still sees it.
    let deleted = format!("/api/1/datasets/{}/", fixture.str("/datasets/deleted"));
    assert_eq!(get(server, &deleted, None).status, 410);
    assert_eq!(get(server, &deleted, Some(&fixture.key)).status, 200);
    assert_eq!(fixture.answer("file-deleted-dataset.anon")["status"], 410);
    assert_eq!(fixture.answer("dataset-private.anon")["status"], 404);
    // The half-done chunked upload kept its part.
    let parts = fixture.answer("upload-parts.owner");
    assert_eq!(parts["json"]["parts"].as_array().map(Vec::len), Some(1));
}

/// Creates a dataset with a remote resource and a file, and finishes the chunked upload that 0.1 left
/// half-done.
fn check_writes(server: &Server, fixture: &Fixture, data: &Path) {
    let api = &server.api;
    let auth = format!("X-API-KEY: {}", fixture.key);
    let json_ct = "Content-Type: application/json";
    let body = serde_json::json!({
        "title": "Après la mise à jour",
        "description": "Créé par la nouvelle version",
        "organization": fixture.str("/organization"),
        "tags": ["budget"],
    })
    .to_string();
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/"),
        "-H",
        json_ct,
        "-H",
        &auth,
        "-d",
        &body,
    ]);
    assert_eq!(code, 201, "{out}");
    let created = json(&out);
    assert_eq!(created["slug"], "apres-la-mise-a-jour");
    let id = created["id"].as_str().unwrap();
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/{id}/resources/"),
        "-H",
        json_ct,
        "-H",
        &auth,
        "-d",
        r#"{"title": "Distant", "filetype": "remote", "format": "csv", "url": "https://example.org/apres.csv"}"#,
    ]);
    assert_eq!(code, 201, "{out}");
    let upload = data.join("apres.csv");
    std::fs::write(&upload, "apres,mise a jour\n").unwrap();
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/{id}/upload/"),
        "-H",
        &auth,
        "-F",
        &format!("file=@{}", upload.display()),
    ]);
    assert_eq!(code, 201, "{out}");
    let url = json(&out)["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(fixture.str("/public_url")).unwrap();
    assert_eq!(get(server, path, None).body, b"apres,mise a jour\n");
    let (code, out) = curl(&[&format!("{api}/datasets/{id}/"), "-H", &auth]);
    assert_eq!(code, 200, "{out}");
    assert_eq!(json(&out)["resources"].as_array().map(Vec::len), Some(2));

    // The chunked upload 0.1 left at part 0 of 2: send part 1, then assemble.
    let org_ds = fixture.str("/datasets/org");
    let uuid = fixture.str("/upload/uuid");
    let part = data.join("part-1");
    std::fs::write(&part, "seconde partie\n").unwrap();
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/{org_ds}/upload/"),
        "-H",
        &auth,
        "-F",
        &format!("uuid={uuid}"),
        "-F",
        "filename=gros.csv",
        "-F",
        "partindex=1",
        "-F",
        "totalparts=2",
        "-F",
        "chunksize=15",
        "-F",
        &format!("file=@{}", part.display()),
    ]);
    assert_eq!(code, 200, "{out}");
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/{org_ds}/upload/"),
        "-H",
        &auth,
        "-F",
        &format!("uuid={uuid}"),
        "-F",
        "filename=gros.csv",
        "-F",
        "totalparts=2",
    ]);
    assert_eq!(code, 201, "{out}");
    let url = json(&out)["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(fixture.str("/public_url")).unwrap();
    let assembled = get(server, path, None);
    assert_eq!(assembled.status, 200);
    assert_eq!(
        String::from_utf8(assembled.body).unwrap(),
        format!("{}seconde partie\n", fixture.str("/upload/part0"))
    );
}

/// A row of sqlx's `_sqlx_migrations`, with what varies between dialects made comparable.
#[derive(Debug, PartialEq)]
struct SqlxMigration {
    version: i64,
    description: String,
    checksum: Vec<u8>,
    success: i64,
    execution_time: i64,
    installed_on: String,
}

async fn sqlx_migrations(url: &str) -> Vec<SqlxMigration> {
    use sqlx::Row;
    let mut conn = connect(url).await;
    let rows = sqlx::query(
        "SELECT version, description, checksum, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) AS success, execution_time,
                CAST(installed_on AS TEXT) AS installed_on
         FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    close(conn).await;
    rows.iter()
        .map(|r| SqlxMigration {
            version: r.get("version"),
            description: r.get("description"),
            checksum: r.get("checksum"),
            success: r.get("success"),
            execution_time: r.get("execution_time"),
            installed_on: r.get("installed_on"),
        })
        .collect()
}

/// rudata 0.1's `schema_migrations(version, applied_at)`.
async fn legacy_versions(url: &str) -> Vec<(i64, String)> {
    let mut conn = connect(url).await;
    let rows = sqlx::query_as("SELECT version, applied_at FROM schema_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    close(conn).await;
    rows
}

async fn connect(url: &str) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await.unwrap()
}

async fn close(conn: sqlx::AnyConnection) {
    use sqlx::Connection;
    conn.close().await.unwrap();
}

/// What the old server's data dir held: the SQLite database (if any), the server secret (tokens are
/// keyed with it) and the stored files.
fn copy_data_dir(fixture: &Path, data: &Path) {
    std::fs::create_dir_all(data).unwrap();
    for name in ["rudata.db", "secret.key"] {
        if fixture.join(name).exists() {
            std::fs::copy(fixture.join(name), data.join(name)).unwrap();
        }
    }
    copy_dir(&fixture.join("files"), &data.join("files"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
