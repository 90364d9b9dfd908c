//! `/api/1/datasets/{id}/resources/...`: remote resources, metadata updates, reorder, delete,
//! the `latest` permalink and the list of a resource's files.

use axum::Extension;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::http_cache::LastModified;
use super::{BaseUrl, Counts, JsonBody, JsonObject, lookup};
use crate::auth::{AuthUser, Caller, require_edit};
use crate::domain::resource::{Checksum, Resource};
use crate::domain::time::{ApiTime, to_api};
use crate::error::ApiError;
use crate::metrics::Count;
use crate::ops::resources::{MISSING_RESOURCE, OrderEntry};
use crate::state::AppState;

/// Where a stored file is downloaded: from rudata (`/s/<key>`) or the configured public base.
pub fn file_url(base: &BaseUrl, key: &str) -> String {
    format!("{}/{}", base.files, key)
}

/// A resource's current URL: its stored file's, or the one it was given.
pub fn resource_url(base: &BaseUrl, r: &Resource) -> String {
    match &r.file_key {
        Some(key) => file_url(base, key),
        None => r.url.clone(),
    }
}

/// `internal` of datasets and resources.
#[derive(Serialize)]
pub struct Internal {
    pub created_at_internal: ApiTime,
    pub last_modified_internal: ApiTime,
}

/// A resource in udata's v1 JSON (keys in udata's alphabetical order; `()` is `null`).
#[derive(Serialize)]
pub struct ResourceResponse<'a> {
    checksum: &'a Option<Checksum>,
    created_at: ApiTime,
    description: &'a Option<String>,
    extras: &'a Map<String, Value>,
    filesize: Option<i64>,
    filetype: &'a str,
    format: &'a Option<String>,
    geopf: (),
    harvest: (),
    id: &'a str,
    internal: Internal,
    last_modified: ApiTime,
    latest: String,
    metrics: ResourceMetrics,
    mime: &'a Option<String>,
    preview_url: (),
    schema: &'a Option<Value>,
    /// Only on upload answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    title: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    url: String,
}

/// A resource's `metrics`: `views` counts the downloads of its file (udata's name for them).
#[derive(Serialize)]
pub struct ResourceMetrics {
    views: i64,
}

/// A resource in udata's JSON; `counts` holds its views and downloads (see [`Counts`]).
pub fn resource_json<'a>(base: &BaseUrl, r: &'a Resource, counts: &Counts) -> ResourceResponse<'a> {
    ResourceResponse {
        checksum: &r.checksum,
        created_at: ApiTime(r.created_at),
        description: &r.description,
        extras: &r.extras,
        filesize: r.filesize,
        filetype: &r.filetype,
        format: &r.format,
        geopf: (),
        harvest: (),
        id: &r.id,
        internal: Internal {
            created_at_internal: ApiTime(r.created_at),
            last_modified_internal: ApiTime(r.last_modified),
        },
        last_modified: ApiTime(r.last_modified),
        latest: format!("{}/api/1/datasets/r/{}", base.api, r.id),
        metrics: ResourceMetrics {
            views: counts.of(&r.id).downloads,
        },
        mime: &r.mime,
        preview_url: (),
        schema: &r.schema,
        success: None,
        title: &r.title,
        kind: &r.kind,
        url: resource_url(base, r),
    }
}

pub async fn get_resource(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (row, r) = lookup::resource_for_read(&state, caller.identity(), &key, &rid, &uri).await?;
    let last_modified = Extension(LastModified(r.last_modified));
    let counts = Counts::of_resources(&state, std::slice::from_ref(&r)).await?;
    let response = (last_modified, axum::Json(resource_json(&base, &r, &counts))).into_response();
    Ok(crate::api::cache::only_dataset(response, &row.dataset.id))
}

pub async fn create_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let r =
        crate::ops::resources::add_remote_resource(&state, &who.actor(), &row.dataset.id, &body)
            .await?;
    // A new resource: nothing counted yet.
    let counts = Counts::default();
    Ok((
        StatusCode::CREATED,
        axum::Json(resource_json(&base, &r, &counts)),
    )
        .into_response())
}

pub async fn update_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    Path((key, rid)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let rid = lookup::resource_key(&rid)?;
    let r =
        crate::ops::resources::update_resource(&state, &who.actor(), &row.dataset.id, &rid, &body)
            .await?;
    let counts = Counts::of_resources(&state, std::slice::from_ref(&r)).await?;
    Ok(axum::Json(resource_json(&base, &r, &counts)).into_response())
}

pub async fn delete_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let rid = lookup::resource_key(&rid)?;
    crate::ops::resources::delete_resource(&state, &who.actor(), &row.dataset.id, &rid).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /datasets/{id}/resources/`: a new order (array of ids or of objects with `id`, which may also
/// carry field changes). Every current resource must appear exactly once.
pub async fn reorder_resources(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let order = order_entries(body)?;
    let resources =
        crate::ops::resources::reorder_resources(&state, &who.actor(), &row.dataset.id, &order)
            .await?;
    let counts = Counts::of_resources(&state, &resources).await?;
    let list: Vec<ResourceResponse> = resources
        .iter()
        .map(|r| resource_json(&base, r, &counts))
        .collect();
    Ok(axum::Json(list).into_response())
}

/// A reorder body: a list of ids or of objects with an `id` (an object's keys are taken as ids).
fn order_entries(body: Value) -> Result<Vec<OrderEntry>, ApiError> {
    let entries: Vec<Value> = match body {
        Value::Array(list) => list,
        Value::Object(map) => map.into_iter().map(|(k, _)| Value::String(k)).collect(),
        _ => return Err(ApiError::BadRequest("Expecting a list of resources".into())),
    };
    let no_id = || ApiError::BadRequest("Each resource must have an 'id' field".into());
    entries
        .into_iter()
        .map(|e| match e {
            Value::String(id) => Ok((id, None)),
            Value::Object(map) => match map.get("id").and_then(Value::as_str) {
                Some(id) => Ok((id.to_string(), Some(map.clone()))),
                None => Err(no_id()),
            },
            _ => Err(no_id()),
        })
        .collect()
}

/// `GET /datasets/{id}/resources/{rid}/versions/` (rudata extension): every file the resource had, newest first.
pub async fn list_resource_versions(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_read(&state, caller.identity(), &key, &uri).await?;
    let rid = lookup::resource_key(&rid)?;
    let files = state
        .store
        .list_resource_files(&row.dataset.id, &rid)
        .await?;
    // A deleted resource keeps its files (and so its versions); one without files must exist.
    if files.is_empty()
        && state
            .store
            .find_resource(&row.dataset.id, &rid)
            .await?
            .is_none()
    {
        return Err(ApiError::NotFound(MISSING_RESOURCE.into()));
    }
    let list: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({
                "url": file_url(&base, &f.key),
                "title": f.filename,
                "checksum": {"type": "sha1", "value": f.sha1},
                "filesize": f.filesize,
                "mime": f.mime,
                "created_at": to_api(&f.created_at),
            })
        })
        .collect();
    Ok(crate::api::cache::only_dataset(
        axum::Json(list).into_response(),
        &row.dataset.id,
    ))
}

/// `GET /datasets/r/{rid}`: 302 to the resource's current file (the stable permalink). A resource of a
/// private (404) or deleted (410) dataset redirects only those who may see the dataset.
pub async fn redirect_latest(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    Path(rid): Path<String>,
) -> Result<Response, ApiError> {
    let (r, row) = lookup::permalink(&state, caller.identity(), &rid).await?;
    let location = location_of(&resource_url(&base, &r));
    let mut response = (StatusCode::FOUND, [(header::LOCATION, location)], ()).into_response();
    // A download, unless it goes on to `/s/`, which counts it there (once).
    if r.file_key.is_none() || state.config.files_public_url.is_some() {
        response.extensions_mut().insert(Count::Download {
            dataset: row.dataset.id.as_str().into(),
            resource: r.id.as_str().into(),
        });
    }
    Ok(crate::api::cache::only_dataset(response, &row.dataset.id))
}

/// A URL as a `Location` value. URLs are refused with control characters, but a database written
/// before that may hold one: every byte that is not visible ASCII is percent-encoded, so the header
/// is always valid (never a 500) and can never be split.
fn location_of(url: &str) -> HeaderValue {
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&out).unwrap_or_else(|_| HeaderValue::from_static("/"))
}
