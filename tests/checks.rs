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

/// A loopback server of `/0.csv`, `/1.csv`…, counting the GETs of each path per `User-Agent`. Every
/// request waits until both `agents` have sent one (at most 20 s): then the two nodes' checks are
/// under way at the same time, whatever the order they started in.
struct CountingServer {
    base: String,
    gets: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(String, String), usize>>>,
}

impl CountingServer {
    fn start(agents: [String; 2]) -> CountingServer {
        use axum::http::{HeaderMap, Method, Uri};
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};
        type Gets = Arc<Mutex<HashMap<(String, String), usize>>>;
        let gets: Gets = Arc::default();
        let seen = Arc::new(tokio::sync::watch::channel(Vec::<String>::new()).0);
        let (tx, rx) = std::sync::mpsc::channel();
        let counted = Arc::clone(&gets);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap().port()).unwrap();
                let app = axum::Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap| {
                        let (gets, seen, agents) =
                            (Arc::clone(&counted), Arc::clone(&seen), agents.clone());
                        async move {
                            let agent = headers
                                .get("user-agent")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            seen.send_modify(|s| {
                                if !s.contains(&agent) {
                                    s.push(agent.clone());
                                }
                            });
                            let mut both = seen.subscribe();
                            let _ = tokio::time::timeout(
                                Duration::from_secs(20),
                                both.wait_for(|s| agents.iter().all(|a| s.contains(a))),
                            )
                            .await;
                            if method == Method::GET {
                                *gets
                                    .lock()
                                    .unwrap()
                                    .entry((uri.path().to_string(), agent))
                                    .or_default() += 1;
                            }
                            (
                                [("content-type", "text/csv")],
                                format!("path,{}\n", uri.path()),
                            )
                        }
                    },
                );
                axum::serve(listener, app).await.unwrap();
            });
        });
        CountingServer {
            base: format!("http://127.0.0.1:{}", rx.recv().unwrap()),
            gets,
        }
    }

    /// GETs of `path`, all nodes together.
    fn gets(&self, path: &str) -> usize {
        let gets = self.gets.lock().unwrap();
        gets.iter()
            .filter(|((p, _), _)| p == path)
            .map(|(_, n)| n)
            .sum()
    }

    /// GETs sent with `agent`, all paths together.
    fn gets_by(&self, agent: &str) -> usize {
        let gets = self.gets.lock().unwrap();
        gets.iter()
            .filter(|((_, a), _)| a.ends_with(agent))
            .map(|(_, n)| n)
            .sum()
    }
}

/// How many checks of resource `rid` the history lists.
fn checks_of(api: &str, ds: &str, rid: &str) -> usize {
    let (code, out) = curl(&[&format!("{api}/datasets/{ds}/resources/{rid}/checks/")]);
    assert_eq!(code, 200, "{out}");
    json(&out)["data"].as_array().unwrap().len()
}

#[test]
fn two_serve_processes_on_postgresql_check_each_resource_once_a_round() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: no shared PostgreSQL to run two nodes on");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(common::TestDatabase::create(&admin_url));
    // Each node names itself in its User-Agent through its public URL.
    let portals = ["http://node-a.example.org", "http://node-b.example.org"];
    let agent = |portal: &str| format!("(+{portal})");
    let files = CountingServer::start(
        portals.map(|p| format!("rudata/{} {}", env!("CARGO_PKG_VERSION"), agent(p))),
    );
    let dir = tempfile::tempdir().unwrap();
    let node_env = |node: &str, enabled: bool| {
        let mut env = env(enabled);
        env.push(("RUDATA_DATABASE_URL".into(), db.url.clone()));
        env.push((
            "RUDATA_SECRET_KEY".into(),
            "checks-test-secret-checks-test-secret".into(),
        ));
        env.push(("RUDATA_PUBLIC_URL".into(), node.into()));
        env
    };
    // Published on a node without checks; the resources wait in the queue for the two nodes.
    let publisher = node_env("http://publisher.example.org", false);
    common::cli(&dir.path().join("p"), &publisher, &["migrate"]);
    let server = start(&dir.path().join("p"), &publisher, &[]);
    let urls: Vec<String> = (0..40).map(|i| format!("{}/{i}.csv", files.base)).collect();
    let (ds, rids) = publish(&dir.path().join("p"), &publisher, &server.api, &urls);
    let api = server.api.clone();
    let key = common::cli(
        &dir.path().join("p"),
        &publisher,
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
        r#"{"title": "Unrelated", "description": "d"}"#,
    ]);
    assert_eq!(code, 201, "{out}");
    let unrelated = json(&out)["id"].as_str().unwrap().to_string();
    // Answers are kept per minute: the first round must not cross the turn of one.
    let second = chrono::Utc::now().timestamp().rem_euclid(60) as u64;
    if second > 40 {
        std::thread::sleep(Duration::from_secs(61 - second));
    }
    let a = start(&dir.path().join("a"), &node_env(portals[0], true), &[]);
    let b = start(&dir.path().join("b"), &node_env(portals[1], true), &[]);
    // Node a keeps an answer about another dataset (once its watch on the database runs).
    let other = format!("{}/datasets/{unrelated}/", a.api);
    let cached = || curl(&["-D", "-", &other]).1.contains("x-rudata-cache: hit");
    assert!(within(Duration::from_secs(5), cached));

    let checked = |n: usize| {
        within(Duration::from_secs(90), || {
            rids.iter().all(|rid| checks_of(&api, &ds, rid) >= n)
        })
    };
    assert!(checked(1), "the first round did not finish");
    for i in 0..40 {
        assert_eq!(files.gets(&format!("/{i}.csv")), 1, "/{i}.csv");
    }
    assert!(files.gets_by(&agent(portals[0])) > 0);
    assert!(files.gets_by(&agent(portals[1])) > 0);
    // The 40 checks recorded by both nodes left node a's answer about the other dataset in its
    // cache (each check tells the nodes which dataset it changed).
    assert!(cached(), "the checks emptied the cache");

    // A second round, every resource signalled by its publisher: each is checked once more.
    for (i, rid) in rids.iter().enumerate() {
        let node = if i % 2 == 0 { &a.api } else { &b.api };
        let (code, out) = curl(&[
            "-X",
            "POST",
            &format!("{node}/datasets/{ds}/resources/{rid}/check/"),
            "-H",
            &hkey,
        ]);
        assert_eq!(code, 202, "{out}");
    }
    assert!(checked(2), "the second round did not finish");
    for i in 0..40 {
        assert_eq!(files.gets(&format!("/{i}.csv")), 2, "/{i}.csv");
    }
    for rid in &rids {
        assert_eq!(checks_of(&api, &ds, rid), 2);
    }
}

/// Serves `/data.csv` with the body the test sets (`None`: 404), on loopback; returns its base URL.
fn changing_server() -> (String, std::sync::Arc<std::sync::Mutex<Option<String>>>) {
    use std::sync::{Arc, Mutex};
    let body: Arc<Mutex<Option<String>>> = Arc::default();
    let served = Arc::clone(&body);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            let app = axum::Router::new().route(
                "/data.csv",
                axum::routing::get(move || {
                    let body = served.lock().unwrap().clone();
                    async move {
                        match body {
                            Some(b) => (axum::http::StatusCode::OK, b),
                            None => (axum::http::StatusCode::NOT_FOUND, String::new()),
                        }
                    }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    (format!("http://127.0.0.1:{}", rx.recv().unwrap()), body)
}

#[test]
fn a_change_and_a_loss_of_a_remote_file_are_logged_for_the_publisher() {
    let (files, body) = changing_server();
    *body.lock().unwrap() = Some("a,b\n1,2\n".into());
    let dir = tempfile::tempdir().unwrap();
    let env = env(false);
    let server = start(dir.path(), &env, &[]);
    let (ds, rids) = publish(
        dir.path(),
        &env,
        &server.api,
        &[format!("{files}/data.csv")],
    );
    let rid = &rids[0];
    // A run of the checks, with the log lines a server writes at its default level.
    let run = || {
        let out = common::rudata(dir.path(), &env)
            .env("RUST_LOG", "info")
            .args(["checks", "run", "--now"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let lines = |log: &str, message: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains(message))
            .map(str::to_string)
            .collect()
    };
    // The first check is no change to tell anyone about.
    let log = run();
    assert!(lines(&log, "remote resource").is_empty(), "{log}");

    *body.lock().unwrap() = Some("a,b\n3,4\n".into());
    let log = run();
    let changed = lines(&log, "remote resource changed");
    assert_eq!(changed.len(), 1, "{log}");
    for field in [
        format!("dataset={ds}"),
        format!("resource={rid}"),
        format!("{files}/data.csv"),
        "computed-checksum".to_string(),
    ] {
        assert!(changed[0].contains(&field), "{field}: {}", changed[0]);
    }

    *body.lock().unwrap() = None;
    let log = run();
    let lost = lines(&log, "remote resource became unavailable");
    assert_eq!(lost.len(), 1, "{log}");
    assert!(lost[0].contains("WARN"), "{}", lost[0]);
    for field in [
        format!("dataset={ds}"),
        format!("resource={rid}"),
        "status=404".to_string(),
    ] {
        assert!(lost[0].contains(&field), "{field}: {}", lost[0]);
    }
    // Still gone: said once, when it became so.
    let log = run();
    assert!(lines(&log, "remote resource").is_empty(), "{log}");
}
