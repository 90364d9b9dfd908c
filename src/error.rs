//! The one error type of the HTTP edge, and its mapping to udata's JSON error shapes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::domain::input::InputError;
use crate::store::StoreError;

pub const NOT_FOUND_MESSAGE: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
pub const FORBIDDEN_MESSAGE: &str = "You do not have the permission to modify that object.";
pub const UNAUTHORIZED_MESSAGE: &str = "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `{"message"}`.
    #[error("{0}")]
    BadRequest(String),
    /// 400 `{"errors": {field: [messages]}}` (form validation).
    #[error("validation failed")]
    Invalid(Map<String, Value>),
    /// 400 `{"errors": {param: message}, "message": "Input payload validation failed"}` (query strings).
    #[error("invalid parameters")]
    InvalidParams(Map<String, Value>),
    /// 400 `{"errors": {field: message}, "message": message}` (udata's membership endpoints).
    #[error("{1}")]
    InvalidField(Map<String, Value>, String),
    /// 401 `{"message"}` with `WWW-Authenticate`.
    #[error("{0}")]
    Unauthorized(String),
    /// 403.
    #[error("forbidden")]
    Forbidden,
    /// 404 `{"message"}`.
    #[error("{0}")]
    NotFound(String),
    /// 409 `{"message"}`.
    #[error("{0}")]
    Conflict(String),
    /// 410 `{"message"}`.
    #[error("{0}")]
    Gone(String),
    /// 413 upload refused for its size.
    #[error("file too large")]
    PayloadTooLarge,
    /// 415 `{"message"}`.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// 416: the requested byte range is outside the file.
    #[error("range not satisfiable")]
    RangeNotSatisfiable(u64),
    /// Upload status `{"success": false, "error"}` with the given status.
    #[error("{1}")]
    Upload(StatusCode, String),
    /// 503 `{"message"}` with `Retry-After`: the database or the file storage is down or unreachable.
    #[error(
        "The service is temporarily unavailable (its database or file storage does not answer); retry later."
    )]
    Unavailable,
    /// 308 to the given location (a renamed slug); not an error, but answered the same way from deep down.
    #[error("moved to {0}")]
    Moved(String),
    /// 500; the cause is logged once, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found() -> Self {
        ApiError::NotFound(NOT_FOUND_MESSAGE.to_string())
    }

    pub fn unauthorized() -> Self {
        ApiError::Unauthorized(UNAUTHORIZED_MESSAGE.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_)
            | ApiError::Invalid(_)
            | ApiError::InvalidParams(_)
            | ApiError::InvalidField(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::Upload(status, _) => *status,
            ApiError::Moved(_) => StatusCode::PERMANENT_REDIRECT,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable code for logs and the README; never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Invalid(_) => "invalid",
            ApiError::InvalidParams(_) => "invalid_params",
            ApiError::InvalidField(..) => "invalid_field",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Gone(_) => "gone",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMedia(_) => "unsupported_media_type",
            ApiError::RangeNotSatisfiable(_) => "range_not_satisfiable",
            ApiError::Upload(..) => "upload",
            ApiError::Moved(_) => "moved",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER: &str = "5";

/// Whether an internal error comes from a dependency that is down rather than from a bug.
fn dependency_down(e: &anyhow::Error) -> bool {
    crate::store::is_unavailable(e.as_ref()) || crate::files::is_unavailable(e.as_ref())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let this = match self {
            ApiError::Internal(e) if dependency_down(&e) => {
                tracing::warn!(error = %format!("{e:#}"), "a dependency does not answer: 503");
                ApiError::Unavailable
            }
            other => other,
        };
        this.render()
    }
}

impl ApiError {
    fn render(self) -> Response {
        if let ApiError::Moved(location) = &self {
            return match HeaderValue::from_str(location) {
                Ok(v) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, v)]).into_response(),
                Err(_) => ApiError::not_found().into_response(),
            };
        }
        let status = self.status();
        let body = match &self {
            ApiError::Invalid(errors) => json!({ "errors": errors }),
            ApiError::InvalidParams(errors) => {
                json!({ "errors": errors, "message": "Input payload validation failed" })
            }
            ApiError::InvalidField(errors, message) => {
                json!({ "errors": errors, "message": message })
            }
            ApiError::Forbidden => json!({ "message": FORBIDDEN_MESSAGE }),
            ApiError::PayloadTooLarge => json!({ "message": "File too large" }),
            ApiError::RangeNotSatisfiable(_) => {
                json!({ "message": "Requested range not satisfiable" })
            }
            ApiError::Upload(_, error) => json!({ "success": false, "error": error }),
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                json!({ "message": "Internal server error" })
            }
            other => json!({ "message": other.to_string() }),
        };
        let mut response = (status, axum::Json(body)).into_response();
        match self {
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"uData\""),
                );
            }
            ApiError::RangeNotSatisfiable(size) => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            ApiError::Unavailable => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Conflict(what) => ApiError::Conflict(format!("Conflict: {what}")),
            StoreError::Other(e) if crate::store::is_unavailable(e.as_ref()) => {
                tracing::warn!(error = %format!("{e:#}"), "the database does not answer: 503");
                ApiError::Unavailable
            }
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        match e {
            InputError::Fields(f) => ApiError::Invalid(f),
            InputError::Message(m) => ApiError::BadRequest(m),
        }
    }
}
