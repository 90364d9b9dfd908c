//! End to end: `rudata serve` as a real process on a free port, driven over real HTTP with curl
//! (as publishers' scripts do), through the whole "managing a dataset through the API" guide.
//! The user, organization and token come from the operator CLI.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{curl, json, start};

fn cli(data: &std::path::Path, args: &[&str]) -> String {
    common::cli(data, &[], args)
}

#[test]
fn the_whole_publishing_guide_over_real_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();

    // Operator: a publisher, their organization, their API key.
    let user_id = cli(
        data,
        &[
            "user",
            "create",
            "--email",
            "pub@example.org",
            "--first-name",
            "Pub",
            "--last-name",
            "Lisher",
        ],
    );
    assert_eq!(user_id.len(), 24);
    let org = cli(
        data,
        &[
            "org",
            "create",
            "--name",
            "Ville de Test",
            "--admin-email",
            "pub@example.org",
        ],
    );
    let key = cli(
        data,
        &[
            "token",
            "create",
            "--email",
            "pub@example.org",
            "--name",
            "ci",
        ],
    );
    assert!(key.starts_with("udata_"));

    let server = start(data, &[], &[]);
    let api = format!("{}/api/1", server.base);
    let hkey = format!("X-API-KEY: {key}");
    let json_ct = "Content-Type: application/json";
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("Données 2024.csv");
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    let csv2 = files.path().join("donnees-v2.csv");
    std::fs::write(&csv2, "a,b\n3,4\n5,6\n").unwrap();

    // 1. Create the dataset for the organization.
    let body = format!(
        r#"{{"title": "Budget primitif", "description": "Le budget de la ville", "organization": "{org}"}}"#
    );
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/"),
        "-H",
        json_ct,
        "-H",
        "Accept: application/json",
        "-H",
        &hkey,
        "-d",
        &body,
    ]);
    assert_eq!(code, 201, "{out}");
    let ds = json(&out);
    let id = ds["id"].as_str().unwrap().to_string();
    assert_eq!(ds["slug"], "budget-primitif");
    assert_eq!(ds["organization"]["id"], org.as_str());

    // 2. Upload a file as a new resource.
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/{id}/upload/"),
        "-H",
        &hkey,
        "-F",
        &format!("file=@{}", csv.display()),
    ]);
    assert_eq!(code, 201, "{out}");
    let file_res = json(&out);
    assert_eq!(file_res["title"], "donnees-2024.csv");
    assert_eq!(file_res["filesize"], 8);
    assert_eq!(
        file_res["checksum"]["value"],
        "2aa26ec98d674d5160b612c7edad7172d85c9df7"
    );
    let rid = file_res["id"].as_str().unwrap().to_string();
    let old_url = file_res["url"].as_str().unwrap().to_string();
    let (code, bytes) = curl(&[&old_url]);
    assert_eq!((code, bytes.as_str()), (200, "a,b\n1,2\n"));

    // 3. Reference a remote file.
    let body = r#"{"title": "Données distantes", "description": "Un fichier distant", "type": "main", "filetype": "remote", "format": "csv", "url": "https://www.example.org/data.csv"}"#;
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/{id}/resources/"),
        "-H",
        json_ct,
        "-H",
        &hkey,
        "-d",
        body,
    ]);
    assert_eq!(code, 201, "{out}");
    let remote = json(&out);
    let remote_id = remote["id"].as_str().unwrap().to_string();

    // 4. Update the dataset's metadata.
    let (code, out) = curl(&[
        "-X",
        "PUT",
        &format!("{api}/datasets/{id}/"),
        "-H",
        json_ct,
        "-H",
        &hkey,
        "-d",
        r#"{"title": "Budget primitif 2024", "description": "Mis à jour"}"#,
    ]);
    assert_eq!(code, 200, "{out}");
    assert_eq!(json(&out)["slug"], "budget-primitif-2024");

    // 5. Update a resource's metadata.
    let (code, out) = curl(&[
        "-X",
        "PUT",
        &format!("{api}/datasets/{id}/resources/{rid}/"),
        "-H",
        json_ct,
        "-H",
        &hkey,
        "-d",
        r#"{"title": "Budget (CSV)", "description": "Le fichier"}"#,
    ]);
    assert_eq!(code, 200, "{out}");
    assert_eq!(json(&out)["title"], "Budget (CSV)");

    // 6. Replace the file: the resource points to the new one, the old one stays downloadable.
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/{id}/resources/{rid}/upload/"),
        "-H",
        &hkey,
        "-F",
        &format!("file=@{}", csv2.display()),
    ]);
    assert_eq!(code, 200, "{out}");
    let replaced = json(&out);
    assert_eq!(replaced["id"], rid.as_str());
    let new_url = replaced["url"].as_str().unwrap().to_string();
    assert_ne!(new_url, old_url);
    assert_eq!(curl(&[&old_url]), (200, "a,b\n1,2\n".to_string()));
    assert_eq!(curl(&[&new_url]), (200, "a,b\n3,4\n5,6\n".to_string()));
    let (code, out) = curl(&["-D", "-", &format!("{api}/datasets/r/{rid}")]);
    assert_eq!(code, 302);
    assert!(out.contains(&new_url), "{out}");

    // 7. Signal that the remote file changed: a PUT bumps last_modified.
    let before = remote["last_modified"].as_str().unwrap().to_string();
    let (code, out) = curl(&[
        "-X",
        "PUT",
        &format!("{api}/datasets/{id}/resources/{remote_id}/"),
        "-H",
        json_ct,
        "-H",
        &hkey,
        "-d",
        "{}",
    ]);
    assert_eq!(code, 200, "{out}");
    assert!(json(&out)["last_modified"].as_str().unwrap() > before.as_str());

    // 8. Delete a resource, exactly as the guide writes it (no trailing slash). Its file is kept.
    let (code, _) = curl(&[
        "-X",
        "DELETE",
        &format!("{api}/datasets/{id}/resources/{rid}"),
        "-H",
        &hkey,
    ]);
    assert_eq!(code, 204);
    let (_, out) = curl(&[&format!("{api}/datasets/{id}/")]);
    assert_eq!(json(&out)["resources"].as_array().unwrap().len(), 1);
    assert_eq!(curl(&[&new_url]).0, 200);

    // 9. Delete the dataset: strangers get 410, the publisher still sees it.
    let (code, _) = curl(&[
        "-X",
        "DELETE",
        &format!("{api}/datasets/{id}/"),
        "-H",
        &hkey,
    ]);
    assert_eq!(code, 204);
    let (code, out) = curl(&[&format!("{api}/datasets/{id}/")]);
    assert_eq!(code, 410, "{out}");
    assert_eq!(json(&out)["message"], "Dataset has been deleted");
    let (code, out) = curl(&["-H", &hkey, &format!("{api}/datasets/{id}/")]);
    assert_eq!(code, 200);
    assert!(json(&out)["deleted"].is_string());

    // 10. Restore it.
    let (code, out) = curl(&[
        "-X",
        "PUT",
        &format!("{api}/datasets/{id}/"),
        "-H",
        json_ct,
        "-H",
        &hkey,
        "-d",
        r#"{"deleted": null}"#,
    ]);
    assert_eq!(code, 200, "{out}");
    assert!(json(&out)["deleted"].is_null());
    assert_eq!(curl(&[&format!("{api}/datasets/{id}/")]).0, 200);

    // 11. Delete again and purge (operator CLI beside the running server): gone for everyone, files too.
    assert_eq!(
        curl(&[
            "-X",
            "DELETE",
            &format!("{api}/datasets/{id}/"),
            "-H",
            &hkey
        ])
        .0,
        204
    );
    let report = cli(data, &["purge", "--now"]);
    assert_eq!(report, "purged 1 dataset(s), 2 file(s)");
    assert_eq!(
        curl(&["-H", &hkey, &format!("{api}/datasets/{id}/")]).0,
        404
    );
    assert_eq!(curl(&[&old_url]).0, 404);
    assert_eq!(curl(&[&new_url]).0, 404);

    // Graceful stop on SIGTERM.
    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "server exit: {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every log line of a request carries its id: the client's when it sent one.
#[test]
fn log_lines_name_their_request() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let mut child = common::rudata(&data, &[])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(addr) = line.strip_prefix("rudata listening on ") {
            break addr.trim().to_string();
        }
    };
    let (status, _) = curl(&[
        "-H",
        "X-Request-Id: trace-me-7",
        &format!("{base}/api/1/datasets/not-there/"),
    ]);
    assert_eq!(status, 404);
    let (status, _) = curl(&[&format!("{base}/api/1/datasets/")]);
    assert_eq!(status, 200);
    // The access line is written when the answer is; give the writer a moment to flush.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.matches("rudata::http").count() >= 2 || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    let mine: Vec<&str> = text.lines().filter(|l| l.contains("not-there")).collect();
    assert!(!mine.is_empty(), "no log line for the request:\n{text}");
    for line in &mine {
        assert!(line.contains("trace-me-7"), "a line without the id: {line}");
    }
    let other = text
        .lines()
        .find(|l| l.contains("rudata::http") && !l.contains("not-there"))
        .unwrap_or_else(|| panic!("no access line for the second request:\n{text}"));
    assert!(
        other.contains("request{id="),
        "a line without an id: {other}"
    );
}

/// The operator's dataset commands work beside a running server, through the same operations.
#[test]
fn operators_delete_restore_and_archive_datasets_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    cli(data, &["user", "create", "--email", "op@example.org"]);
    let key = cli(data, &["token", "create", "--email", "op@example.org"]);
    let server = start(data, &[], &[]);
    let api = format!("{}/api/1", server.base);
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/"),
        "-H",
        "Content-Type: application/json",
        "-H",
        &format!("X-API-KEY: {key}"),
        "-d",
        r#"{"title": "Budget", "description": "d"}"#,
    ]);
    assert_eq!(code, 201, "{out}");
    let dataset = format!("{api}/datasets/budget/");
    let listed = || {
        let (code, out) = curl(&[&format!("{api}/datasets/")]);
        assert_eq!(code, 200);
        json(&out)["total"].as_i64().unwrap()
    };

    // The server keeps anonymous answers (410s too); what the CLI writes beside it is seen within a
    // second.
    let second = Duration::from_secs(1);
    cli(data, &["dataset", "delete", "budget"]);
    assert!(common::within(second, || curl(&[&dataset]).0 == 410));
    cli(data, &["dataset", "restore", "budget"]);
    assert!(common::within(second, || curl(&[&dataset]).0 == 200));
    // Restoring what is not deleted fails and says why.
    let out = common::rudata(data, &[])
        .args(["dataset", "restore", "budget"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Dataset is not deleted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert_eq!(listed(), 1);
    let list = format!("{api}/datasets/");
    assert!(common::within(second, || {
        curl(&["-D", "-", &list]).1.contains("x-rudata-cache: hit")
    }));
    cli(data, &["dataset", "archive", "budget"]);
    assert!(
        common::within(second, || listed() == 0),
        "an archived dataset leaves the public list"
    );
    let (code, out) = curl(&[&dataset]);
    assert_eq!(code, 200);
    assert!(json(&out)["archived"].is_string());
    cli(data, &["dataset", "archive", "--undo", "budget"]);
    assert!(common::within(second, || listed() == 1));
    assert!(common::within(second, || {
        json(&curl(&[&dataset]).1)["archived"].is_null()
    }));
}

/// `rudata generate` loads a synthetic catalog that the API then serves like any other.
#[test]
fn the_generator_loads_a_catalog_the_api_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    let out = cli(
        data,
        &[
            "generate",
            "--datasets",
            "30",
            "--resources",
            "95",
            "--big-dataset",
            "12",
            "--organizations",
            "3",
        ],
    );
    assert!(out.starts_with("31 datasets, 107 resources"), "{out}");
    let big = out.rsplit(' ').next().unwrap();
    let server = start(data, &[], &[]);
    let (code, body) = curl(&[&format!("{}/datasets/?page_size=100", server.api)]);
    assert_eq!(code, 200);
    let page = json(&body);
    assert_eq!(page["total"], 31);
    let data = page["data"].as_array().unwrap();
    let resources: usize = data
        .iter()
        .map(|d| d["resources"].as_array().unwrap().len())
        .sum();
    assert_eq!(resources, 107);
    assert!(data.iter().all(|d| d["organization"].is_object()));
    assert!(
        data.iter()
            .any(|d| !d["title"].as_str().unwrap().is_ascii()),
        "French titles have accents"
    );
    let (code, body) = curl(&[&format!("{}/datasets/{big}/", server.api)]);
    assert_eq!(code, 200, "{big}: {body}");
    assert_eq!(json(&body)["resources"].as_array().unwrap().len(), 12);
}

/// Over real HTTP (hyper in front), oversized heads and undecodable paths reach our layers and are
/// answered in udata's JSON shape. (Beyond hyper's own limits, a URI over 65,534 bytes, a head over
/// about 400 KiB or more than 100 headers, hyper answers first with an empty body: see README.)
#[test]
fn oversized_heads_and_undecodable_paths_answer_json_over_real_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &[], &[]);
    let long_uri = format!("{}/datasets/?q={}", server.api, "a".repeat(20_000));
    let (code, body) = curl(&[&long_uri]);
    assert_eq!(code, 414, "{body}");
    assert!(json(&body)["message"].is_string());
    let pad = format!("X-Pad: {}", "a".repeat(70_000));
    let (code, body) = curl(&["-H", &pad, &format!("{}/datasets/", server.api)]);
    assert_eq!(code, 431, "{body}");
    assert!(json(&body)["message"].is_string());
    let (code, body) = curl(&[&format!("{}/datasets/%ff/", server.api)]);
    assert_eq!(code, 404, "{body}");
    assert!(json(&body)["message"].is_string());
}

/// Runs `command`, which must exit (a server that started instead is killed after 10 s).
fn refused(command: &mut Command) -> std::process::Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_node_with_another_token_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let key_env = |k: &str| vec![("RUDATA_SECRET_KEY".to_string(), k.repeat(32))];
    let (right, wrong) = (key_env("a"), key_env("b"));
    common::cli(
        data,
        &right,
        &["user", "create", "--email", "k@example.org"],
    );
    let token = common::cli(
        data,
        &right,
        &["token", "create", "--email", "k@example.org"],
    );
    assert!(token.starts_with("udata_"));

    for args in [
        &["serve", "--bind", "127.0.0.1:0"][..],
        &["token", "create", "--email", "k@example.org"],
    ] {
        let out = refused(common::rudata(data, &wrong).args(args));
        assert!(!out.status.success(), "{args:?} started with another key");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("token key") && err.contains("RUDATA_SECRET_KEY"),
            "{args:?}: {err}"
        );
    }
    // No secret at all: the node makes <data-dir>/secret.key, another key; refused as well.
    let out = refused(common::rudata(data, &[]).args(["serve", "--bind", "127.0.0.1:0"]));
    assert!(!out.status.success());

    let server = start(data, &right, &[]);
    let (status, _) = curl(&[
        "-H",
        &format!("X-API-KEY: {token}"),
        &format!("{}/me/", server.api),
    ]);
    assert_eq!(status, 200);
}

/// Over real HTTP the limits count per TCP peer (`app::serve` hands each request its address), and
/// a trusted proxy's `X-Forwarded-For` names the client.
#[test]
fn rate_limits_count_per_peer_and_believe_trusted_proxies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        &dir.path().join("data"),
        &[],
        &[
            "--rate-limit-anonymous",
            "2",
            "--trusted-proxies",
            "127.0.0.1,10.0.0.0/8",
        ],
    );
    let list = format!("{}/datasets/", server.api);
    for left in ["1", "0"] {
        let (code, out) = curl(&["-D", "-", &list]);
        assert_eq!(code, 200, "{out}");
        assert!(out.contains("ratelimit-limit: 2\r\n"), "{out}");
        assert!(
            out.contains(&format!("ratelimit-remaining: {left}\r\n")),
            "{out}"
        );
    }
    let (code, out) = curl(&["-D", "-", &list]);
    assert_eq!(code, 429, "{out}");
    assert!(out.contains("retry-after: "), "{out}");
    let body = out.rsplit("\r\n\r\n").next().unwrap();
    assert!(json(body)["message"].is_string(), "{out}");
    // The probes stay open.
    assert_eq!(curl(&[&format!("{}/healthz", server.base)]).0, 200);
    // Through the (trusted) local proxy, another client.
    let (code, out) = curl(&["-H", "X-Forwarded-For: 198.51.100.1", &list]);
    assert_eq!(code, 200, "{out}");
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
