//! Remote checks across nodes and with the response cache: a check drops only its datasets' cached
//! answers (on its node and on others); nodes share the queue, one pace and one `Retry-After` per host.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::checks::*;
use crate::helpers::{TestApp, id_of};

/// Waits for the change watcher (the response cache stays off until it runs), as `serve` has it.
async fn watched(app: &TestApp) {
    for _ in 0..200 {
        if app.state.store.changes().current().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the change watcher did not start");
}

/// Another node on the same database (its own store, response cache and change watcher).
async fn second_node(app: &TestApp, files: &std::path::Path) -> rudata::state::AppState {
    let store = rudata::store::Store::connect(&app.database_url)
        .await
        .unwrap();
    let files = rudata::files::Files::local(files).unwrap();
    let state = rudata::state::AppState::new(store, files, (*app.state.config).clone());
    state.store.watch_changes();
    state
}

#[tokio::test]
async fn a_check_drops_its_datasets_answers_from_the_cache_and_leaves_the_others() {
    checks_leave_other_datasets_in_the_cache(false).await;
}

#[tokio::test]
async fn a_check_on_another_node_drops_its_datasets_answers_and_leaves_the_others() {
    checks_leave_other_datasets_in_the_cache(true).await;
}

/// Two datasets' answers kept, a check of one recorded by this node or another (`elsewhere`):
/// the other's are still served from the cache, the checked one's show the result.
async fn checks_leave_other_datasets_in_the_cache(elsewhere: bool) {
    let app = app().await;
    watched(&app).await;
    let remote = Remote::start().await;
    remote.serve("/a.csv", Served::status(404));
    let a = id_of(&app.dataset(&app.admin_key, "Checked now").await);
    let b = id_of(&app.dataset(&app.admin_key, "Left alone").await);
    let rid = remote_resource(&app, &a, &remote.url("/a.csv")).await;
    let files = tempfile::tempdir().unwrap();
    let checker = match elsewhere {
        true => second_node(&app, files.path()).await,
        false => app.state.clone(),
    };
    let list = "/api/1/datasets/?available=false";
    let b_paths = [
        format!("/api/1/datasets/{b}/"),
        format!("/api/2/datasets/{b}/"),
    ];
    let a_paths = [
        format!("/api/1/datasets/{a}/"),
        format!("/api/1/datasets/{a}/resources/{rid}/"),
        format!("/api/2/datasets/resources/{rid}/"),
        format!("/api/2/datasets/{a}/resources/"),
        format!("/api/1/datasets/{a}/resources/{rid}/checks/"),
    ];
    // Answers are kept per minute: not across the turn of one during this test.
    let second = chrono::Utc::now().timestamp().rem_euclid(60) as u64;
    if second > 50 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    // Everything read once (kept), and read again from the cache.
    for path in b_paths.iter().chain(&a_paths).chain([&list.to_string()]) {
        app.get(path, None).await;
        let again = app.get(path, None).await;
        assert_eq!(
            again.header("x-rudata-cache").as_deref(),
            Some("hit"),
            "{path}"
        );
    }
    assert_eq!(app.get(list, None).await.json()["total"], 0);

    let runner = rudata::jobs::checks::Runner::new(checker).unwrap();
    assert_eq!(drain(&runner).await, 1);
    let doc = if elsewhere {
        // Seen within a second from another node: once this node shows the result, it has taken in
        // what the other node's commit changed.
        let mut doc = app.get(&a_paths[0], None).await;
        for _ in 0..50 {
            if doc.json()["resources"][0]["extras"]["check:available"] == false {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            doc = app.get(&a_paths[0], None).await;
        }
        doc
    } else {
        // The watcher's next look at the database (SQLite polls every 200 ms) sees the check's
        // commit too, and must not take it for a publisher's write.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let doc = app.get(&a_paths[0], None).await;
        assert_eq!(doc.header("x-rudata-cache").as_deref(), Some("miss"));
        doc
    };
    assert_eq!(
        doc.json()["resources"][0]["extras"]["check:available"],
        false,
        "{}",
        doc.text()
    );
    // The other dataset's answers are still served from the cache...
    for path in &b_paths {
        let r = app.get(path, None).await;
        assert_eq!(r.header("x-rudata-cache").as_deref(), Some("hit"), "{path}");
    }
    // ...and the checked dataset's show the result, wherever the resource appears.
    let r = app.get(&a_paths[1], None).await;
    assert_eq!(r.json()["extras"]["check:status"], 404, "{}", r.text());
    let r = app.get(&a_paths[2], None).await;
    assert_eq!(r.json()["resource"]["extras"]["check:status"], 404);
    let r = app.get(&a_paths[3], None).await;
    assert_eq!(r.json()["data"][0]["extras"]["check:available"], false);
    let r = app.get(&a_paths[4], None).await;
    assert_eq!(r.json()["data"][0]["status"], 404, "{}", r.text());
    // The lists follow within a second.
    let mut total = Value::Null;
    for _ in 0..50 {
        total = app.get(list, None).await.json()["total"].clone();
        if total == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(total, 1);
    // A publisher's write still drops everything at once.
    let r = app
        .put(
            &format!("/api/1/datasets/{b}/"),
            &app.admin_key,
            json!({"title": "Edited"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get(&b_paths[0], None).await;
    assert_eq!(r.json()["title"], "Edited");
}

#[tokio::test]
async fn nodes_share_one_pace_per_host() {
    let mut app = app().await;
    app.configure(|c| c.checks.host_delay = Duration::from_secs(3600));
    let remote = Remote::start().await;
    remote.serve("/1.csv", Served::ok("one"));
    remote.serve("/2.csv", Served::ok("two"));
    let ds = id_of(&app.dataset(&app.admin_key, "Paced").await);
    let first = remote_resource(&app, &ds, &remote.url("/1.csv")).await;
    // Two nodes (their own memory each, one database).
    let a = rudata::jobs::checks::Runner::new(app.state.clone()).unwrap();
    let b = rudata::jobs::checks::Runner::new(app.state.clone()).unwrap();
    assert_eq!(drain(&a).await, 1);
    // The host's next turn is an hour away for every node: the other node puts its check back.
    let second = remote_resource(&app, &ds, &remote.url("/2.csv")).await;
    assert_eq!(drain(&b).await, 0);
    assert_eq!(remote.gets("/2.csv"), 0);
    let history = |rid: String| {
        let app = &app;
        let ds = ds.clone();
        async move {
            app.get(
                &format!("/api/1/datasets/{ds}/resources/{rid}/checks/"),
                None,
            )
            .await
            .json()
        }
    };
    assert_eq!(history(first).await["data"].as_array().unwrap().len(), 1);
    let waiting = history(second).await;
    assert_eq!(waiting["data"], json!([]));
    let next =
        chrono::DateTime::parse_from_rfc3339(waiting["next_check"].as_str().unwrap()).unwrap();
    assert!(
        next > chrono::Utc::now() + chrono::Duration::minutes(50),
        "{waiting}"
    );
}

#[tokio::test]
async fn a_hosts_retry_after_holds_every_node() {
    let app = app().await;
    let remote = Remote::start().await;
    remote.serve(
        "/busy.csv",
        Served::status(503).header("retry-after", "3600"),
    );
    remote.serve("/other.csv", Served::ok("other"));
    let ds = id_of(&app.dataset(&app.admin_key, "Backing off").await);
    remote_resource(&app, &ds, &remote.url("/busy.csv")).await;
    let a = rudata::jobs::checks::Runner::new(app.state.clone()).unwrap();
    let b = rudata::jobs::checks::Runner::new(app.state.clone()).unwrap();
    assert_eq!(drain(&a).await, 1);
    assert_eq!(remote.gets("/busy.csv"), 0, "a HEAD answered");
    // No pace here (RUDATA_CHECK_HOST_DELAY=0): only the host's Retry-After holds the other node.
    remote_resource(&app, &ds, &remote.url("/other.csv")).await;
    assert_eq!(drain(&b).await, 0);
    assert_eq!(remote.gets("/other.csv"), 0);
}

#[tokio::test]
async fn two_nodes_share_the_queue_without_checking_a_resource_twice() {
    let app = app().await;
    let remote = Remote::start().await;
    let ds = id_of(&app.dataset(&app.admin_key, "Shared").await);
    for i in 0..12 {
        remote.serve(&format!("/{i}.csv"), Served::ok(&format!("file {i}")));
        remote_resource(&app, &ds, &remote.url(&format!("/{i}.csv"))).await;
    }
    let a = rudata::jobs::checks::Runner::new(app.state.clone()).unwrap();
    let b = rudata::jobs::checks::Runner::new(app.state.clone()).unwrap();
    let (ra, rb) = tokio::join!(drain(&a), drain(&b));
    assert_eq!(ra + rb, 12);
    for i in 0..12 {
        assert_eq!(remote.gets(&format!("/{i}.csv")), 1, "{i}");
    }
}
