//! `/api/1/datasets/{id}/resources/...`: remote resources, metadata updates, reorder, delete,
//! the `latest` permalink and the list of a resource's files.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::datasets::{Found, find_for_write, find_readable};
use super::{BaseUrl, JsonBody, JsonObject};
use crate::app::AppState;
use crate::auth::{AuthUser, Caller, require_edit};
use crate::domain::ids::{new_resource_id, parse_resource_id};
use crate::domain::resource::{Checksum, FILETYPE_REMOTE, Resource, apply_resource_input};
use crate::domain::time::{ApiTime, now, to_api};
use crate::error::ApiError;
use crate::store::DatasetEdit;

pub const MISSING_RESOURCE: &str = "Resource does not exist";

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

/// `{}`
#[derive(Serialize)]
pub struct EmptyObject {}

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
    metrics: EmptyObject,
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

pub fn resource_json<'a>(base: &BaseUrl, r: &'a Resource) -> ResourceResponse<'a> {
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
        metrics: EmptyObject {},
        mime: &r.mime,
        preview_url: (),
        schema: &r.schema,
        success: None,
        title: &r.title,
        kind: &r.kind,
        url: resource_url(base, r),
    }
}

/// The canonical resource id of a path segment; a malformed one is simply not found.
fn resource_id(raw: &str) -> Result<String, ApiError> {
    parse_resource_id(raw).ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))
}

pub async fn get_resource(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = match find_readable(&state, caller.identity(), &key, &uri).await? {
        Found::Dataset(row) => *row,
        Found::Moved(r) => return Ok(r),
    };
    let rid = resource_id(&rid)?;
    let resources = state.store.list_resources(&row.dataset.id).await?;
    let r = resources
        .iter()
        .find(|r| r.id == rid)
        .ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
    Ok(axum::Json(resource_json(&base, r)).into_response())
}

pub async fn create_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let row = find_for_write(&state, &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    if body.get("filetype").and_then(Value::as_str) != Some(FILETYPE_REMOTE) {
        return Err(ApiError::BadRequest(
            "This endpoint only supports remote resources".into(),
        ));
    }
    let now = now();
    let mut r = Resource::blank(new_resource_id(), now);
    apply_resource_input(&mut r, &body, true)?;
    let (r, _) = state
        .store
        .edit_dataset(
            &row.dataset.id,
            |edit: &mut DatasetEdit| -> Result<Resource, ApiError> {
                edit.resources.insert(0, r.clone());
                edit.dataset.last_modified = now;
                Ok(r)
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(resource_json(&base, &r))).into_response())
}

pub async fn update_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    Path((key, rid)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let row = find_for_write(&state, &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let rid = resource_id(&rid)?;
    let now = now();
    let (r, _) = state
        .store
        .edit_dataset(
            &row.dataset.id,
            |edit: &mut DatasetEdit| -> Result<Resource, ApiError> {
                let r = edit
                    .resources
                    .iter_mut()
                    .find(|r| r.id == rid)
                    .ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
                apply_resource_input(r, &body, false)?;
                // Any PUT, even `{}`, signals that the file changed (udata's way to report a remote update).
                r.last_modified = now;
                edit.dataset.last_modified = now;
                Ok(r.clone())
            },
        )
        .await?;
    Ok(axum::Json(resource_json(&base, &r)).into_response())
}

pub async fn delete_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = find_for_write(&state, &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let rid = resource_id(&rid)?;
    let now = now();
    state
        .store
        .edit_dataset(
            &row.dataset.id,
            |edit: &mut DatasetEdit| -> Result<(), ApiError> {
                let before = edit.resources.len();
                // The resource leaves the dataset; its files stay stored (and served) until the dataset is purged.
                edit.resources.retain(|r| r.id != rid);
                if edit.resources.len() == before {
                    return Err(ApiError::NotFound(MISSING_RESOURCE.into()));
                }
                edit.dataset.last_modified = now;
                Ok(())
            },
        )
        .await?;
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
    let row = find_for_write(&state, &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let entries: Vec<Value> = match body {
        Value::Array(list) => list,
        Value::Object(map) => map.into_iter().map(|(k, _)| Value::String(k)).collect(),
        _ => return Err(ApiError::BadRequest("Expecting a list of resources".into())),
    };
    let mut wanted: Vec<(String, Option<serde_json::Map<String, Value>>)> =
        Vec::with_capacity(entries.len());
    for e in entries {
        match e {
            Value::String(id) => wanted.push((id, None)),
            Value::Object(map) => match map.get("id").and_then(Value::as_str) {
                Some(id) => wanted.push((id.to_string(), Some(map.clone()))),
                None => {
                    return Err(ApiError::BadRequest(
                        "Each resource must have an 'id' field".into(),
                    ));
                }
            },
            _ => {
                return Err(ApiError::BadRequest(
                    "Each resource must have an 'id' field".into(),
                ));
            }
        }
    }
    let (resources, _) = state
        .store
        .edit_dataset(
            &row.dataset.id,
            |edit: &mut DatasetEdit| -> Result<Vec<Resource>, ApiError> {
                let total = edit.resources.len();
                if wanted.len() != total {
                    return Err(ApiError::BadRequest(format!(
                        "All resources must be reordered, you provided {} out of {total}",
                        wanted.len()
                    )));
                }
                let mut reordered = Vec::with_capacity(total);
                for (id, changes) in &wanted {
                    let id = parse_resource_id(id).unwrap_or_default();
                    let pos = edit.resources.iter().position(|r| r.id == id);
                    let Some(pos) = pos else {
                        let ids: Vec<String> = edit
                            .resources
                            .iter()
                            .map(|r| format!("'{}'", r.id))
                            .collect();
                        return Err(ApiError::BadRequest(format!(
                            "Resource ids must match existing ones in dataset, ie: {{{}}}",
                            ids.join(", ")
                        )));
                    };
                    let mut r = edit.resources.remove(pos);
                    if let Some(changes) = changes {
                        apply_resource_input(&mut r, changes, false)?;
                    }
                    reordered.push(r);
                }
                // Reordering does not change the dataset's last_modified (as in udata).
                edit.resources = reordered;
                Ok(edit.resources.clone())
            },
        )
        .await?;
    let list: Vec<ResourceResponse> = resources.iter().map(|r| resource_json(&base, r)).collect();
    Ok(axum::Json(list).into_response())
}

/// `GET /datasets/{id}/resources/{rid}/versions/` (rudata extension): every file the resource had, newest first.
pub async fn list_resource_versions(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = match find_readable(&state, caller.identity(), &key, &uri).await? {
        Found::Dataset(row) => *row,
        Found::Moved(r) => return Ok(r),
    };
    let rid = resource_id(&rid)?;
    let files = state.store.list_resource_files(&rid).await?;
    let files: Vec<_> = files
        .into_iter()
        .filter(|f| f.dataset_id == row.dataset.id)
        .collect();
    if files.is_empty()
        && !state
            .store
            .list_resources(&row.dataset.id)
            .await?
            .iter()
            .any(|r| r.id == rid)
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
    Ok(axum::Json(list).into_response())
}

/// `GET /datasets/r/{rid}`: 302 to the resource's current file (the stable permalink). A resource of a
/// private (404) or deleted (410) dataset redirects only those who may see the dataset.
pub async fn redirect_latest(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    Path(rid): Path<String>,
) -> Result<Response, ApiError> {
    let rid = parse_resource_id(&rid).ok_or_else(ApiError::not_found)?;
    let found = state.store.find_resource(&rid).await?;
    let [(dataset_id, r)] = found.as_slice() else {
        return Err(ApiError::not_found());
    };
    let crate::store::Lookup::Found(row) = state.store.find_dataset(dataset_id).await? else {
        return Err(ApiError::not_found());
    };
    let d = &row.dataset;
    if (d.private || d.deleted.is_some()) && !crate::auth::can_read_hidden(caller.identity(), d) {
        return Err(if d.private {
            ApiError::not_found()
        } else {
            ApiError::Gone(super::datasets::DELETED_MESSAGE.into())
        });
    }
    Ok((
        StatusCode::FOUND,
        [(header::LOCATION, resource_url(&base, r))],
        (),
    )
        .into_response())
}
