//! The operator's side, through the real binary: tokens made from the CLI (scopes, expiry), the
//! CLI's writes in the activity log, `/metrics` on an address of its own with the counts flushed at
//! a graceful stop, and the progress lines of long commands.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{curl, json, refused, start};

fn cli(data: &std::path::Path, args: &[&str]) -> String {
    common::cli(data, &[], args)
}

#[test]
fn operators_make_scoped_and_expiring_tokens_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    cli(data, &["user", "create", "--email", "s@example.org"]);
    let org = cli(
        data,
        &[
            "org",
            "create",
            "--name",
            "Scoped",
            "--admin-email",
            "s@example.org",
        ],
    );
    let read = cli(
        data,
        &[
            "token",
            "create",
            "--email",
            "s@example.org",
            "--scope",
            "read",
            "--expires",
            "30d",
        ],
    );
    let scoped = cli(
        data,
        &[
            "token",
            "create",
            "--email",
            "s@example.org",
            "--scope",
            &format!("organization:{org}"),
            "--scope",
            "read",
            "--expires",
            "2999-12-31",
        ],
    );
    for (args, why) in [
        (vec!["--scope", "write"], "invalid scope"),
        (
            vec!["--scope", "dataset:5f1e2d3c4b5a697887960504"],
            "no such dataset",
        ),
        (vec!["--expires", "2001-01-01"], "in the future"),
        (vec!["--expires", "soon"], "duration"),
    ] {
        let out = refused(
            common::rudata(data, &[])
                .args(["token", "create", "--email", "s@example.org"])
                .args(&args),
        );
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{args:?}: {err}");
    }

    let server = start(data, &[], &[]);
    let (code, out) = curl(&[
        "-H",
        &format!("X-API-KEY: {read}"),
        &format!("{}/me/api_tokens/", server.api),
    ]);
    assert_eq!(code, 200, "{out}");
    let tokens = json(&out);
    let listed = |key: &str| {
        tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| key.starts_with(t["token_prefix"].as_str().unwrap()))
            .unwrap()
            .clone()
    };
    assert_eq!(listed(&read)["scopes"], serde_json::json!(["read"]));
    let in_30_days = chrono::Utc::now() + chrono::Duration::days(30);
    let expires = listed(&read)["expires_at"].as_str().unwrap().to_string();
    assert!(
        expires.starts_with(&in_30_days.format("%Y-%m-").to_string()),
        "{expires}"
    );
    assert_eq!(
        listed(&scoped)["scopes"],
        serde_json::json!([format!("organization:{org}"), "read"])
    );
    assert!(
        listed(&scoped)["expires_at"]
            .as_str()
            .unwrap()
            .starts_with("2999-12-31")
    );

    let create = |key: &str, body: &str| {
        curl(&[
            "-X",
            "POST",
            "-H",
            &format!("X-API-KEY: {key}"),
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            &format!("{}/datasets/", server.api),
        ])
        .0
    };
    let in_org = format!(r#"{{"title": "t", "description": "d", "organization": "{org}"}}"#);
    assert_eq!(create(&read, &in_org), 403);
    assert_eq!(create(&scoped, &in_org), 201);
    assert_eq!(
        create(&scoped, r#"{"title": "t", "description": "d"}"#),
        403
    );
}

/// What the operator CLI writes is in the activity log: by the account `--actor` names, or by no
/// one; the server beside it serves the entries.
#[test]
fn cli_writes_are_in_the_activity_log_with_the_operators_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    cli(
        data,
        &["user", "create", "--email", "op@example.org", "--sysadmin"],
    );
    cli(data, &["user", "create", "--email", "pub@example.org"]);
    let key = cli(data, &["token", "create", "--email", "pub@example.org"]);
    let op_key = cli(data, &["token", "create", "--email", "op@example.org"]);
    let org = cli(
        data,
        &[
            "--actor",
            "op@example.org",
            "org",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "pub@example.org",
        ],
    );
    // An unknown account is refused before anything is written.
    let out = refused(common::rudata(data, &[]).args([
        "--actor",
        "nobody@example.org",
        "dataset",
        "delete",
        "anything",
    ]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user with e-mail"));

    let server = start(data, &[], &[]);
    let api = &server.api;
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/"),
        "-H",
        "Content-Type: application/json",
        "-H",
        &format!("X-API-KEY: {key}"),
        "-d",
        &format!(r#"{{"title": "Budget", "description": "d", "organization": "{org}"}}"#),
    ]);
    assert_eq!(code, 201, "{out}");
    let ds = json(&out)["id"].as_str().unwrap().to_string();
    cli(
        data,
        &["dataset", "delete", "budget", "--actor", "op@example.org"],
    );
    cli(data, &["dataset", "restore", "budget"]);

    let log = |query: &str| {
        let (code, out) = curl(&[
            "-H",
            &format!("X-API-KEY: {op_key}"),
            &format!("{api}/activity/?{query}"),
        ]);
        assert_eq!(code, 200, "{out}");
        json(&out)["data"].as_array().unwrap().clone()
    };
    let keys = |entries: &[serde_json::Value]| -> Vec<String> {
        entries
            .iter()
            .map(|e| e["key"].as_str().unwrap().to_string())
            .collect()
    };
    let history = format!("related_to={ds}");
    assert!(
        common::within(Duration::from_secs(1), || log(&history).len() == 3),
        "{:?}",
        log(&history)
    );
    let entries = log(&history);
    assert_eq!(
        keys(&entries),
        ["dataset:updated", "dataset:deleted", "dataset:created"]
    );
    assert!(entries[0]["actor"].is_null(), "no --actor: no one");
    assert_eq!(entries[0]["changes"], serde_json::json!(["deleted"]));
    assert_eq!(entries[1]["actor"]["slug"], "op");
    assert!(entries[1]["api_token"].is_null(), "the CLI uses no token");
    assert!(entries[2]["api_token"].is_string());
    let created = log(&format!("organization={org}&key=organization:created"));
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["actor"]["slug"], "op");

    // A purge by hand is the operator's too; the history stays for sysadmins.
    cli(data, &["dataset", "delete", "budget"]);
    cli(data, &["--actor", "op@example.org", "purge", "--now"]);
    assert!(common::within(Duration::from_secs(1), || {
        log(&history).first().map(|e| e["key"].clone()) == Some("dataset:purged".into())
    }));
    let entries = log(&history);
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0]["actor"]["slug"], "op");
}

/// `rudata serve --metrics-bind`: `/metrics` on an address of its own, to anyone, and not on the
/// API's (no token set); the views counted are flushed when the server stops gracefully.
#[test]
fn metrics_on_their_own_address_and_counts_flushed_at_a_graceful_stop() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    let user = "pub@example.org";
    cli(data, &["user", "create", "--email", user]);
    let key = cli(data, &["token", "create", "--email", user]);
    let hkey = format!("X-API-KEY: {key}");
    let mut child = common::rudata(data, &[])
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--metrics-bind",
            "127.0.0.1:0",
        ])
        // Only the flush at the stop writes the counts.
        .args(["--counter-flush", "1h"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut metrics, mut base) = (None, None);
    while base.is_none() {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(url) = line.strip_prefix("rudata metrics on ") {
            metrics = Some(url.trim().to_string());
        }
        if let Some(addr) = line.strip_prefix("rudata listening on ") {
            base = Some(addr.trim().to_string());
        }
    }
    let (metrics, base) = (metrics.expect("the metrics address"), base.unwrap());
    let api = format!("{base}/api/1");
    let (code, body) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/"),
        "-H",
        &hkey,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"title": "Counted", "description": "Seen twice"}"#,
    ]);
    assert_eq!(code, 201, "{body}");
    let id = json(&body)["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        assert_eq!(curl(&[&format!("{api}/datasets/{id}/")]).0, 200);
    }

    let (code, text) = curl(&[&metrics]);
    assert_eq!(code, 200, "{text}");
    assert!(
        text.contains(
            "rudata_http_requests_total{method=\"GET\",route=\"/api/1/datasets/{id}\",status=\"200\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains("rudata_db_pool_connections{pool=\"read\"}"),
        "{text}"
    );
    // Not on the API's address (no token set), and nothing else on the metrics one.
    let (code, body) = curl(&[&format!("{base}/metrics")]);
    assert_eq!(code, 404);
    assert!(json(&body)["message"].is_string());
    let other = metrics.replace("/metrics", "/api/1/datasets/");
    let (code, body) = curl(&[&other]);
    assert_eq!(code, 404);
    assert!(json(&body)["message"].is_string());

    // A graceful stop (SIGTERM) flushes the two views; the next server shows them.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(child.wait().unwrap().success());
    let server = start(data, &[], &[]);
    let (code, body) = curl(&[&format!("{}/datasets/{id}/", server.api)]);
    assert_eq!(code, 200);
    assert_eq!(json(&body)["metrics"]["views"], 2, "{body}");
}

/// Long operator commands print plain progress lines on stderr when it is not a terminal (stdout
/// keeps only the report a script reads).
#[test]
fn operator_commands_print_progress_lines_when_not_in_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = common::rudata(&data, &[])
        .args(["generate", "--datasets", "600", "--resources", "0"])
        .args(["--big-dataset", "1", "--organizations", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.starts_with("601 datasets"), "{stdout}");
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("datasets generated: "))
        .collect();
    assert_eq!(
        progress,
        ["datasets generated: 500/600", "datasets generated: 600/600"],
        "{stderr}"
    );
    assert!(!stderr.contains('\r'), "no bar redrawn: {stderr:?}");

    let big = stdout.trim().rsplit(' ').next().unwrap();
    cli(&data, &["dataset", "delete", big]);
    let out = common::rudata(&data, &[])
        .args(["purge", "--now"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "purged 1 dataset(s), 0 file(s)"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(": ") && l.contains('/'))
        .collect();
    assert_eq!(
        progress,
        [
            "datasets purged: 0/1",
            "datasets purged: 1/1",
            "files deleted: 0/0"
        ],
        "{stderr}"
    );
}
