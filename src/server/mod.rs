//! The HTTP server: accepts connections and drives each with hyper, under the limits a public
//! server needs (`config::Limits`): a deadline for a request's headers, an idle keep-alive timeout, a
//! body-progress timeout, a cap on open connections, and a size limit on JSON bodies.
//!
//! hyper's own header timeout starts when the connection waits for a request, so it cannot tell an
//! idle keep-alive connection from a slow head; a watchdog per connection does both instead, from
//! what the connection is doing (waiting, reading a head, busy with a request).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::config::Limits;

mod head_errors;
mod json_limit;

pub use json_limit::limit_json_body;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long the accept loop waits for an evicted connection to give its place back.
const EVICTION_WAIT: Duration = Duration::from_secs(1);

/// Serves `service` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
/// Every request carries its peer's [`ConnectInfo<SocketAddr>`].
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let cap = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(cap));
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors (or another transient failure): wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match make_room(&registry, &permits).await {
                Some(permit) => permit,
                None => {
                    refuse(&stream);
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let conn = registry.add(limits);
        tokio::spawn(serve_connection(
            stream,
            peer,
            service.clone(),
            limits,
            conn,
            Arc::clone(&registry),
            stop_rx.clone(),
            permit,
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(stop_rx);
    // Every connection holds a receiver: all of them are gone once their last request is answered.
    stop_tx.closed().await;
    Ok(())
}

/// At the cap: closes the connection that has waited longest without a request in flight, and
/// waits for its place. `None` when every connection is busy with a request.
async fn make_room(registry: &Registry, permits: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
    if !registry.evict_oldest_idle() {
        return None;
    }
    tokio::time::timeout(EVICTION_WAIT, Arc::clone(permits).acquire_owned())
        .await
        .ok()?
        .ok()
}

/// Tells a client we cannot take that the server is full, as far as one non-blocking write goes,
/// then closes its connection.
fn refuse(stream: &TcpStream) {
    const BODY: &str = r#"{"message": "The server is at its connection limit; retry later."}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.try_write(answer.as_bytes());
    tracing::warn!("connection refused: every connection is busy with a request");
}

/// What a connection is doing, as its watchdog sees it.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request's first byte since `since`; `fresh`: none came yet on this connection.
    Waiting { since: Instant, fresh: bool },
    /// Bytes of a request head arrived, the first at `since`.
    Head { since: Instant },
    /// Requests between their complete head and the last byte of their answer.
    Busy(usize),
}

/// One open connection, shared by its task, its requests, its I/O and the registry.
///
/// The watchdog sleeps until a wake-up time no later than the connection's deadline, and checks
/// the deadline when it wakes. What the connection does only wakes it early when it brings the
/// deadline before that time: a request on a keep-alive connection then costs no wake-up (see
/// [`Conn::wake_at`]).
struct Conn {
    limits: Limits,
    phase: Mutex<Phase>,
    /// Since when the socket has refused our writes (a client that does not read its answer).
    write_blocked: Mutex<Option<Instant>>,
    /// When the watchdog wakes next.
    wake: Mutex<Option<Instant>>,
    /// Wakes the watchdog when the deadline comes before its wake-up, or the connection is evicted.
    changed: Notify,
    evicted: AtomicBool,
}

impl Conn {
    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_phase(&self, f: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        *phase = f(*phase);
        drop(phase);
        self.wake_if_sooner();
    }

    /// Wakes the watchdog if the deadline now comes before its wake-up.
    fn wake_if_sooner(&self) {
        let Some(deadline) = self.deadline() else {
            return;
        };
        let wake = *self.wake.lock().unwrap_or_else(|e| e.into_inner());
        if wake.is_none_or(|wake| deadline < wake) {
            self.changed.notify_one();
        }
    }

    /// When the watchdog wakes next: at the deadline, or sooner: `header_timeout` after the
    /// connection began waiting (a request's head that starts then ends its deadline no sooner),
    /// and while busy, `header_timeout` from now (the connection may be waiting again by then).
    fn wake_at(&self) -> Instant {
        let soon = match self.phase() {
            Phase::Waiting { since, .. } | Phase::Head { since } => {
                since + self.limits.header_timeout
            }
            Phase::Busy(_) => {
                Instant::now() + self.limits.header_timeout.min(self.limits.idle_timeout)
            }
        };
        self.deadline().map_or(soon, |deadline| deadline.min(soon))
    }

    /// Bytes arrived: a waiting connection starts its header deadline.
    fn on_bytes(&self) {
        if matches!(self.phase(), Phase::Waiting { .. }) {
            self.set_phase(|p| match p {
                Phase::Waiting { .. } => Phase::Head {
                    since: Instant::now(),
                },
                other => other,
            });
        }
    }

    fn begin_request(&self) {
        self.set_phase(|p| match p {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        });
    }

    fn end_request(&self) {
        self.set_phase(|p| match p {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Waiting {
                since: Instant::now(),
                fresh: false,
            },
        });
    }

    /// A write was refused (`blocked`) or went through.
    fn on_write(&self, blocked: bool) {
        let mut since = self.write_blocked.lock().unwrap_or_else(|e| e.into_inner());
        match (blocked, since.is_some()) {
            (true, false) => {
                *since = Some(Instant::now());
                drop(since);
                self.wake_if_sooner();
            }
            (false, true) => *since = None,
            _ => {}
        }
    }

    /// When the connection closes unless something happens first: the header or idle deadline,
    /// or, while busy, the body timeout once the client stops reading its answer.
    fn deadline(&self) -> Option<Instant> {
        let limits = &self.limits;
        match self.phase() {
            Phase::Waiting { since, fresh: true } | Phase::Head { since } => {
                Some(since + limits.header_timeout)
            }
            Phase::Waiting { since, .. } => Some(since + limits.idle_timeout),
            Phase::Busy(_) => {
                let blocked = *self.write_blocked.lock().unwrap_or_else(|e| e.into_inner());
                blocked.map(|since| since + limits.body_timeout)
            }
        }
    }

    /// Since when the connection has had no request in flight; `None` while busy.
    fn idle_since(&self) -> Option<Instant> {
        match self.phase() {
            Phase::Waiting { since, .. } | Phase::Head { since } => Some(since),
            Phase::Busy(_) => None,
        }
    }
}

/// The open connections, for eviction at the cap.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next: AtomicU64,
}

impl Registry {
    fn add(&self, limits: Limits) -> (u64, Arc<Conn>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            limits,
            wake: Mutex::new(None),
            phase: Mutex::new(Phase::Waiting {
                since: Instant::now(),
                fresh: true,
            }),
            write_blocked: Mutex::new(None),
            changed: Notify::new(),
            evicted: AtomicBool::new(false),
        });
        self.lock().insert(id, Arc::clone(&conn));
        (id, conn)
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks for closing the connection that has waited longest for a request (an idle keep-alive
    /// connection, or one still sending its head); `false` if every connection is busy.
    fn evict_oldest_idle(&self) -> bool {
        let victim = self
            .lock()
            .values()
            .filter(|c| !c.evicted.load(Ordering::Relaxed))
            .filter_map(|c| c.idle_since().map(|since| (since, Arc::clone(c))))
            .min_by_key(|(since, _)| *since);
        match victim {
            Some((_, conn)) => {
                conn.evicted.store(true, Ordering::Relaxed);
                conn.changed.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Drives one connection until it ends, times out, is evicted, or the server stops.
#[expect(clippy::too_many_arguments)]
async fn serve_connection<S>(
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    limits: Limits,
    (id, conn): (u64, Arc<Conn>),
    registry: Arc<Registry>,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let io = TokioIo::new(Tracked {
        inner: stream,
        conn: Arc::clone(&conn),
        replacement: Vec::new(),
        sent: 0,
    });
    let request_conn = Arc::clone(&conn);
    let handler = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let guard = RequestGuard::new(Arc::clone(&request_conn));
        let timed_out = Arc::new(AtomicBool::new(false));
        let mut req = req.map(|body| {
            Body::new(ProgressBody {
                inner: body,
                timeout: limits.body_timeout,
                timer: None,
                timed_out: Arc::clone(&timed_out),
            })
        });
        req.extensions_mut().insert(ConnectInfo(peer));
        let service = service.clone();
        async move {
            let Ok(response) = service.oneshot(req).await;
            let response = if timed_out.load(Ordering::Relaxed) {
                body_timeout_response()
            } else {
                response
            };
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(GuardedBody {
                    inner: body,
                    _guard: guard,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The watchdog below keeps the deadlines (hyper's would also close idle connections).
        .header_read_timeout(None)
        .keep_alive(true);
    let connection = builder.serve_connection(io, handler);
    let mut connection = std::pin::pin!(connection);
    let mut stopping = false;
    loop {
        if conn.evicted.load(Ordering::Relaxed) && !stopping {
            if conn.idle_since().is_some() {
                break;
            }
            // Busy when evicted (it took a request meanwhile): finish it, then close.
            stopping = true;
            connection.as_mut().graceful_shutdown();
        }
        let wake = conn.wake_at();
        *conn.wake.lock().unwrap_or_else(|e| e.into_inner()) = Some(wake);
        let expired = tokio::time::sleep_until(wake);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            () = conn.changed.notified() => {}
            () = expired => {
                if conn.deadline().is_some_and(|at| at <= Instant::now()) {
                    tracing::debug!(%peer, "closing a connection: header, idle or body timeout");
                    break;
                }
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
    registry.remove(id);
}

/// The 408 answer to a request whose body stopped coming; the connection closes after it.
fn body_timeout_response() -> Response {
    closing(
        StatusCode::REQUEST_TIMEOUT,
        "The request body stopped arriving: request timed out.",
    )
}

/// A JSON error after which the connection closes: the rest of the request's body is not read, so
/// the connection cannot carry another request.
fn closing(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "message": message });
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The socket, telling its connection when bytes arrive and when writes block, and shaping hyper's
/// own error answers (`head_errors`).
struct Tracked {
    inner: TcpStream,
    conn: Arc<Conn>,
    /// An answer written in place of hyper's own error answer, and how much of it is sent.
    replacement: Vec<u8>,
    sent: usize,
}

impl Tracked {
    /// Sends what is left of the replacement answer; ready once all of it is sent.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while self.sent < self.replacement.len() {
            let result = Pin::new(&mut self.inner).poll_write(cx, &self.replacement[self.sent..]);
            self.conn.on_write(result.is_pending());
            match result {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => self.sent += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Whether `bytes`, written while no request of ours is in flight, are hyper's own error answer:
    /// if so they are replaced (and reported written).
    fn replaces(&mut self, bytes: &[u8]) -> bool {
        if !self.replacement.is_empty()
            || self.conn.idle_since().is_none()
            || !head_errors::is_own_error(bytes)
        {
            return false;
        }
        self.replacement = head_errors::shaped(bytes);
        self.sent = 0;
        true
    }
}

impl Tracked {
    /// hyper's `len` bytes count as written once replaced: what the socket has not taken yet goes
    /// with the next write, flush or shutdown.
    fn replaced(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<std::io::Result<usize>> {
        match self.poll_replacement(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) | Poll::Pending => Poll::Ready(Ok(len)),
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.on_bytes();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_replacement(cx))?;
        if this.replaces(buf) {
            return this.replaced(cx, buf.len());
        }
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.conn.on_write(result.is_pending());
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_replacement(cx))?;
        // hyper's own error answer is a head alone, small: looked at whole.
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total < 512 && this.conn.idle_since().is_some() {
            let whole: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            if this.replaces(&whole) {
                return this.replaced(cx, total);
            }
        }
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.conn.on_write(result.is_pending());
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request in flight, from its complete head until its answer is sent (or abandoned).
struct RequestGuard(Arc<Conn>);

impl RequestGuard {
    fn new(conn: Arc<Conn>) -> Self {
        conn.begin_request();
        RequestGuard(conn)
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

/// An answer's body, holding its request's guard until hyper is done with it.
struct GuardedBody {
    inner: Body,
    _guard: RequestGuard,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A request body that fails when no byte arrives for `timeout` while the handler waits for one.
/// Time the handler spends elsewhere (writing to storage) does not count.
struct ProgressBody {
    inner: hyper::body::Incoming,
    timeout: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

/// The error a stalled request body ends with.
#[derive(Debug, thiserror::Error)]
#[error("no byte of the request body arrived for {0:?}")]
pub struct BodyTimeout(Duration);

impl http_body::Body for ProgressBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.timer = None;
                Poll::Ready(frame.map(|f| f.map_err(BoxError::from)))
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if timer.as_mut().poll(cx).is_ready() {
                    this.timer = None;
                    this.timed_out.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(Box::new(BodyTimeout(timeout)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
