//! `GET|HEAD /s/{key}`: stored files, streamed, with `Range`, `ETag`, `Last-Modified` and `If-None-Match`.
//! A file keeps the visibility of its dataset (404 private, 410 deleted, for those who may not see it).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::lookup;
use crate::auth::Caller;
use crate::domain::resource::is_active_content;
use crate::error::ApiError;
use crate::metrics::Count;
use crate::state::AppState;

/// Parses a single `bytes=` range against `size`. `Ok(None)`: no (usable) range header, serve whole.
fn parse_range(headers: &HeaderMap, size: u64) -> Result<Option<std::ops::Range<u64>>, ApiError> {
    let Some(raw) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Multiple ranges are not supported: serve the whole file, which HTTP allows.
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        let Ok(suffix) = end.parse::<u64>() else {
            return Ok(None);
        };
        if suffix == 0 {
            return Err(ApiError::RangeNotSatisfiable(size));
        }
        size.saturating_sub(suffix)..size
    } else {
        let Ok(start) = start.parse::<u64>() else {
            return Ok(None);
        };
        let end = if end.is_empty() {
            size
        } else {
            let Ok(end) = end.parse::<u64>() else {
                return Ok(None);
            };
            if end < start {
                return Ok(None);
            }
            end.saturating_add(1).min(size)
        };
        if start >= size {
            return Err(ApiError::RangeNotSatisfiable(size));
        }
        start..end
    };
    Ok(Some(range))
}

/// The policy of every served file: no script, style, frame or fetch; a unique origin.
const FILE_POLICY: &str = "default-src 'none'; sandbox";

/// `attachment`, with the stored name when it needs no quoting (keys are made of slugs).
fn attachment(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or("");
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if plain {
        format!("attachment; filename=\"{name}\"")
    } else {
        "attachment".to_string()
    }
}

pub async fn serve_file(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let (file, row) = lookup::file(&state, caller.identity(), &key).await?;
    let ds = &row.dataset;
    let etag = format!("\"{}\"", file.sha1);
    let last_modified = file
        .created_at
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let mut common = HeaderMap::new();
    let put = |h: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put(&mut common, header::ETAG, &etag);
    put(&mut common, header::LAST_MODIFIED, &last_modified);
    put(&mut common, header::ACCEPT_RANGES, "bytes");
    // Files are the publishers' bytes, served from the API's own origin: nothing in them may run
    // there. The sandbox holds even if a browser renders one; active types are not rendered at all.
    put(&mut common, header::CONTENT_SECURITY_POLICY, FILE_POLICY);
    if is_active_content(&file.mime) {
        put(&mut common, header::CONTENT_DISPOSITION, &attachment(&key));
    }
    if ds.private || ds.deleted.is_some() {
        // Only some callers may read it: no shared cache may keep it.
        put(&mut common, header::CACHE_CONTROL, "private, no-store");
        put(&mut common, header::VARY, "X-API-KEY");
    } else {
        put(&mut common, header::CACHE_CONTROL, "public, max-age=3600");
    }
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let size = file.filesize as u64;
    let range = parse_range(&headers, size)?;
    put(&mut common, header::CONTENT_TYPE, &file.mime);
    let (status, span) = match &range {
        Some(r) => {
            put(
                &mut common,
                header::CONTENT_RANGE,
                &format!("bytes {}-{}/{size}", r.start, r.end.saturating_sub(1)),
            );
            (StatusCode::PARTIAL_CONTENT, r.end - r.start)
        }
        None => (StatusCode::OK, size),
    };
    put(&mut common, header::CONTENT_LENGTH, &span.to_string());
    // A download of the resource: the whole file, or a range from its first byte (a download
    // manager's later ranges, a resumed download, are the same download).
    let download = axum::Extension(Count::Download {
        dataset: file.dataset_id.as_str().into(),
        resource: file.resource_id.as_str().into(),
    });
    let download = range
        .as_ref()
        .is_none_or(|r| r.start == 0)
        .then_some(download);
    if method == Method::HEAD || span == 0 {
        return Ok((status, common, download, Body::empty()).into_response());
    }
    let body = state.files.read(&key, range).await.map_err(|e| {
        ApiError::Internal(anyhow::Error::new(e).context(format!("reading stored file {key}")))
    })?;
    Ok((status, common, download, Body::from_stream(body.stream)).into_response())
}
