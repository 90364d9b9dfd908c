//! Timeouts, limits and degraded dependencies, against `rudata serve` as a real process: slow and idle
//! clients are disconnected, a flood of connections does not lock out a real client, large JSON
//! bodies are refused before being read, and a database or storage that stops answering turns
//! requests into prompt 503s, from which the server recovers by itself.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Server, cli, curl, json, start, within};

/// An answer read off the wire.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn addr_of(server: &Server) -> SocketAddr {
    server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("the server prints its address")
}

/// One request on a fresh connection (`Connection: close`), read until the server closes it.
fn send(server: &Server, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr_of(server)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    if !body.is_empty() || method != "GET" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) and close before reading it all.
    let _ = stream.write_all(body);
    read_answer(&mut stream)
}

/// Reads until the server closes the connection. A server that answers before reading the whole
/// body may close with unread bytes, which resets the connection: what came before still counts.
fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if raw.is_empty() => panic!("no answer: {e}"),
            Err(_) => break,
        }
    }
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete answer");
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Answer {
        status: status.parse().unwrap(),
        headers,
        body: body.to_string(),
    }
}

/// Whether the server closed `stream` (EOF or reset) within `limit`, reading whatever comes.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A data dir with a publisher and their API key.
fn publisher(data: &std::path::Path, env: &[(String, String)]) -> String {
    cli(
        data,
        env,
        &["user", "create", "--email", "pub@example.org", "--sysadmin"],
    );
    cli(
        data,
        env,
        &["token", "create", "--email", "pub@example.org"],
    )
}

/// Uploads `file` as a new resource of dataset `id` (201); the path under which rudata serves it.
fn upload(server: &Server, key: &str, id: &str, file: &std::path::Path) -> String {
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{}/datasets/{id}/upload/", server.api),
        "-H",
        &format!("X-API-KEY: {key}"),
        "-F",
        &format!("file=@{}", file.display()),
    ]);
    assert_eq!(code, 201, "{out}");
    let url = json(&out)["url"].as_str().unwrap().to_string();
    url.split_once("/s/")
        .map(|(_, p)| format!("/s/{p}"))
        .unwrap()
}

fn create_dataset(server: &Server, key: &str, title: &str) -> String {
    let body = format!(r#"{{"title": "{title}", "description": "d"}}"#);
    let a = send(
        server,
        "POST",
        "/api/1/datasets/",
        &[
            &format!("X-API-KEY: {key}"),
            "Content-Type: application/json",
        ],
        body.as_bytes(),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    json(&a.body)["id"].as_str().unwrap().to_string()
}

#[test]
fn a_head_trickled_byte_by_byte_is_cut_at_the_header_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(&[
        ("RUDATA_HEADER_TIMEOUT", "2s"),
        ("RUDATA_IDLE_TIMEOUT", "60s"),
    ]);
    let server = start(dir.path(), &e, &[]);
    let mut stream = TcpStream::connect(addr_of(&server)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    // A byte every 300 ms: an inactivity timer would never fire; the deadline does.
    let head = format!(
        "GET /api/1/datasets/ HTTP/1.1\r\nHost: test\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(100)
    );
    let started = Instant::now();
    let mut cut = false;
    let mut buf = [0u8; 1024];
    for byte in head.as_bytes() {
        if stream.write_all(&[*byte]).is_err() {
            cut = true;
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                cut = true;
                break;
            }
            Ok(n) => panic!(
                "answered a request it should not have read: {}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                cut = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        cut,
        "the trickling client kept its connection for {:?}",
        started.elapsed()
    );
    // The server still serves everyone else.
    let (code, _) = curl(&["--max-time", "10", &format!("{}/datasets/", server.api)]);
    assert_eq!(code, 200);
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(&[("RUDATA_IDLE_TIMEOUT", "2s")]);
    let server = start(dir.path(), &e, &[]);
    let mut stream = TcpStream::connect(addr_of(&server)).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    // Read the whole first answer (keep-alive: the server does not close after it).
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&raw).contains("\"ok\"") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed before answering");
        raw.extend_from_slice(&buf[..n]);
    }
    assert_eq!(parse_answer(&raw).status, 200);
    // The same connection carries a second request at once...
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let n = stream.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // ...and is closed once idle for the timeout (the header deadline is still the default 30 s).
    assert!(closed_within(&mut stream, Duration::from_secs(15)));
}

#[test]
fn a_stalled_upload_fails_after_the_body_timeout_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let e = env(&[("RUDATA_BODY_TIMEOUT", "2s")]);
    let key = publisher(&data, &e);
    let server = start(&data, &e, &[]);
    let id = create_dataset(&server, &key, "Stalled");

    let boundary = "XBOUNDARYX";
    let start_of_body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.csv\"\r\n\
         Content-Type: text/csv\r\n\r\na,b\n1,2\n"
    );
    let mut stream = TcpStream::connect(addr_of(&server)).unwrap();
    let head = format!(
        "POST /api/1/datasets/{id}/upload/ HTTP/1.1\r\nHost: test\r\nX-API-KEY: {key}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 100000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(start_of_body.as_bytes()).unwrap();
    // Then nothing more: the server gives up on the body.
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let answer = read_answer(&mut stream);
    assert_eq!(answer.status, 408, "{}", answer.body);
    assert!(json(&answer.body)["message"].is_string());

    // Nothing was recorded, and no file (partial or staged) was left behind.
    let (code, out) = curl(&[&format!("{}/datasets/{id}/", server.api)]);
    assert_eq!(code, 200);
    assert_eq!(json(&out)["resources"].as_array().unwrap().len(), 0);
    let leftovers: Vec<_> = walk(&data.join("files"));
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[test]
fn a_client_that_stops_reading_its_download_is_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let e = env(&[("RUDATA_BODY_TIMEOUT", "2s")]);
    let key = publisher(&data, &e);
    let server = start(&data, &e, &[]);
    let id = create_dataset(&server, &key, "Big file");
    // Larger than what the kernel buffers of both ends hold.
    let size = 48 << 20;
    let big = dir.path().join("big.csv");
    std::fs::write(&big, vec![b'a'; size]).unwrap();
    let path = upload(&server, &key, &id, &big);

    let mut stream = TcpStream::connect(addr_of(&server)).unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // Read nothing for a while: the server gives up on this client...
    std::thread::sleep(Duration::from_secs(8));
    // ...so what arrives is what the buffers held, then the end of the connection.
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut received = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
    }
    assert!(received > 0);
    assert!(
        received < size,
        "the whole file came ({received} bytes): the connection was kept"
    );
}

/// Every regular file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_flood_of_idle_connections_does_not_lock_out_a_real_client() {
    let dir = tempfile::tempdir().unwrap();
    // Deadlines far away: only the cap can make room.
    let e = env(&[
        ("RUDATA_MAX_CONNECTIONS", "20"),
        ("RUDATA_HEADER_TIMEOUT", "5m"),
        ("RUDATA_IDLE_TIMEOUT", "5m"),
    ]);
    let server = start(dir.path(), &e, &[]);
    let mut flood = Vec::new();
    for i in 0..60 {
        let mut s = TcpStream::connect(addr_of(&server)).unwrap();
        if i % 2 == 0 {
            // Half of them start a head and never finish it.
            let _ = s.write_all(b"GET /api/1/datasets/ HTTP/1.1\r\nHost: x\r\n");
        }
        flood.push(s);
    }
    for _ in 0..3 {
        let (code, out) = curl(&["--max-time", "10", &format!("{}/datasets/", server.api)]);
        assert_eq!(code, 200, "{out}");
    }
    // The oldest of the flood were closed to make room.
    assert!(closed_within(&mut flood[0], Duration::from_secs(10)));
}

#[test]
fn when_every_connection_is_busy_a_newcomer_gets_a_json_503() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let e = env(&[
        ("RUDATA_MAX_CONNECTIONS", "2"),
        ("RUDATA_BODY_TIMEOUT", "5m"),
    ]);
    let key = publisher(&data, &e);
    let server = start(&data, &e, &[]);
    // Two requests in flight, waiting for bodies that do not come: nothing idle to close.
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr_of(&server)).unwrap();
        let head = format!(
            "POST /api/1/datasets/ HTTP/1.1\r\nHost: test\r\nX-API-KEY: {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
        );
        s.write_all(head.as_bytes()).unwrap();
        busy.push(s);
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut newcomer = TcpStream::connect(addr_of(&server)).unwrap();
    newcomer
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let answer = read_answer(&mut newcomer);
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(json(&answer.body)["message"].is_string());
    assert!(answer.header("retry-after").is_some());
    // Once a request ends, there is room again.
    drop(busy.pop());
    assert!(within(Duration::from_secs(10), || {
        send(&server, "GET", "/healthz", &[], b"").status == 200
    }));
}

#[test]
fn a_json_body_over_the_limit_gets_413_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let e = env(&[("RUDATA_MAX_JSON_BODY", "4K")]);
    let key = publisher(&data, &e);
    let server = start(&data, &e, &[]);
    let big = format!(
        r#"{{"title": "Too big", "description": "{}"}}"#,
        "x".repeat(8 * 1024)
    );
    let hkey = format!("X-API-KEY: {key}");

    // Announced by Content-Length: refused before the body is read.
    let a = send(
        &server,
        "POST",
        "/api/1/datasets/",
        &[&hkey, "Content-Type: application/json"],
        big.as_bytes(),
    );
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(json(&a.body)["message"].is_string());

    // Chunked, without Content-Length: cut off once past the limit.
    let body_file = dir.path().join("big.json");
    std::fs::write(&body_file, &big).unwrap();
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{}/datasets/", server.api),
        "-H",
        &hkey,
        "-H",
        "Content-Type: application/json",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &format!("@{}", body_file.display()),
    ]);
    assert_eq!(code, 413, "{out}");
    assert!(json(&out)["message"].is_string());

    // Nothing was created; a body under the limit still works.
    let (_, out) = curl(&["-H", &hkey, &format!("{}/datasets/", server.api)]);
    assert_eq!(json(&out)["total"], 0);
    create_dataset(&server, &key, "Small enough");
}

/// A TCP proxy to `upstream` that can be switched to a black hole: it then holds every byte (as a
/// network that drops packets), and resumes when switched back.
struct Proxy {
    addr: SocketAddr,
    holding: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let holding = Arc::new(AtomicBool::new(false));
        let h = Arc::clone(&holding);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let h = Arc::clone(&h);
                std::thread::spawn(move || {
                    while h.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    let Ok(server) = TcpStream::connect(upstream) else {
                        return;
                    };
                    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let h2 = Arc::clone(&h);
                    std::thread::spawn(move || pump(c2, s2, &h2));
                    pump(server, client, &h);
                });
            }
        });
        Proxy { addr, holding }
    }

    fn hold(&self, on: bool) {
        self.holding.store(on, Ordering::SeqCst);
    }
}

/// Copies `from` to `to`, reading nothing while `holding`.
fn pump(mut from: TcpStream, mut to: TcpStream, holding: &AtomicBool) {
    from.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if holding.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                // Bytes read as the hold began are held too: nothing passes once it is on.
                while holding.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// `url` with its host and port replaced by `addr`.
fn through(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let userinfo = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{addr}/{path}")
}

fn upstream_of(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split('/').next().unwrap();
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:5432")
    };
    let hostport = hostport.replace("localhost", "127.0.0.1");
    std::net::ToSocketAddrs::to_socket_addrs(&hostport)
        .unwrap()
        .next()
        .unwrap()
}

/// Asserts a 503 in udata's JSON shape with `Retry-After`, answered within `bound`.
fn assert_unavailable(started: Instant, bound: Duration, a: &Answer) {
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(json(&a.body)["message"].is_string(), "{}", a.body);
    assert!(a.header("retry-after").is_some());
    assert!(
        started.elapsed() < bound,
        "answered after {:?}",
        started.elapsed()
    );
}

#[test]
fn an_unreachable_database_gives_prompt_503s_and_the_server_recovers() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: the degraded PostgreSQL case is not tested");
        return;
    };
    if !admin_url.starts_with("postgres") {
        eprintln!("TEST_DATABASE_URL is not PostgreSQL: the degraded database case is not tested");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(common::TestDatabase::create(&admin_url));
    let proxy = Proxy::start(upstream_of(&db.url));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let e = env(&[
        ("RUDATA_DATABASE_URL", &through(&db.url, proxy.addr)),
        ("RUDATA_DEPENDENCY_TIMEOUT", "2s"),
    ]);
    let key = publisher(&data, &e);
    let server = start(&data, &e, &[]);
    let hkey = format!("X-API-KEY: {key}");
    create_dataset(&server, &key, "Before the outage");

    proxy.hold(true);
    let bound = Duration::from_secs(15);
    // Reads (authenticated: nothing from the cache), writes, anonymous reads.
    let started = Instant::now();
    let a = send(&server, "GET", "/api/1/datasets/", &[&hkey], b"");
    assert_unavailable(started, bound, &a);
    let started = Instant::now();
    let body = br#"{"title": "During the outage", "description": "d"}"#;
    let a = send(
        &server,
        "POST",
        "/api/1/datasets/",
        &[&hkey, "Content-Type: application/json"],
        body,
    );
    assert_unavailable(started, bound, &a);
    let started = Instant::now();
    let a = send(
        &server,
        "GET",
        "/api/1/organizations/?page_size=3",
        &[],
        b"",
    );
    assert_unavailable(started, bound, &a);
    // The process is alive, and says it cannot serve.
    assert_eq!(send(&server, "GET", "/healthz", &[], b"").status, 200);
    let started = Instant::now();
    let a = send(&server, "GET", "/readyz", &[], b"");
    assert_unavailable(started, bound, &a);

    // The network comes back: the same process serves again, without a restart.
    proxy.hold(false);
    assert!(within(Duration::from_secs(30), || {
        send(&server, "GET", "/api/1/datasets/", &[&hkey], b"").status == 200
    }));
    let a = send(&server, "GET", "/api/1/datasets/", &[&hkey], b"");
    let titles: Vec<String> = json(&a.body)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap().to_string())
        .collect();
    // The write refused during the outage did not happen.
    assert_eq!(titles, vec!["Before the outage".to_string()]);
    assert_eq!(send(&server, "GET", "/readyz", &[], b"").status, 200);
    create_dataset(&server, &key, "After the outage");
}

/// A listener that accepts connections and never answers: a storage server that hangs.
fn black_hole() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    addr
}

#[test]
fn a_storage_that_does_not_answer_gives_prompt_503s() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = publisher(&data, &[]);
    // First with local files: a dataset with one uploaded file.
    let server = start(&data, &[], &[]);
    let id = create_dataset(&server, &key, "Files");
    let csv = dir.path().join("data.csv");
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    let hkey = format!("X-API-KEY: {key}");
    let path = upload(&server, &key, &id, &csv);
    drop(server);

    // Then the same catalog on a storage that hangs.
    let hole = black_hole();
    let e = env(&[
        ("RUDATA_STORAGE", "s3"),
        ("RUDATA_S3_BUCKET", "rudata"),
        ("RUDATA_S3_ENDPOINT", &format!("http://{hole}")),
        ("RUDATA_S3_ACCESS_KEY_ID", "test"),
        ("RUDATA_S3_SECRET_ACCESS_KEY", "test"),
        ("RUDATA_DEPENDENCY_TIMEOUT", "2s"),
    ]);
    let server = start(&data, &e, &[]);
    let bound = Duration::from_secs(15);

    let started = Instant::now();
    let a = send(&server, "GET", &path, &[], b"");
    assert_unavailable(started, bound, &a);

    let boundary = "XBOUNDARYX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"more.csv\"\r\n\
         Content-Type: text/csv\r\n\r\na,b\n3,4\n\r\n--{boundary}--\r\n"
    );
    let started = Instant::now();
    let a = send(
        &server,
        "POST",
        &format!("/api/1/datasets/{id}/upload/"),
        &[
            &hkey,
            &format!("Content-Type: multipart/form-data; boundary={boundary}"),
        ],
        body.as_bytes(),
    );
    assert_unavailable(started, bound, &a);
    // Nothing was recorded: the dataset still has its one resource.
    let a = send(
        &server,
        "GET",
        &format!("/api/1/datasets/{id}/"),
        &[&hkey],
        b"",
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(json(&a.body)["resources"].as_array().unwrap().len(), 1);

    assert_eq!(send(&server, "GET", "/healthz", &[], b"").status, 200);
    let started = Instant::now();
    let a = send(&server, "GET", "/readyz", &[], b"");
    assert_unavailable(started, bound, &a);
}
