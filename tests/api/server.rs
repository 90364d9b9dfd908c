//! The server loop (`rudata::server::serve`) on a real socket, around a stand-in service: every
//! request carries its peer's address, and a stop lets the requests in flight finish.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use rudata::config::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Answers with the peer address it was given; `/slow` takes half a second first.
async fn echo_peer(req: Request) -> Result<Response, Infallible> {
    if req.uri().path() == "/slow" {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    Ok(Response::new(Body::from(peer)))
}

struct Running {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn run() -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(rudata::server::serve(
        listener,
        tower::service_fn(echo_peer),
        Limits::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    Running { addr, stop, task }
}

async fn get(client: &mut TcpStream, path: &str) -> String {
    let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    client.write_all(head.as_bytes()).await.unwrap();
    let mut out = String::new();
    client.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn every_request_carries_its_peer_address() {
    let server = run().await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let me = client.local_addr().unwrap().to_string();
    let answer = get(&mut client, "/").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(&me), "{answer}");
    let _ = server.stop.send(());
    server.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_stop_lets_the_requests_in_flight_finish() {
    let server = run().await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let me = client.local_addr().unwrap().to_string();
    let request = tokio::spawn(async move { get(&mut client, "/slow").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = server.stop.send(());
    // The slow request is answered in full, then the server returns.
    let answer = request.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(&me), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("the server stops once its requests are answered")
        .unwrap()
        .unwrap();
    // It no longer accepts connections.
    assert!(TcpStream::connect(server.addr).await.is_err());
}

/// Sends `raw` as it is and reads the whole answer (the server closes the connection after it).
async fn send_raw(addr: SocketAddr, raw: &[u8]) -> String {
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(raw).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut out))
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The one answer of `text`: its status line, and its body parsed as JSON.
fn json_answer(text: &str) -> (String, serde_json::Value) {
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete answer");
    let status = head.lines().next().unwrap().to_string();
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/json"), "{head}");
    assert!(
        lower.contains(&format!("content-length: {}", body.len())),
        "{head}"
    );
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    (status, json)
}

#[tokio::test]
async fn heads_the_http_library_refuses_are_answered_in_json() {
    let server = run().await;
    // A request target over hyper's own limit (65,534 bytes): 414.
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let (status, json) = json_answer(&send_raw(server.addr, long.as_bytes()).await);
    assert!(status.starts_with("HTTP/1.1 414"), "{status}");
    assert!(json["message"].is_string(), "{json}");
    // More header fields than hyper takes: 431.
    let mut many = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..150 {
        many.push_str(&format!("X-Field-{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let (status, json) = json_answer(&send_raw(server.addr, many.as_bytes()).await);
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    assert!(json["message"].is_string(), "{json}");
    // Two different lengths for one body, a length that is not a number, a broken header line: 400.
    for raw in [
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: three\r\n\r\nabc",
        "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
    ] {
        let (status, json) = json_answer(&send_raw(server.addr, raw.as_bytes()).await);
        assert!(status.starts_with("HTTP/1.1 400"), "{raw:?}: {status}");
        assert!(json["message"].is_string(), "{json}");
    }
    let _ = server.stop.send(());
}

#[tokio::test]
async fn a_malformed_head_after_a_good_request_leaves_the_first_answer_whole() {
    let server = run().await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let me = client.local_addr().unwrap().to_string();
    // Two requests in one write (pipelined): a good one, then one with two lengths.
    let raw = "GET / HTTP/1.1\r\nHost: x\r\n\r\n\
               POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
    client.write_all(raw.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut out))
        .await
        .expect("the server answers both and closes")
        .unwrap();
    let text = String::from_utf8_lossy(&out);
    let first_end = text.find(&me).expect("the first answer carries its body") + me.len();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let (status, json) = json_answer(&text[first_end..]);
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    assert!(json["message"].is_string(), "{json}");
    let _ = server.stop.send(());
}
