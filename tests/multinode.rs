//! Several stateless nodes: two `rudata serve` processes on one PostgreSQL database and one
//! S3-compatible bucket. Runs when `TEST_DATABASE_URL` and `TEST_S3_ENDPOINT` are set (`.ci/run`
//! starts both services); without them there is no shared database or bucket to test against.

mod common;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{Server, curl, json};
use sha1::{Digest, Sha1};

struct Cluster {
    env: Vec<(String, String)>,
    data: tempfile::TempDir,
}

impl Cluster {
    /// Each node has its own (empty) data dir: nothing in it is shared or needed.
    fn command(&self, node: &str) -> Command {
        common::rudata(&self.data.path().join(node), &self.env)
    }

    fn cli(&self, node: &str, args: &[&str]) -> String {
        common::cli(&self.data.path().join(node), &self.env, args)
    }

    fn start(&self, node: &str) -> Server {
        common::start(&self.data.path().join(node), &self.env, &[])
    }
}

/// Object keys in the bucket under `prefix` (S3 ListObjectsV2, unsigned: the test server accepts it).
fn bucket_keys(endpoint: &str, bucket: &str, prefix: &str) -> Vec<String> {
    let (code, xml) = curl(&[&format!("{endpoint}/{bucket}?list-type=2&prefix={prefix}")]);
    assert_eq!(code, 200, "{xml}");
    xml.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

#[test]
fn two_nodes_share_one_database_and_one_bucket() {
    let (Ok(admin_url), Some(s3)) = (std::env::var("TEST_DATABASE_URL"), common::test_s3()) else {
        eprintln!(
            "TEST_DATABASE_URL and TEST_S3_ENDPOINT are not set: no shared PostgreSQL and bucket to run on"
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(common::TestDatabase::create(&admin_url));
    let endpoint = s3.endpoint.clone().unwrap();
    let bucket = format!("rudata-multinode-{}", rudata::domain::ids::new_object_id());
    assert_eq!(curl(&["-X", "PUT", &format!("{endpoint}/{bucket}")]).0, 200);
    let cluster = Cluster {
        env: vec![
            ("RUDATA_DATABASE_URL".into(), db.url.clone()),
            ("RUDATA_STORAGE".into(), "s3".into()),
            ("RUDATA_S3_BUCKET".into(), bucket.clone()),
            ("RUDATA_S3_ENDPOINT".into(), endpoint.clone()),
            ("RUDATA_S3_REGION".into(), s3.region.clone()),
            ("RUDATA_S3_ACCESS_KEY_ID".into(), s3.access_key_id.clone()),
            (
                "RUDATA_S3_SECRET_ACCESS_KEY".into(),
                s3.secret_access_key.clone(),
            ),
            (
                "RUDATA_SECRET_KEY".into(),
                "multinode-test-secret-multinode-test-secret".into(),
            ),
        ],
        data: tempfile::tempdir().unwrap(),
    };
    cluster.cli("a", &["migrate"]);
    cluster.cli("a", &["user", "create", "--email", "pub@example.org"]);
    let key = cluster.cli("b", &["token", "create", "--email", "pub@example.org"]);
    let hkey = format!("X-API-KEY: {key}");
    let a = cluster.start("a");
    let b = cluster.start("b");

    // Written on one node, read on the other (the API key too: the secret is shared).
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{}/datasets/", a.api),
        "-H",
        "Content-Type: application/json",
        "-H",
        &hkey,
        "-d",
        r#"{"title": "Shared", "description": "d"}"#,
    ]);
    assert_eq!(code, 201, "{out}");
    let id = json(&out)["id"].as_str().unwrap().to_string();
    let (code, out) = curl(&[&format!("{}/datasets/{id}/", b.api)]);
    assert_eq!(code, 200, "{out}");
    assert_eq!(json(&out)["title"], "Shared");

    // Each node keeps anonymous answers; a write on the other node reaches them within a second
    // (PostgreSQL's NOTIFY), without waiting for anything else to write on this node.
    let list = format!("{}/datasets/?q=shared", b.api);
    let total = || json(&curl(&[&list]).1)["total"].as_i64().unwrap();
    assert_eq!(total(), 1);
    assert!(common::within(Duration::from_secs(1), || {
        curl(&["-D", "-", &list]).1.contains("x-rudata-cache: hit")
    }));
    let (code, _) = curl(&[
        "-X",
        "PUT",
        &format!("{}/datasets/{id}/", a.api),
        "-H",
        "Content-Type: application/json",
        "-H",
        &hkey,
        "-d",
        r#"{"title": "Shared and renamed"}"#,
    ]);
    assert_eq!(code, 200);
    let doc = format!("{}/datasets/{id}/", b.api);
    assert!(common::within(Duration::from_secs(1), || {
        json(&curl(&[&doc]).1)["title"] == "Shared and renamed"
    }));
    let (code, _) = curl(&[
        "-X",
        "POST",
        &format!("{}/datasets/", a.api),
        "-H",
        "Content-Type: application/json",
        "-H",
        &hkey,
        "-d",
        r#"{"title": "Shared too", "description": "d"}"#,
    ]);
    assert_eq!(code, 201);
    assert!(common::within(Duration::from_secs(1), || total() == 2));

    // 40 simultaneous uploads to one dataset, split over the two nodes: none is lost.
    let files = tempfile::tempdir().unwrap();
    let mut expected = HashSet::new();
    let mut paths = Vec::new();
    for i in 0..40 {
        let content = format!("upload {i}\n").repeat(1000 + i);
        expected.insert(hex::encode(Sha1::digest(content.as_bytes())));
        let path = files.path().join(format!("part-{i}.csv"));
        std::fs::write(&path, content).unwrap();
        paths.push(path);
    }
    let apis = Arc::new([a.api.clone(), b.api.clone()]);
    let threads: Vec<_> = paths
        .into_iter()
        .enumerate()
        .map(|(i, path)| {
            let (apis, hkey, id) = (apis.clone(), hkey.clone(), id.clone());
            std::thread::spawn(move || {
                let api = &apis[i % 2];
                curl(&[
                    "-X",
                    "POST",
                    &format!("{api}/datasets/{id}/upload/"),
                    "-H",
                    &hkey,
                    "-F",
                    &format!("file=@{}", path.display()),
                ])
            })
        })
        .collect();
    for t in threads {
        let (code, out) = t.join().unwrap();
        assert_eq!(code, 201, "{out}");
    }
    let (_, out) = curl(&[&format!("{}/datasets/{id}/", a.api)]);
    let resources = json(&out)["resources"].as_array().unwrap().clone();
    assert_eq!(resources.len(), 40);
    let got: HashSet<String> = resources
        .iter()
        .map(|r| r["checksum"]["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, expected);

    // Concurrent metadata edits of different resources on both nodes: every change is kept.
    let threads: Vec<_> = resources
        .iter()
        .take(20)
        .enumerate()
        .map(|(i, r)| {
            let (apis, hkey, id) = (apis.clone(), hkey.clone(), id.clone());
            let rid = r["id"].as_str().unwrap().to_string();
            std::thread::spawn(move || {
                let body = format!(r#"{{"title": "edited {i}"}}"#);
                curl(&[
                    "-X",
                    "PUT",
                    &format!("{}/datasets/{id}/resources/{rid}/", apis[i % 2]),
                    "-H",
                    "Content-Type: application/json",
                    "-H",
                    &hkey,
                    "-d",
                    &body,
                ])
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().0, 200);
    }
    let (_, out) = curl(&[&format!("{}/datasets/{id}/", b.api)]);
    let titles: HashSet<String> = json(&out)["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    for i in 0..20 {
        assert!(titles.contains(&format!("edited {i}")), "lost edit {i}");
    }

    // Delete five datasets (with files), then purge from two nodes at once: each goes once, both exit 0.
    let mut doomed = vec![id.clone()];
    for n in 0..4 {
        let (_, out) = curl(&[
            "-X",
            "POST",
            &format!("{}/datasets/", b.api),
            "-H",
            "Content-Type: application/json",
            "-H",
            &hkey,
            "-d",
            &format!(r#"{{"title": "Doomed {n}", "description": "d"}}"#),
        ]);
        let did = json(&out)["id"].as_str().unwrap().to_string();
        let path = files.path().join("doomed.csv");
        std::fs::write(&path, format!("doomed {n}")).unwrap();
        assert_eq!(
            curl(&[
                "-X",
                "POST",
                &format!("{}/datasets/{did}/upload/", a.api),
                "-H",
                &hkey,
                "-F",
                &format!("file=@{}", path.display())
            ])
            .0,
            201
        );
        doomed.push(did);
    }
    for did in &doomed {
        assert_eq!(
            curl(&[
                "-X",
                "DELETE",
                &format!("{}/datasets/{did}/", a.api),
                "-H",
                &hkey
            ])
            .0,
            204
        );
        assert!(!bucket_keys(&endpoint, &bucket, &format!("resources/{did}/")).is_empty());
    }
    let purgers: Vec<_> = ["a", "b"]
        .iter()
        .map(|node| {
            cluster
                .command(node)
                .args(["purge", "--now"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut purged = 0;
    for p in purgers {
        let out = p.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        purged += text
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<usize>()
            .unwrap();
    }
    assert_eq!(purged, doomed.len(), "each dataset purged exactly once");
    for did in &doomed {
        assert_eq!(
            curl(&["-H", &hkey, &format!("{}/datasets/{did}/", b.api)]).0,
            404
        );
        assert!(
            bucket_keys(&endpoint, &bucket, &format!("resources/{did}/")).is_empty(),
            "objects of {did} left in the bucket"
        );
    }
    drop((a, b));
    drop(db);
}

/// Rate limits hold across nodes: requests spread over two nodes of one PostgreSQL database count
/// together, each node seeing the other's about a second late (the tolerance the README states).
/// Needs only `TEST_DATABASE_URL` (each node keeps its files apart; no file is involved).
#[test]
fn two_nodes_hold_one_rate_limit() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: no shared PostgreSQL to run on");
        return;
    };
    const LIMIT: usize = 30;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(common::TestDatabase::create(&admin_url));
    let cluster = Cluster {
        env: vec![
            ("RUDATA_DATABASE_URL".into(), db.url.clone()),
            (
                "RUDATA_SECRET_KEY".into(),
                "multinode-test-secret-multinode-test-secret".into(),
            ),
            ("RUDATA_RATE_LIMIT_ANONYMOUS".into(), LIMIT.to_string()),
        ],
        data: tempfile::tempdir().unwrap(),
    };
    cluster.cli("a", &["migrate"]);
    let nodes = [cluster.start("a"), cluster.start("b")];
    // Twice the limit, alternately on each node, about ten a second; `None` if the run straddled two
    // minutes (counts start again at each minute).
    let minute = || chrono::Utc::now().timestamp().div_euclid(60);
    let run = || {
        let started = minute();
        let mut passed = [0, 0];
        let mut last = [0, 0];
        for i in 0..2 * LIMIT {
            let (code, out) = curl(&[&format!("{}/datasets/", nodes[i % 2].api)]);
            assert!(code == 200 || code == 429, "{code}: {out}");
            passed[i % 2] += usize::from(code == 200);
            last[i % 2] = code;
            std::thread::sleep(Duration::from_millis(100));
        }
        (minute() == started).then_some((passed, last))
    };
    let until_next_minute = || {
        let second = chrono::Utc::now().timestamp().rem_euclid(60);
        std::thread::sleep(Duration::from_secs((61 - second) as u64));
    };
    // Begin early in a minute, so that the run stays inside it; once more in the next if not.
    if chrono::Utc::now().timestamp().rem_euclid(60) > 25 {
        until_next_minute();
    }
    let (passed, last) = run()
        .or_else(|| {
            until_next_minute();
            run()
        })
        .expect("two runs straddled a minute: the machine is far too slow");
    // Each node counting alone would have let all its requests through (the limit on each, twice
    // the limit in all). Together: the limit, plus at most what one node let through before it
    // heard of the other's last requests.
    let total = passed[0] + passed[1];
    eprintln!("requests let through by each node: {passed:?}");
    assert!(total >= LIMIT, "{passed:?}");
    assert!(total <= LIMIT + LIMIT / 2, "{passed:?}");
    assert_eq!(last, [429, 429], "{passed:?}");
}

/// Identities are kept per node (`auth::IdentityCache`), and a revocation reaches every node within
/// the identity TTL: at once through the change notifications when made through rudata, and by the
/// TTL alone when the database was changed behind rudata's back (no notification).
#[test]
fn a_revocation_on_one_node_is_refused_by_the_other_within_the_identity_ttl() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: no shared PostgreSQL to run on");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(common::TestDatabase::create(&admin_url));
    let ttl = Duration::from_secs(2);
    let cluster = Cluster {
        env: vec![
            ("RUDATA_DATABASE_URL".into(), db.url.clone()),
            ("RUDATA_IDENTITY_TTL".into(), "2s".into()),
            (
                "RUDATA_SECRET_KEY".into(),
                "multinode-test-secret-multinode-test-secret".into(),
            ),
        ],
        data: tempfile::tempdir().unwrap(),
    };
    cluster.cli("a", &["migrate"]);
    cluster.cli("a", &["user", "create", "--email", "pub@example.org"]);
    let a = cluster.start("a");
    let b = cluster.start("b");
    let me = |node: &Server, key: &str| {
        curl(&[
            "-H",
            &format!("X-API-KEY: {key}"),
            &format!("{}/me/", node.api),
        ])
    };
    let token_id = |key: &str| {
        let (code, out) = curl(&[
            "-H",
            &format!("X-API-KEY: {key}"),
            &format!("{}/me/api_tokens/", a.api),
        ]);
        assert_eq!(code, 200, "{out}");
        let tokens = json(&out);
        let prefix = &key[..14];
        tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["token_prefix"] == prefix)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // Revoked through node A: node B, which holds the identity, refuses it within the bound.
    let key = cluster.cli("a", &["token", "create", "--email", "pub@example.org"]);
    assert_eq!(me(&b, &key).0, 200);
    let id = token_id(&key);
    let (code, out) = curl(&[
        "-X",
        "DELETE",
        "-H",
        &format!("X-API-KEY: {key}"),
        &format!("{}/me/api_tokens/{id}/", a.api),
    ]);
    assert_eq!(code, 204, "{out}");
    let (code, out) = me(&a, &key);
    assert_eq!(
        (code, json(&out)["message"].clone()),
        (401, "Revoked API token".into())
    );
    let margin = Duration::from_secs(3);
    assert!(common::within(ttl + margin, || me(&b, &key).0 == 401));
    assert_eq!(json(&me(&b, &key).1)["message"], "Revoked API token");

    // Revoked in the database directly (no notification reaches the nodes): the TTL alone bounds
    // how long node B keeps accepting it.
    let key = cluster.cli("a", &["token", "create", "--email", "pub@example.org"]);
    assert_eq!(me(&b, &key).0, 200);
    let id = token_id(&key);
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let now = rudata::domain::time::to_db(&chrono::Utc::now());
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(&mut conn)
            .await
            .unwrap();
    });
    assert!(common::within(ttl + margin, || me(&b, &key).0 == 401));
    assert!(common::within(ttl + margin, || me(&a, &key).0 == 401));
}

/// Views and downloads counted on two nodes of one PostgreSQL database add up exactly: each node
/// flushes its own increments (here at its graceful stop, the interval being an hour).
#[test]
fn two_nodes_count_views_and_downloads_exactly() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: no shared PostgreSQL to count on");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(common::TestDatabase::create(&admin_url));
    let cluster = Cluster {
        env: vec![
            ("RUDATA_DATABASE_URL".into(), db.url.clone()),
            (
                "RUDATA_SECRET_KEY".into(),
                "multinode-test-secret-multinode-test-secret".into(),
            ),
            ("RUDATA_COUNTER_FLUSH".into(), "1h".into()),
        ],
        data: tempfile::tempdir().unwrap(),
    };
    cluster.cli("a", &["migrate"]);
    cluster.cli("a", &["user", "create", "--email", "pub@example.org"]);
    let key = cluster.cli("a", &["token", "create", "--email", "pub@example.org"]);
    let hkey = format!("X-API-KEY: {key}");
    let a = cluster.start("a");
    let b = cluster.start("b");
    let (code, body) = curl(&[
        "-X",
        "POST",
        &format!("{}/datasets/", a.api),
        "-H",
        &hkey,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"title": "Counted on two nodes", "description": "d"}"#,
    ]);
    assert_eq!(code, 201, "{body}");
    let id = json(&body)["id"].as_str().unwrap().to_string();
    // A remote resource: its permalink counts a download on whichever node answers it.
    let (code, body) = curl(&[
        "-X",
        "POST",
        &format!("{}/datasets/{id}/resources/", a.api),
        "-H",
        &hkey,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"title": "Remote", "filetype": "remote", "url": "https://example.com/a.csv"}"#,
    ]);
    assert_eq!(code, 201, "{body}");
    let rid = json(&body)["id"].as_str().unwrap().to_string();
    let counts = [(&a, 3, 2), (&b, 4, 5)];
    for (node, views, downloads) in counts {
        for _ in 0..views {
            assert_eq!(curl(&[&format!("{}/datasets/{id}/", node.api)]).0, 200);
        }
        for _ in 0..downloads {
            assert_eq!(curl(&[&format!("{}/datasets/r/{rid}", node.api)]).0, 302);
        }
    }
    // Refused: not counted.
    assert_eq!(curl(&[&format!("{}/datasets/r/{rid}x", b.api)]).0, 404);
    for node in [a, b] {
        let mut node = node;
        let term = Command::new("kill")
            .args(["-TERM", &node.child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        assert!(node.child.wait().unwrap().success());
    }
    let stored = |id: &str| -> (i64, i64) {
        rt.block_on(async {
            use sqlx::{Connection, Row};
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let row = sqlx::query("SELECT views, downloads FROM object_counters WHERE id = $1")
                .bind(id)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            (row.get("views"), row.get("downloads"))
        })
    };
    assert_eq!(stored(&id), (7, 7));
    assert_eq!(stored(&rid), (0, 7));
    // And the API shows them.
    let c = cluster.start("c");
    let (code, body) = curl(&[&format!("{}/datasets/{id}/", c.api)]);
    assert_eq!(code, 200);
    let dataset = json(&body);
    assert_eq!(dataset["metrics"]["views"], 7);
    assert_eq!(dataset["metrics"]["resources_downloads"], 7);
    assert_eq!(dataset["resources"][0]["metrics"]["views"], 7);
}
