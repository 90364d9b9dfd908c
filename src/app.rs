//! The application: THE route table, the request-wide layers, and the HTTP server.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tower::ServiceExt;
use tracing::Instrument;

use crate::api::{
    activity, cache, checks, datasets, dcat, exports, files, health, http_cache, invitations, mask,
    me, organizations, rate_limit, reference, resources, suggest, uploads, v2,
};
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::pages as site;

/// Every route, method and handler of the API.
/// Paths are written without their trailing slash: [`app`] strips it before routing,
/// so `/datasets/x/` and `/datasets/x` are the same route (DESIGN §3.6).
pub fn router(state: AppState) -> Router {
    let uploads = Router::new()
        .route(
            "/api/1/datasets/{id}/upload",
            post(uploads::upload_new_resource),
        )
        .route(
            "/api/1/datasets/{id}/resources/{rid}/upload",
            post(uploads::replace_resource_file),
        )
        .layer(DefaultBodyLimit::disable());
    // The catalog web site (`web`): HTML pages in data.gouv.fr's URL shapes, one set per language;
    // not API operations, so not in the OpenAPI documents. The resource permalink is the API's.
    let pages = Router::new()
        .route("/", get(site::home))
        .route("/fr", get(site::home))
        .route("/en", get(site::home))
        .route("/fr/datasets", get(site::search_datasets))
        .route("/en/datasets", get(site::search_datasets))
        .route("/fr/datasets/{id}", get(site::show_dataset))
        .route("/en/datasets/{id}", get(site::show_dataset))
        .route("/fr/datasets/r/{rid}", get(resources::redirect_latest))
        .route("/en/datasets/r/{rid}", get(resources::redirect_latest))
        .route("/fr/organizations/{org}", get(site::show_organization))
        .route("/en/organizations/{org}", get(site::show_organization))
        .route("/static/site.css", get(site::stylesheet));
    Router::new()
        .route(
            "/api/1/datasets",
            get(datasets::list_datasets).post(datasets::create_dataset),
        )
        .route("/api/1/datasets/licenses", get(reference::list_licenses))
        .route(
            "/api/1/datasets/frequencies",
            get(reference::list_frequencies),
        )
        .route(
            "/api/1/datasets/resource_types",
            get(reference::list_resource_types),
        )
        .route(
            "/api/1/datasets/extensions",
            get(reference::list_extensions),
        )
        .route("/api/1/datasets/suggest", get(suggest::suggest_datasets))
        .route(
            "/api/1/datasets/suggest/formats",
            get(suggest::suggest_formats),
        )
        .route("/api/1/datasets/suggest/mime", get(suggest::suggest_mimes))
        .route("/api/1/tags/suggest", get(suggest::suggest_tags))
        .route(
            "/api/1/organizations/suggest",
            get(suggest::suggest_organizations),
        )
        .route("/api/1/users/suggest", get(suggest::suggest_users))
        .route("/api/1/activity", get(activity::list_activities))
        .route("/api/1/site/datasets.csv", get(exports::export_datasets))
        .route("/api/1/site/resources.csv", get(exports::export_resources))
        .route(
            "/api/1/site/organizations.csv",
            get(exports::export_organizations),
        )
        .route("/api/1/site/catalog", get(dcat::redirect_site_catalog))
        .route("/api/1/site/catalog.{fmt}", get(dcat::get_site_catalog))
        .route("/api/1/datasets/{id}/rdf", get(dcat::redirect_dataset_rdf))
        .route("/api/1/datasets/{id}/rdf.{fmt}", get(dcat::get_dataset_rdf))
        .route(
            "/api/1/organizations/{org}/catalog",
            get(dcat::redirect_organization_catalog),
        )
        .route(
            "/api/1/organizations/{org}/catalog.{fmt}",
            get(dcat::get_organization_catalog),
        )
        .route("/api/1/datasets/r/{rid}", get(resources::redirect_latest))
        .route(
            "/api/1/datasets/{id}",
            get(datasets::get_dataset)
                .put(datasets::update_dataset)
                .delete(datasets::delete_dataset),
        )
        .route(
            "/api/1/datasets/{id}/resources",
            post(resources::create_resource).put(resources::reorder_resources),
        )
        .route(
            "/api/1/datasets/{id}/resources/{rid}",
            get(resources::get_resource)
                .put(resources::update_resource)
                .delete(resources::delete_resource),
        )
        .route(
            "/api/1/datasets/{id}/resources/{rid}/versions",
            get(resources::list_resource_versions),
        )
        .route(
            "/api/1/datasets/{id}/resources/{rid}/checks",
            get(checks::list_resource_checks),
        )
        .route(
            "/api/1/datasets/{id}/resources/{rid}/check",
            post(checks::check_resource),
        )
        .route(
            "/api/1/organizations",
            get(organizations::list_organizations).post(organizations::create_organization),
        )
        .route("/api/1/organizations/roles", get(reference::list_org_roles))
        .route(
            "/api/1/organizations/{org}",
            get(organizations::get_organization)
                .put(organizations::update_organization)
                .delete(organizations::delete_organization),
        )
        .route(
            "/api/1/organizations/{org}/datasets",
            get(organizations::list_organization_datasets),
        )
        .route(
            "/api/1/organizations/{org}/member",
            post(invitations::invite_member),
        )
        .route(
            "/api/1/organizations/{org}/membership",
            get(invitations::list_org_invitations),
        )
        .route(
            "/api/1/organizations/{org}/membership/{id}/cancel",
            post(invitations::cancel_invitation),
        )
        .route(
            "/api/1/organizations/{org}/member/{user}",
            put(organizations::update_member).delete(organizations::delete_member),
        )
        .route("/api/1/me", get(me::get_me).put(me::update_me))
        .route(
            "/api/1/me/api_tokens",
            get(me::list_api_tokens).post(me::create_api_token),
        )
        .route(
            "/api/1/me/api_tokens/{id}",
            axum::routing::delete(me::revoke_api_token),
        )
        .route(
            "/api/1/me/org_invitations",
            get(invitations::list_my_invitations),
        )
        .route(
            "/api/1/me/org_invitations/{id}/accept",
            post(invitations::accept_invitation),
        )
        .route(
            "/api/1/me/org_invitations/{id}/refuse",
            post(invitations::refuse_invitation),
        )
        .route("/api/1/users/{id}", get(me::get_user))
        .route("/api/2/datasets/search", get(v2::search::search_datasets))
        .route(
            "/api/2/organizations/search",
            get(v2::search::search_organizations),
        )
        .route("/api/2/datasets/{id}", get(v2::datasets::get_dataset))
        .route(
            "/api/2/datasets/{id}/resources",
            get(v2::datasets::list_resources),
        )
        .route(
            "/api/2/datasets/resources/{rid}",
            get(v2::datasets::get_resource),
        )
        .route(
            "/api/2/datasets/{id}/extras",
            get(v2::extras::get_dataset_extras)
                .put(v2::extras::change_dataset)
                .delete(v2::extras::change_dataset),
        )
        .route(
            "/api/2/datasets/{id}/resources/{rid}/extras",
            get(v2::extras::get_resource_extras)
                .put(v2::extras::change_resource)
                .delete(v2::extras::change_resource),
        )
        .route(
            "/api/2/organizations/{org}/extras",
            get(v2::extras::get_organization_extras)
                .put(v2::extras::change_organization)
                .delete(v2::extras::change_organization),
        )
        .route("/api/1/swagger.json", get(crate::api::openapi::swagger_v1))
        .route("/api/2/swagger.json", get(crate::api::openapi::swagger_v2))
        .route("/api/1", get(crate::api::openapi::swagger_ui))
        .route(
            "/api/1/swagger-ui/{file}",
            get(crate::api::openapi::swagger_ui_asset),
        )
        .route("/s/{*key}", get(files::serve_file))
        .route("/health", get(|| async { "ok" }))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::api::metrics::get_metrics))
        .route(
            "/api/1/datasets/{id}/upload/{uuid}",
            get(uploads::get_upload),
        )
        // Every route above reads JSON bodies (if any) under the configured limit; uploads have theirs.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::server::limit_json_body,
        ))
        .layer(DefaultBodyLimit::disable())
        .merge(uploads)
        .merge(pages)
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(serde_json::json!({
                    "message": "The method is not allowed for the requested URL."
                })),
            )
        })
        // Innermost: `X-Fields` reshapes what the handler answered (nothing to do without it).
        .layer(middleware::from_fn(mask::reshape))
        .layer(middleware::from_fn(refuse_undecodable_target))
        .layer(middleware::from_fn(rate_limit::mark_authenticated))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        // Inside the cache: the validators are kept with the answer, not computed again on a hit.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http_cache::validators,
        ))
        // Right inside the cache: an answer kept keeps its route and what it counts (`metrics`).
        .layer(middleware::from_fn(crate::metrics::tag))
        // Outside `authenticate`: an anonymous answer kept is served without a lookup.
        .layer(middleware::from_fn_with_state(state.clone(), cache::cached))
        // 304s outside the cache (a kept answer is revalidated without a copy), compression
        // outside them (a 304 has nothing to compress), then the compressed answers' own ETags.
        .layer(middleware::from_fn(http_cache::conditional))
        .layer(http_cache::compression())
        .layer(middleware::from_fn(http_cache::tag_encoding))
        // Outside the cache (an answer kept is still a request) and inside CORS (a 429 is readable).
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .layer(middleware::from_fn(access_log))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(refuse_oversized_head))
        // Outermost: every request has an id before anything logs, and every answer carries it
        // and `nosniff`.
        .layer(middleware::from_fn(edge))
        // Around everything: each request counted and timed by its route (`metrics`).
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::observe,
        ))
        .with_state(state)
}

/// The longest request id kept from a client.
const MAX_REQUEST_ID: usize = 128;

/// The request's id: the client's `X-Request-Id` (a proxy or a script can then follow its request
/// through our logs) unless it is too long, holds anything but visible ASCII, or comes more than
/// once; then a fresh UUID.
fn request_id(req: &Request) -> HeaderValue {
    let mut values = req.headers().get_all(X_REQUEST_ID).iter();
    match (values.next(), values.next()) {
        (Some(v), None)
            if !v.is_empty()
                && v.len() <= MAX_REQUEST_ID
                && v.as_bytes().iter().all(u8::is_ascii_graphic) =>
        {
            v.clone()
        }
        _ => fresh_request_id(),
    }
}

/// A random (version 4) UUID, from the thread's generator rather than a system call per request.
fn fresh_request_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.hyphenated().encode_lower(&mut text);
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
}

/// What every answer carries: its request's id, and `nosniff` (browsers never guess a type other
/// than the one declared, errors included).
fn edge_headers(response: &mut Response, id: HeaderValue) {
    let h = response.headers_mut();
    if !h.contains_key(X_REQUEST_ID) {
        h.insert(X_REQUEST_ID, id);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// Middleware, outermost: the request's id set before anything logs (see [`request_id`]), then
/// [`edge_headers`].
async fn edge(mut req: Request, next: Next) -> Response {
    let id = request_id(&req);
    req.headers_mut().insert(X_REQUEST_ID, id.clone());
    let mut response = next.run(req).await;
    edge_headers(&mut response, id);
    response
}

/// An answer made before the layers (see `cache::front`) gets what the outer layers add to it: the
/// request id, `nosniff`, and the access log's line.
pub(crate) fn finish(req: &Request, response: &mut Response, started: std::time::Instant) {
    let id = request_id(req);
    if access_logged() {
        let span = tracing::info_span!("request", id = %id.to_str().unwrap_or("-"));
        span.in_scope(|| log_request(req.method(), req.uri().path(), response, started));
    }
    edge_headers(response, id);
}

const X_REQUEST_ID: &str = "x-request-id";

/// A path whose percent-encoded bytes are not UTF-8, or hold a NUL, names nothing we hold (udata
/// decodes it with replacement characters and finds nothing): 404, before an extractor answers in
/// plain text. A NUL in the query string is refused with a 400: no parameter can hold one, and
/// PostgreSQL refuses it in any text it is compared with.
async fn refuse_undecodable_target(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8();
    if decoded.is_err() || path.contains("%00") {
        return ApiError::not_found().into_response();
    }
    if req.uri().query().is_some_and(|q| q.contains("%00")) {
        return ApiError::BadRequest("The query string holds a NUL character (%00).".into())
            .into_response();
    }
    next.run(req).await
}

/// The longest request target we read, in bytes. hyper refuses longer than 65,534 bytes itself,
/// with an empty 414; below that, the JSON answer comes from us.
const MAX_URI: usize = 16 * 1024;
/// The most header bytes (names and values) we read. hyper refuses a head over about 400 KiB, or
/// more than 100 headers, itself with an empty 431; below that, the JSON answer comes from us.
const MAX_HEADER_BYTES: usize = 64 * 1024;

fn uri_too_long(req: &Request) -> bool {
    req.uri().path_and_query().map_or(0, |p| p.as_str().len()) > MAX_URI
}

fn headers_too_large(req: &Request) -> bool {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    header_bytes > MAX_HEADER_BYTES
}

/// Whether [`refuse_oversized_head`] refuses `req`.
pub(crate) fn head_refused(req: &Request) -> bool {
    uri_too_long(req) || headers_too_large(req)
}

/// 414 / 431 in udata's shape for request heads larger than anything a client of the API sends.
async fn refuse_oversized_head(req: Request, next: Next) -> Response {
    if uri_too_long(&req) {
        let body = serde_json::json!({ "message": "The request URI is too long." });
        return (StatusCode::URI_TOO_LONG, axum::Json(body)).into_response();
    }
    if headers_too_large(&req) {
        let body = serde_json::json!({ "message": "The request headers are too large." });
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            axum::Json(body),
        )
            .into_response();
    }
    next.run(req).await
}

/// The most of a non-JSON error body turned into a message.
const MAX_ERROR_TEXT: usize = 4 * 1024;

/// Every error answer of the API is JSON `{"message"}`: what an extractor or layer answered in plain
/// text (or with no body) is reshaped, keeping its status and its other headers. The site's error
/// pages (HTML) are left as they are.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_string());
    let body = serde_json::to_vec(&serde_json::json!({ "message": text })).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Removes one trailing slash (but not from `/`), so both spellings reach the same route directly.
fn strip_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') && !path.starts_with("/s/") {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let new = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = new.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// One structured log line per request: method, path, status, duration (never headers: they hold
/// keys). Everything logged while the request is handled is inside its span, so every line of a
/// request carries its id.
/// Costs nothing while the log's level leaves it out.
async fn access_log(req: Request, next: Next) -> Response {
    if !access_logged() {
        return next.run(req).await;
    }
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let id = req.headers().get(X_REQUEST_ID);
    let span =
        tracing::info_span!("request", id = %id.and_then(|v| v.to_str().ok()).unwrap_or("-"));
    async move {
        let response = next.run(req).await;
        log_request(&method, &path, &response, started);
        response
    }
    .instrument(span)
    .await
}

/// Whether requests are logged (the `rudata::http` target at `info`).
fn access_logged() -> bool {
    tracing::enabled!(target: "rudata::http", tracing::Level::INFO)
}

fn log_request(method: &Method, path: &str, response: &Response, started: std::time::Instant) {
    tracing::info!(
        target: "rudata::http",
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
}

/// CORS as udata answers it: preflights get 204 with the origin echoed; other answers carry the origin.
async fn cors(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let allowed = origin.as_ref().filter(|o| {
        state.config.cors_origins.is_empty()
            || o.to_str()
                .is_ok_and(|o| state.config.cors_origins.iter().any(|a| a == o))
    });
    if req.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let h = response.headers_mut();
        h.insert(
            header::ALLOW,
            HeaderValue::from_static("GET, HEAD, POST, PUT, DELETE, OPTIONS"),
        );
        if let Some(o) = allowed {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
            http_cache::add_vary(h, "Origin");
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, POST, PUT, DELETE, OPTIONS"),
            );
            let requested = req
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .cloned()
                .unwrap_or(HeaderValue::from_static(
                    "Content-Type, X-API-KEY, X-Fields",
                ));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("21600"),
            );
        }
        return response;
    }
    let mut response = next.run(req).await;
    if let Some(o) = allowed {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
        http_cache::add_vary(response.headers_mut(), "Origin");
    }
    response
}

/// Serves the API on `listener` until `shutdown` resolves; in-flight requests finish first.
/// Connections are held under `config.limits` (see `server`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limits = state.config.limits;
    let router = router(state.clone());
    let service = tower::service_fn(move |req: Request| {
        let router = router.clone();
        let state = state.clone();
        async move { Ok(respond(&state, router, req).await) }
    });
    crate::server::serve(listener, service, limits, shutdown).await
}

/// One request: from the response cache when it can answer before the layers (`cache::front`),
/// otherwise through them.
async fn respond(state: &AppState, router: Router, req: Request) -> Response {
    let req = strip_trailing_slash(req);
    let req = match cache::front(state, req).await {
        Ok(response) => return response,
        Err(req) => req,
    };
    match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// One request through the whole service, as the server would handle it (used by in-process tests).
pub async fn handle(state: &AppState, req: Request) -> Response {
    respond(state, router(state.clone()), req).await
}
