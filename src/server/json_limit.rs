//! The size limit of JSON request bodies (`limits.max_json_body`): a middleware of the JSON
//! endpoints, answering 413 in udata's shape before a body over the limit is read whole.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use super::{BoxError, closing};
use crate::state::AppState;

/// The message of a 413 for a JSON body over the limit (werkzeug's, which udata answers with).
const TOO_LARGE_MESSAGE: &str = "The data value transmitted exceeds the capacity limit.";

/// Middleware of the JSON endpoints: a body over `limits.max_json_body` gets 413 in udata's shape:
/// at once when its `Content-Length` says so, otherwise as soon as the bytes read pass the limit
/// (the handler, which reads the whole body before acting, then fails without changing anything).
pub async fn limit_json_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let max = state.config.limits.max_json_body;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return too_large();
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| {
        Body::new(LimitedBody {
            inner: body,
            remaining: max,
            exceeded: Arc::clone(&exceeded),
        })
    });
    let response = next.run(req).await;
    if exceeded.load(Ordering::Relaxed) {
        return too_large();
    }
    response
}

fn too_large() -> Response {
    closing(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE_MESSAGE)
}

/// A body cut off with an error once more than `remaining` bytes came.
struct LimitedBody {
    inner: Body,
    remaining: u64,
    exceeded: Arc<AtomicBool>,
}

/// The error a body over the JSON limit ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body is over the limit")]
struct BodyTooLarge;

impl http_body::Body for LimitedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.exceeded.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
        }
        let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if let Some(data) = frame.data_ref() {
            let len = data.len() as u64;
            if len > this.remaining {
                this.exceeded.store(true, Ordering::Relaxed);
                return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
            }
            this.remaining -= len;
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
