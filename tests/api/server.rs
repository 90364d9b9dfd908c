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
