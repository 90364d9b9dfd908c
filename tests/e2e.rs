//! End to end: `rudata serve` as a real process on a free port, driven over real HTTP with curl
//! (as publishers' scripts do), through the whole "managing a dataset through the API" guide.
//! The user, organization and token come from the operator CLI.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{curl, json, refused, start};

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
