//! File uploads on `POST /datasets/{id}/upload/` (new resource) and `.../resources/{rid}/upload/`
//! (replace): a single multipart request, or udata's chunked protocol (parts, then a final request
//! without `file`). Bytes stream to storage as they arrive; nothing is recorded until the file is complete.

use std::collections::HashMap;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rand::RngCore;
use serde_json::{Value, json};

use super::BaseUrl;
use super::datasets::find_for_write;
use super::resources::{MISSING_RESOURCE, resource_json};
use crate::app::AppState;
use crate::auth::{AuthUser, require_edit};
use crate::domain::ids::{new_resource_id, parse_resource_id};
use crate::domain::reference::{extension, format_of, is_allowed_extension};
use crate::domain::resource::{Resource, StoredFile, guess_mime, normalize_filename};
use crate::domain::time::now;
use crate::error::ApiError;
use crate::files::FileWriter;
use crate::store::{DatasetEdit, FileRecord};

/// What the multipart request carried.
enum Received {
    /// A complete file, stored at its final key.
    File(StoredFile),
    /// One part of a chunked upload, stored; the client sends more.
    Part,
}

fn upload_error(msg: &str) -> ApiError {
    ApiError::Upload(StatusCode::BAD_REQUEST, msg.to_string())
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    upload_error(&format!("Invalid multipart request: {e}"))
}

/// Checks a (normalized) file name: allowed extension, not HTML.
fn check_filename(base: &BaseUrl, filename: &str) -> Result<(), ApiError> {
    let allowed = extension(filename).is_some_and(|e| is_allowed_extension(&e.to_lowercase()));
    if !allowed {
        return Err(ApiError::BadRequest(format!(
            "This file type is not allowed.The allowed file type list is available at {}/api/1/datasets/extensions/",
            base.api
        )));
    }
    if guess_mime(filename).contains("html") {
        return Err(ApiError::UnsupportedMedia(
            "Incorrect file content type: HTML".into(),
        ));
    }
    Ok(())
}

/// A fresh key for a file of `dataset_id`: never reused, so an older file is never overwritten.
fn new_file_key(dataset_id: &str, filename: &str) -> String {
    let mut salt = [0u8; 3];
    rand::rng().fill_bytes(&mut salt);
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    format!(
        "resources/{dataset_id}/{stamp}-{}/{filename}",
        hex::encode(salt)
    )
}

fn chunk_key(uuid: &str, index: u64) -> String {
    format!("chunks/{uuid}/{index}")
}

/// A chunk upload id is used in object keys: keep it to safe characters.
fn check_uuid(uuid: &str) -> Result<(), ApiError> {
    let ok = !uuid.is_empty()
        && uuid.len() <= 64
        && uuid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(upload_error("Invalid uuid"))
    }
}

fn numeric(fields: &HashMap<String, String>, key: &str) -> Result<Option<u64>, ApiError> {
    match fields.get(key).map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| upload_error(&format!("Invalid {key}"))),
    }
}

/// Streams a multipart field into a writer, aborting the object on any error.
async fn write_field(
    state: &AppState,
    key: &str,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<crate::files::WrittenFile, ApiError> {
    let mut writer: FileWriter = state.files.writer(key).await?;
    loop {
        match field.chunk().await {
            Ok(Some(bytes)) => {
                if let Err(e) = writer.write(&bytes).await {
                    writer.abort().await;
                    return Err(e.into());
                }
            }
            Ok(None) => break,
            Err(e) => {
                writer.abort().await;
                return Err(multipart_error(e));
            }
        }
    }
    Ok(writer.finish().await?)
}

/// Reads the multipart request: stores a single file, stores a part, or assembles the parts.
async fn receive(
    state: &AppState,
    base: &BaseUrl,
    dataset_id: &str,
    mut multipart: Multipart,
) -> Result<Received, ApiError> {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut stored: Option<(String, String, crate::files::WrittenFile)> = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_string();
        if name != "file" {
            let text = field.text().await.map_err(multipart_error)?;
            fields.insert(name, text);
            continue;
        }
        if stored.is_some() {
            return Err(upload_error("Only one file per request"));
        }
        let chunked = numeric(&fields, "totalparts")?.is_some_and(|n| n > 1);
        if chunked {
            let uuid = fields.get("uuid").cloned().unwrap_or_default();
            check_uuid(&uuid)?;
            let index =
                numeric(&fields, "partindex")?.ok_or_else(|| upload_error("Missing partindex"))?;
            let key = chunk_key(&uuid, index);
            let written = write_field(state, &key, field).await?;
            stored = Some((key, String::new(), written));
        } else {
            let filename = normalize_filename(field.file_name().unwrap_or(""));
            check_filename(base, &filename)?;
            let key = new_file_key(dataset_id, &filename);
            let written = write_field(state, &key, field).await?;
            stored = Some((key, filename, written));
        }
    }
    let chunked = numeric(&fields, "totalparts")?.is_some_and(|n| n > 1);
    match stored {
        Some((key, _, written)) if chunked => {
            if let Some(expected) = numeric(&fields, "chunksize")?
                && expected != written.size
            {
                state.files.delete(&key).await?;
                return Err(upload_error("Chunk size mismatch"));
            }
            Ok(Received::Part)
        }
        Some((key, filename, written)) => Ok(Received::File(StoredFile {
            mime: guess_mime(&filename),
            format: format_of(&filename),
            key,
            filename,
            sha1: written.sha1,
            size: written.size as i64,
        })),
        None if chunked => assemble(state, base, dataset_id, &fields)
            .await
            .map(Received::File),
        None => Err(upload_error("Missing file parameter")),
    }
}

/// The final request of a chunked upload: concatenates parts `0..totalparts` into the file.
/// On any failure the parts are kept so that the client can retry.
async fn assemble(
    state: &AppState,
    base: &BaseUrl,
    dataset_id: &str,
    fields: &HashMap<String, String>,
) -> Result<StoredFile, ApiError> {
    let uuid = fields.get("uuid").cloned().unwrap_or_default();
    check_uuid(&uuid)?;
    let total = numeric(fields, "totalparts")?.unwrap_or(0);
    let filename = normalize_filename(fields.get("filename").map(String::as_str).unwrap_or(""));
    check_filename(base, &filename)?;
    for index in 0..total {
        if !state.files.exists(&chunk_key(&uuid, index)).await? {
            return Err(upload_error(&format!(
                "Missing part {index} of upload {uuid}"
            )));
        }
    }
    let key = new_file_key(dataset_id, &filename);
    let mut writer = state.files.writer(&key).await?;
    for index in 0..total {
        let mut body = state
            .files
            .read(&chunk_key(&uuid, index), None)
            .await
            .map_err(anyhow::Error::from)?;
        while let Some(bytes) = body.stream.next().await {
            let written = match bytes {
                Ok(bytes) => writer.write(&bytes).await,
                Err(e) => Err(e.into()),
            };
            if let Err(e) = written {
                writer.abort().await;
                return Err(e.into());
            }
        }
    }
    let written = writer.finish().await?;
    for index in 0..total {
        state.files.delete(&chunk_key(&uuid, index)).await?;
    }
    Ok(StoredFile {
        mime: guess_mime(&filename),
        format: format_of(&filename),
        key,
        filename,
        sha1: written.sha1,
        size: written.size as i64,
    })
}

fn file_record(
    file: &StoredFile,
    resource_id: &str,
    dataset_id: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> FileRecord {
    FileRecord {
        key: file.key.clone(),
        resource_id: resource_id.to_string(),
        dataset_id: dataset_id.to_string(),
        filename: file.filename.clone(),
        sha1: file.sha1.clone(),
        filesize: file.size,
        mime: file.mime.clone(),
        created_at: at,
    }
}

fn upload_response(status: StatusCode, base: &BaseUrl, r: &Resource) -> Response {
    let mut body = resource_json(base, r);
    body["success"] = Value::Bool(true);
    (status, axum::Json(body)).into_response()
}

fn part_accepted() -> Response {
    axum::Json(json!({"success": true, "error": null})).into_response()
}

/// `POST /datasets/{id}/upload/`: a new resource from a file, first in the dataset.
pub async fn upload_new_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path(key): Path<String>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let row = find_for_write(&state, &key).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let file = match receive(&state, &base, &row.dataset.id, multipart).await? {
        Received::Part => return Ok(part_accepted()),
        Received::File(file) => file,
    };
    let now = now();
    let mut r = Resource::blank(new_resource_id(), now);
    r.kind = "main".into();
    r.set_file(&file, now);
    let record = file_record(&file, &r.id, &row.dataset.id, now);
    let result = state
        .store
        .edit_dataset(
            &row.dataset.id,
            |edit: &mut DatasetEdit| -> Result<(), ApiError> {
                edit.resources.insert(0, r.clone());
                edit.new_files.push(record);
                edit.dataset.last_modified = now;
                Ok(())
            },
        )
        .await;
    if let Err(e) = result {
        // Nothing refers to the file: remove it.
        state.files.delete(&file.key).await?;
        return Err(e);
    }
    Ok(upload_response(StatusCode::CREATED, &base, &r))
}

/// `POST /datasets/{id}/resources/{rid}/upload/`: a new file for an existing resource.
/// The previous file stays stored and served at its URL; the resource (and `latest`) move to the new one.
pub async fn replace_resource_file(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path((key, rid)): Path<(String, String)>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let row = find_for_write(&state, &key).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let rid = parse_resource_id(&rid).ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
    let resources = state.store.list_resources(&row.dataset.id).await?;
    if !resources.iter().any(|r| r.id == rid) {
        return Err(ApiError::NotFound(MISSING_RESOURCE.into()));
    }
    let file = match receive(&state, &base, &row.dataset.id, multipart).await? {
        Received::Part => return Ok(part_accepted()),
        Received::File(file) => file,
    };
    let now = now();
    let record = file_record(&file, &rid, &row.dataset.id, now);
    let result = state
        .store
        .edit_dataset(
            &row.dataset.id,
            |edit: &mut DatasetEdit| -> Result<Resource, ApiError> {
                let r = edit
                    .resources
                    .iter_mut()
                    .find(|r| r.id == rid)
                    .ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
                r.set_file(&file, now);
                edit.new_files.push(record);
                edit.dataset.last_modified = now;
                Ok(r.clone())
            },
        )
        .await;
    match result {
        Ok((r, _)) => Ok(upload_response(StatusCode::OK, &base, &r)),
        Err(e) => {
            state.files.delete(&file.key).await?;
            Err(e)
        }
    }
}
