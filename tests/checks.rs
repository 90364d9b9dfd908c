//! Remote checks as an operator runs them: the job inside `rudata serve` checks a new remote
//! resource on its own, and `rudata checks status` / `rudata checks run --now` work from the command
//! line beside a server. The remote files come from a loopback HTTP server run by the test, allowed
//! through `RUDATA_CHECK_ALLOW_NETWORKS`.

mod common;

use std::time::Duration;

use common::{curl, json, start, within};

/// Serves `/data.csv` (200) and answers 404 to anything else, on loopback; returns its base URL.
fn file_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            let app = axum::Router::new().route(
                "/data.csv",
                axum::routing::get(|| async { ([("content-type", "text/csv")], "a,b\n1,2\n") }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://127.0.0.1:{}", rx.recv().unwrap())
}

fn env(enabled: bool) -> Vec<(String, String)> {
    vec![
        ("RUDATA_CHECK_ALLOW_NETWORKS".into(), "127.0.0.0/8".into()),
        ("RUDATA_CHECK_HOST_DELAY".into(), "0".into()),
        ("RUDATA_CHECK_ENABLED".into(), enabled.to_string()),
    ]
}

/// A publisher's key, a dataset, and one remote resource per URL; returns (dataset id, resource ids).
fn publish(
    data: &std::path::Path,
    env: &[(String, String)],
    api: &str,
    urls: &[String],
) -> (String, Vec<String>) {
    common::cli(data, env, &["user", "create", "--email", "pub@example.org"]);
    let key = common::cli(
        data,
        env,
        &["token", "create", "--email", "pub@example.org"],
    );
    let hkey = format!("X-API-KEY: {key}");
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{api}/datasets/"),
        "-H",
        "Content-Type: application/json",
        "-H",
        &hkey,
        "-d",
        r#"{"title": "Checked", "description": "d"}"#,
    ]);
    assert_eq!(code, 201, "{out}");
    let ds = json(&out)["id"].as_str().unwrap().to_string();
    let rids = urls
        .iter()
        .map(|url| {
            let body = format!(r#"{{"title": "r", "filetype": "remote", "url": "{url}"}}"#);
            let (code, out) = curl(&[
                "-X",
                "POST",
                &format!("{api}/datasets/{ds}/resources/"),
                "-H",
                "Content-Type: application/json",
                "-H",
                &hkey,
                "-d",
                &body,
            ]);
            assert_eq!(code, 201, "{out}");
            json(&out)["id"].as_str().unwrap().to_string()
        })
        .collect();
    (ds, rids)
}

fn extras(api: &str, ds: &str, rid: &str) -> serde_json::Value {
    let (code, out) = curl(&[&format!("{api}/datasets/{ds}/resources/{rid}/")]);
    assert_eq!(code, 200, "{out}");
    json(&out)["extras"].clone()
}

#[test]
fn the_job_inside_serve_checks_a_new_remote_resource() {
    let files = file_server();
    let dir = tempfile::tempdir().unwrap();
    let env = env(true);
    let server = start(dir.path(), &env, &[]);
    let (ds, rids) = publish(
        dir.path(),
        &env,
        &server.api,
        &[format!("{files}/data.csv")],
    );
    assert!(
        within(Duration::from_secs(60), || {
            extras(&server.api, &ds, &rids[0])["check:available"] == true
        }),
        "{}",
        extras(&server.api, &ds, &rids[0])
    );
}

#[test]
fn checks_status_and_run_now_from_the_command_line() {
    let files = file_server();
    let dir = tempfile::tempdir().unwrap();
    let env = env(false);
    let server = start(dir.path(), &env, &[]);
    let urls = [format!("{files}/data.csv"), format!("{files}/gone.csv")];
    let (ds, rids) = publish(dir.path(), &env, &server.api, &urls);
    let status = common::cli(dir.path(), &env, &["checks", "status"]);
    assert!(status.contains("due now:                  2"), "{status}");
    // Not a terminal here: a plain line per round, no bar.
    let run = common::cli(dir.path(), &env, &["checks", "run", "--now"]);
    assert!(run.ends_with("2 check(s) recorded"), "{run}");
    assert!(!run.contains('['), "{run}");
    assert!(within(Duration::from_secs(10), || {
        extras(&server.api, &ds, &rids[0])["check:available"] == true
            && extras(&server.api, &ds, &rids[1])["check:status"] == 404
    }));
    let status = common::cli(dir.path(), &env, &["checks", "status"]);
    assert!(status.contains("unavailable:              1"), "{status}");
    assert!(status.contains("127.0.0.1"), "{status}");
}
