//! HTTP caching and compression: validators (`ETag`, `Last-Modified`), conditional requests (304),
//! `Cache-Control`, `Vary`, and gzip / brotli / zstd negotiated by `Accept-Encoding`.
//!
//! Three layers and the compression between them (outermost first):
//!
//! 1. [`tag_encoding`]: a compressed answer is another representation, so its strong `ETag` gets the
//!    encoding as a suffix (`"…-gzip"`, `"…-br"`, `"…-zstd"`, RFC 9110 §8.8.3); and one `Vary`.
//! 2. [`compression`]: tower-http's layer, for the API's JSON and CSV answers and the site's HTML
//!    and CSS, of at least [`MIN_COMPRESSED`] bytes (or streamed), never for stored files (`/s/`:
//!    ranges, zip, images, parquet… are served as stored) nor for other types.
//! 3. [`conditional`]: `If-None-Match` (weak comparison, `*`, lists, suffixed tags) or, when it is
//!    absent, `If-Modified-Since` → 304 with no body. Outside the response cache, so an answer kept
//!    there is revalidated without being copied.
//! 4. (the response cache, [`super::cache`])
//! 5. [`validators`]: inside the response cache, so what it adds is kept with the answer and never
//!    recomputed on a hit: the `ETag` (a 128-bit xxh3 of the exact body bytes), `Last-Modified`
//!    from [`LastModified`], `Cache-Control` and `Vary`.
//!
//! Answers without a known length (a dataset of thousands of resources, the catalog exports) are
//! streamed and get no `ETag`: computing one would mean holding them whole.

use axum::body::{Body, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use tower_http::compression::{CompressionLayer, CompressionLevel};

use crate::error::ApiError;
use crate::state::AppState;

/// The smallest answer compressed, in bytes: below it the encoding's framing eats the gain.
pub const MIN_COMPRESSED: u64 = 1024;

/// The largest answer given an `ETag` (larger ones are streamed, or too costly to hash and hold).
const MAX_TAGGED: u64 = 4 << 20;

/// The request headers that change the body of an API answer.
const VARY_API: &str = "X-API-KEY, X-Fields, Accept-Encoding";
/// The request headers that change the body of a page of the web site (whose home page adds
/// `Accept-Language` itself).
const VARY_SITE: &str = "Accept-Encoding";

/// The date a handler's answer was last changed: put it in the response's extensions, it becomes
/// `Last-Modified`.
#[derive(Debug, Clone, Copy)]
pub struct LastModified(pub DateTime<Utc>);

/// Adds `names` (comma-separated) to the response's `Vary`, merged into one header, each name once.
pub fn add_vary(headers: &mut HeaderMap, names: &str) {
    let mut all: Vec<String> = Vec::new();
    let existing: Vec<String> = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    for name in existing.iter().map(String::as_str).chain([names]) {
        for n in name.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !all.iter().any(|a| a.eq_ignore_ascii_case(n)) {
                all.push(n.to_string());
            }
        }
    }
    if all.is_empty() {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(&all.join(", ")) {
        headers.insert(header::VARY, v);
    }
}

/// Whether the answer to this request may be kept by shared caches (a CDN): an anonymous read.
/// Anonymous callers see only public objects, so whatever they are answered is public.
fn is_shared(req: &Request) -> bool {
    !req.headers().contains_key("x-api-key") && !req.uri().path().starts_with("/api/1/me")
}

/// Middleware (inside the response cache): `ETag`, `Last-Modified`, `Cache-Control` and `Vary` on
/// successful API reads and pages of the web site.
///
/// A `HEAD` runs as the `GET` it stands for, so that it gets the same tag; its body is dropped here
/// (and again by axum, which answers `HEAD` with the `GET` route).
pub async fn validators(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
    let is_page = crate::web::is_page(req.uri().path());
    if !is_read || !(req.uri().path().starts_with("/api/") || is_page) {
        return next.run(req).await;
    }
    let shared = is_shared(&req);
    let is_head = req.method() == Method::HEAD;
    if is_head {
        *req.method_mut() = Method::GET;
    }
    let mut response = next.run(req).await;
    if !response.status().is_success() {
        return response;
    }
    let h = response.headers_mut();
    if !h.contains_key(header::CACHE_CONTROL) {
        let value = if shared {
            format!("public, max-age={}", state.config.cache_max_age)
        } else {
            // The browser may keep it, but asks again each time (a 304 while it is unchanged).
            "private, no-cache".to_string()
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(header::CACHE_CONTROL, v);
        }
    }
    add_vary(h, if is_page { VARY_SITE } else { VARY_API });
    if let Some(LastModified(at)) = response.extensions().get::<LastModified>().copied() {
        let value = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::LAST_MODIFIED, v);
        }
    }
    // Streamed or very large answers are not held.
    let size = response.body().size_hint().exact();
    if response.status() != StatusCode::OK
        || response.headers().contains_key(header::ETAG)
        || size.is_none_or(|n| n > MAX_TAGGED)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_TAGGED as usize).await {
        Ok(body) => body,
        // Not seen: the bodies of known size are in memory already.
        Err(e) => {
            return ApiError::Internal(anyhow::anyhow!("reading an answer: {e}")).into_response();
        }
    };
    let hash = xxhash_rust::xxh3::xxh3_128(&body);
    if let Ok(v) = HeaderValue::from_str(&format!("\"{hash:032x}\"")) {
        parts.headers.insert(header::ETAG, v);
    }
    if is_head {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(body))
}

/// The encodings whose name suffixes a compressed answer's `ETag`.
const ENCODINGS: [&str; 3] = ["gzip", "br", "zstd"];

/// The opaque part of an entity tag (`W/` and quotes removed) without an encoding suffix.
fn opaque_base(tag: &str) -> &str {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let tag = tag.trim_matches('"');
    ENCODINGS
        .iter()
        .find_map(|e| {
            tag.strip_suffix(e)
                .and_then(|t| t.strip_suffix('-'))
                .filter(|t| !t.is_empty())
        })
        .unwrap_or(tag)
}

/// The tag of `If-None-Match` that matches `etag` (weak comparison, any encoding's suffix), if any.
fn matching_tag<'a>(if_none_match: &'a HeaderMap, etag: &str) -> Option<&'a str> {
    let etag = opaque_base(etag);
    if_none_match
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|t| *t == "*" || (!t.is_empty() && opaque_base(t) == etag))
}

/// Middleware (outside the response cache): 304 Not Modified for a `GET` or `HEAD` whose
/// validators match the answer's.
pub async fn conditional(req: Request, next: Next) -> Response {
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
    if !is_read
        || !(req.headers().contains_key(header::IF_NONE_MATCH)
            || req.headers().contains_key(header::IF_MODIFIED_SINCE))
    {
        return next.run(req).await;
    }
    let conditions = req.headers().clone();
    let response = next.run(req).await;
    not_modified(&conditions, &response).unwrap_or(response)
}

/// The 304 answering a read whose conditions (`If-None-Match`, or else `If-Modified-Since`, among
/// the request headers `conditions`) the `response` matches; `None` when it must be sent.
pub fn not_modified(conditions: &HeaderMap, response: &Response) -> Option<Response> {
    let has_inm = conditions.contains_key(header::IF_NONE_MATCH);
    let ims = conditions
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    if response.status() != StatusCode::OK || (!has_inm && ims.is_none()) {
        return None;
    }
    let h = response.headers();
    let matched: Option<Option<String>> = if has_inm {
        h.get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .and_then(|etag| matching_tag(conditions, etag))
            .map(|t| (t != "*").then(|| t.trim_start_matches("W/").to_string()))
    } else {
        let last_modified = h
            .get(header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        match (last_modified, ims) {
            (Some(lm), Some(ims)) if lm <= ims => Some(None),
            _ => None,
        }
    };
    let echo = matched?;
    // What a 304 carries (RFC 9110 §15.4.5); the tag echoed is the representation the client holds.
    let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
    let out = not_modified.headers_mut();
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::VARY,
        header::LAST_MODIFIED,
        header::EXPIRES,
        header::CONTENT_LOCATION,
        header::HeaderName::from_static(super::cache::CACHE_HEADER),
    ] {
        if let Some(v) = h.get(&name) {
            out.insert(name, v.clone());
        }
    }
    if let Some(tag) = echo.and_then(|t| HeaderValue::from_str(&t).ok()) {
        out.insert(header::ETAG, tag);
    }
    Some(not_modified)
}

/// Middleware (outside the compression): a compressed answer's strong `ETag` names its encoding.
pub async fn tag_encoding(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    // tower-http appends its own `Vary: accept-encoding` (to every answer it could compress, sent
    // compressed or not): one merged header.
    if response
        .headers()
        .get_all(header::VARY)
        .iter()
        .nth(1)
        .is_some()
    {
        add_vary(response.headers_mut(), "");
    }
    let Some(encoding) = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return response;
    };
    let h = response.headers_mut();
    if let Some(v) = h.get(header::ETAG).and_then(|t| encoded_tag(t, &encoding)) {
        h.insert(header::ETAG, v);
    }
    response
}

/// Whether an answer is worth compressing: a whole JSON or CSV answer of the API, or a page of the
/// web site (HTML, CSS), of at least [`MIN_COMPRESSED`] bytes, or streamed (those are the large ones). Stored files (`/s/`, which
/// offer byte ranges) are served as stored: ranges, `Content-Length` and their `ETag` stay those of
/// the publisher's bytes, and a large download costs no compression.
fn compressible(status: StatusCode, headers: &HeaderMap, size: Option<u64>) -> bool {
    if headers.contains_key(header::ACCEPT_RANGES) {
        return false;
    }
    let text = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|t| {
            t == "application/json"
                || t.ends_with("+json")
                || t == "text/csv"
                || t == "text/html"
                || t == "text/css"
        });
    status == StatusCode::OK && text && size.is_none_or(|n| n >= MIN_COMPRESSED)
}

#[derive(Clone, Copy)]
pub struct Compressible;

impl tower_http::compression::Predicate for Compressible {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        // The header first: a `HEAD` answer has an empty body but the length of its `GET`.
        let size = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .or_else(|| response.body().size_hint().exact());
        compressible(response.status(), response.headers(), size)
    }
}

/// A content coding rudata compresses with (deflate is not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Coding {
    Gzip,
    Brotli,
    Zstd,
}

impl Coding {
    pub const ALL: [Coding; 3] = [Coding::Gzip, Coding::Brotli, Coding::Zstd];

    /// Its token in `Content-Encoding` and in an `ETag`'s suffix.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// `body` compressed at the level the [`compression`] layer uses.
    pub fn encode(self, body: &[u8]) -> std::io::Result<Vec<u8>> {
        use std::io::Write as _;
        match self {
            Coding::Gzip => {
                let mut e = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 4),
                    flate2::Compression::default(),
                );
                e.write_all(body)?;
                e.finish()
            }
            Coding::Brotli => {
                let mut out = Vec::with_capacity(body.len() / 4);
                let params = brotli::enc::BrotliEncoderParams {
                    quality: 4,
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &body[..], &mut out, &params)?;
                Ok(out)
            }
            Coding::Zstd => zstd::bulk::compress(body, zstd::DEFAULT_COMPRESSION_LEVEL),
        }
    }
}

/// The coding the compression layer would pick for a request's `Accept-Encoding` (tower-http's
/// rule: the highest q-value above 0, ties to zstd, then br, then gzip; unknown codings and
/// malformed q-values ignored), or `None` for the answer as it is.
pub fn negotiate(headers: &HeaderMap) -> Option<Coding> {
    let mut best: Option<(u16, Option<Coding>)> = None;
    for part in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
    {
        let mut it = part.splitn(2, ';');
        let name = it.next().unwrap_or("").trim();
        let coding = if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            Some(Coding::Gzip)
        } else if name.eq_ignore_ascii_case("br") {
            Some(Coding::Brotli)
        } else if name.eq_ignore_ascii_case("zstd") {
            Some(Coding::Zstd)
        } else if name.eq_ignore_ascii_case("identity") {
            None
        } else {
            continue;
        };
        let q = match it.next() {
            Some(q) => match qvalue(q.trim()) {
                Some(q) => q,
                None => continue,
            },
            None => 1000,
        };
        if q > 0 && best.is_none_or(|b| (q, coding) > b) {
            best = Some((q, coding));
        }
    }
    best.and_then(|(_, coding)| coding)
}

/// An RFC 9110 q-value (`q=0.5`) in thousandths.
fn qvalue(s: &str) -> Option<u16> {
    let rest = s.strip_prefix(['q', 'Q'])?.strip_prefix('=')?;
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut value: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    for (digit, factor) in frac.bytes().zip([100, 10, 1]) {
        value += factor * u16::from(digit - b'0');
    }
    (value <= 1000).then_some(value)
}

/// Whether the compression layer would compress this whole answer.
pub fn would_compress(status: StatusCode, headers: &HeaderMap, size: u64) -> bool {
    compressible(status, headers, Some(size))
}

/// What [`tag_encoding`] makes of a strong `ETag` for a compressed representation.
pub fn encoded_tag(tag: &HeaderValue, coding: &str) -> Option<HeaderValue> {
    let t = tag.to_str().ok()?;
    if !(t.starts_with('"') && t.ends_with('"') && t.len() >= 2) {
        return None;
    }
    HeaderValue::from_str(&format!("\"{}-{coding}\"", &t[1..t.len() - 1])).ok()
}

/// gzip, brotli and zstd for [`Compressible`] answers, at each algorithm's fast default (brotli 4,
/// as nginx compresses on the fly; tower-http's defaults).
pub fn compression() -> CompressionLayer<Compressible> {
    CompressionLayer::new()
        .no_deflate()
        .quality(CompressionLevel::Default)
        .compress_when(Compressible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_weakly_and_across_encodings() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"zz\", W/\"ab-gzip\""),
        );
        assert_eq!(matching_tag(&h, "\"ab\""), Some("W/\"ab-gzip\""));
        assert_eq!(matching_tag(&h, "\"abc\""), None);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert_eq!(matching_tag(&h, "\"x\""), Some("*"));
        assert_eq!(opaque_base("\"-br\""), "-br");
    }

    #[test]
    fn negotiation_follows_the_compression_layers_rule() {
        let mut h = HeaderMap::new();
        let pick = |h: &HeaderMap| negotiate(h).map(Coding::name);
        assert_eq!(pick(&h), None);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert_eq!(pick(&h), Some("br"));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, br;q=0.5, zstd;q=0"),
        );
        assert_eq!(pick(&h), Some("gzip"));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity, gzip;q=0.9"),
        );
        assert_eq!(pick(&h), None);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=2, gzip;q=0.1"),
        );
        assert_eq!(pick(&h), Some("gzip"));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("zstd, gzip, br"),
        );
        assert_eq!(pick(&h), Some("zstd"));
    }

    #[test]
    fn vary_is_merged_once() {
        let mut h = HeaderMap::new();
        h.append(
            header::VARY,
            HeaderValue::from_static("X-API-KEY, X-Fields"),
        );
        h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        add_vary(&mut h, "Origin, x-fields, Accept-Encoding");
        assert_eq!(
            h.get_all(header::VARY).iter().collect::<Vec<_>>(),
            ["X-API-KEY, X-Fields, accept-encoding, Origin"]
        );
    }
}
