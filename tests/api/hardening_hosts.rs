//! Issue 9, defect 10: a remote resource URL whose host NAME resolves to this machine, a private
//! network or a special-purpose range is refused, like the same address written in the URL. The
//! names are answered by a small DNS server speaking the real protocol over UDP on loopback, and
//! rudata's resolver is pointed at it (`RUDATA_DNS_SERVERS`).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, id_of};
use crate::resource_helpers::owner_with_dataset;

/// What the test zone answers: A and AAAA records per name; any other name is NXDOMAIN.
fn zone(name: &str) -> Option<(Vec<Ipv4Addr>, Vec<Ipv6Addr>)> {
    let v4 = |s: &[&str]| s.iter().map(|a| a.parse().unwrap()).collect();
    let v6 = |s: &[&str]| s.iter().map(|a| a.parse().unwrap()).collect();
    Some(match name {
        "localhost.localdomain" => (v4(&["127.0.0.1"]), v6(&["::1"])),
        "127.0.0.1.wildcard.example.net" => (v4(&["127.0.0.1"]), v6(&[])),
        "intranet.example.org" => (v4(&["10.1.2.3"]), v6(&[])),
        "metadata.example.org" => (v4(&["169.254.169.254"]), v6(&[])),
        "cgnat.example.org" => (v4(&["100.64.0.7"]), v6(&[])),
        "v6only.example.org" => (v4(&[]), v6(&["fd00::1"])),
        // One public address and one local: refused (a client may connect to either).
        "mixed.example.org" => (v4(&["93.184.215.14", "192.168.0.1"]), v6(&[])),
        "dual.example.org" => (v4(&["93.184.215.14"]), v6(&["::1"])),
        "public.example.org" => (v4(&["93.184.215.14"]), v6(&["2606:2800:21f:cb07::1"])),
        _ => return None,
    })
}

/// Answers DNS queries over UDP from `zone`, until the test ends.
async fn dns_server() -> SocketAddr {
    dns_server_with(zone).await
}

/// The addresses of a name: A and AAAA records (`None`: NXDOMAIN).
pub type Records = Option<(Vec<Ipv4Addr>, Vec<Ipv6Addr>)>;

/// Answers DNS queries over UDP from `zone` (asked at each query: a test may change its answers),
/// with a time-to-live of zero (nothing is kept by the resolver), until the test ends.
pub async fn dns_server_with(zone: impl Fn(&str) -> Records + Send + Sync + 'static) -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            if let Some(reply) = answer(&buf[..n], &zone) {
                let _ = socket.send_to(&reply, from).await;
            }
        }
    });
    addr
}

/// The reply to one query (RFC 1035 §4): the question echoed, then the zone's records of its type.
fn answer(query: &[u8], zone: &impl Fn(&str) -> Records) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    // The question's name, label by label.
    let mut labels = Vec::new();
    let mut i = 12;
    loop {
        let len = *query.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*query.get(i)?, *query.get(i + 1)?]);
    let question = &query[12..i + 4];
    let found = zone(&labels.join("."));
    let known = found.is_some();
    let records: Vec<Vec<u8>> = match found {
        None => Vec::new(),
        Some((v4, v6)) => match qtype {
            1 => v4.iter().map(|a| a.octets().to_vec()).collect(),
            28 => v6.iter().map(|a| a.octets().to_vec()).collect(),
            _ => Vec::new(),
        },
    };
    let mut out = Vec::new();
    out.extend_from_slice(&query[..2]); // id
    out.extend_from_slice(&[0x81, if known { 0x80 } else { 0x83 }]); // response, RD+RA, rcode
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(records.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question);
    for rdata in records {
        out.extend_from_slice(&[0xc0, 12]); // the question's name
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // IN
        out.extend_from_slice(&0u32.to_be_bytes()); // TTL
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}

async fn app_with_dns() -> TestApp {
    let mut app = TestApp::new().await;
    let dns = dns_server().await;
    app.state.hosts = Arc::new(rudata::hosts::HostGuard::new(&[dns]));
    app
}

fn remote(url: &str) -> serde_json::Value {
    json!({"title": "Remote", "url": url, "filetype": "remote", "type": "main"})
}

#[tokio::test]
async fn remote_urls_whose_name_points_here_or_to_private_ranges_are_refused() {
    let app = app_with_dns().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let path = format!("/api/1/datasets/{ds}/resources/");
    for (host, reason) in [
        ("localhost.localdomain", "points to a local address"),
        (
            "127.0.0.1.wildcard.example.net",
            "points to a local address",
        ),
        ("intranet.example.org", "points to a local address"),
        ("metadata.example.org", "points to a local address"),
        ("cgnat.example.org", "points to a local address"),
        ("v6only.example.org", "points to a local address"),
        ("mixed.example.org", "points to a local address"),
        ("dual.example.org", "points to a local address"),
        ("INTRANET.Example.org.", "points to a local address"),
    ] {
        let url = format!("http://{host}:8080/data.csv");
        let r = app.post(&path, &user.key, remote(&url)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{host}: {}", r.text());
        assert_eq!(
            r.json()["errors"]["url"][0],
            format!("Invalid URL \"{url}\": {reason}"),
            "{host}"
        );
    }
    // Nothing was added.
    let r = app.get(&format!("/api/1/datasets/{ds}/"), None).await;
    assert_eq!(r.json()["resources"], json!([]));

    // A public name, and a name that does not resolve (udata accepts it too), are accepted.
    for host in ["public.example.org", "unknown.example.org"] {
        let url = format!("https://{host}/data.csv");
        let r = app.post(&path, &user.key, remote(&url)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{host}: {}", r.text());
    }
}

#[tokio::test]
async fn changing_a_url_to_a_local_name_is_refused_on_every_write_path() {
    let app = app_with_dns().await;
    let (user, ds) = owner_with_dataset(&app).await;
    let res = app
        .post(
            &format!("/api/1/datasets/{ds}/resources/"),
            &user.key,
            remote("https://public.example.org/a.csv"),
        )
        .await;
    let rid = id_of(&res.json());
    let local = "http://intranet.example.org/a.csv";

    // Resource PUT.
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{rid}/"),
            &user.key,
            json!({"url": local}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.json()["errors"]["url"][0]
            .as_str()
            .unwrap()
            .contains("local address")
    );

    // Dataset PUT with its resources list.
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/"),
            &user.key,
            json!({"resources": [{"id": rid, "title": "Remote", "url": local, "filetype": "remote"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.json()["errors"]["resources"][0]["url"][0]
            .as_str()
            .unwrap()
            .contains("local address"),
        "{}",
        r.text()
    );

    // Dataset creation with inline resources.
    let r = app
        .post(
            "/api/1/datasets/",
            &user.key,
            json!({"title": "Inline", "description": "d", "resources": [remote(local)]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());

    // The resource still points where it did.
    let r = app
        .get(&format!("/api/1/datasets/{ds}/resources/{rid}/"), None)
        .await;
    assert_eq!(r.json()["url"], "https://public.example.org/a.csv");

    // Other edits of a resource are not blocked, and a public URL is accepted.
    let r = app
        .put(
            &format!("/api/1/datasets/{ds}/resources/{rid}/"),
            &user.key,
            json!({"title": "Renamed", "url": "https://public.example.org/b.csv"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
