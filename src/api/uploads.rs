//! File uploads on `POST /datasets/{id}/upload/` (new resource) and `.../resources/{rid}/upload/`
//! (replace): a single multipart request, or udata's chunked protocol (parts carrying `uuid`,
//! `partindex`, `totalparts`, `chunksize`, then a final request without `file`), plus
//! `GET /datasets/{id}/upload/{uuid}/` to resume an interrupted chunked upload (a rudata extension).
//!
//! Bytes stream to storage as they arrive (hashed on the way, never held whole in memory). Every object
//! is marked pending before its first byte; the mark goes in the transaction that records the file,
//! so a crash at any point leaves no resource pointing to a partial file, only a mark to clean up.

use std::collections::HashMap;

use axum::extract::{Multipart, OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rand::RngCore;
use serde_json::{Value, json};

use super::BaseUrl;
use super::datasets::find_for_write;
use super::resources::{MISSING_RESOURCE, resource_json};
use crate::app::AppState;
use crate::auth::{AuthUser, Identity, require_edit};
use crate::domain::ids::{new_resource_id, parse_resource_id};
use crate::domain::reference::{extension, format_of, is_allowed_extension};
use crate::domain::resource::{Resource, StoredFile, guess_mime, normalize_filename};
use crate::domain::time::now;
use crate::error::ApiError;
use crate::files::{FileWriter, WrittenFile};
use crate::store::{DatasetEdit, FileRecord, StoreError, UploadPart};

/// Room for multipart boundaries and headers around a file of the maximum size.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;
/// Limits on the form fields beside the file: how many, how long each.
const MAX_FIELDS: usize = 32;
const MAX_FIELD_LEN: usize = 8 * 1024;
/// Most parts in one chunked upload (at udata's 20 MB a part: 200 GB).
const MAX_PARTS: u64 = 10_000;

/// Reads a text field, refusing one longer than [`MAX_FIELD_LEN`] before buffering it.
async fn read_text(mut field: axum::extract::multipart::Field<'_>) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if buf.len() + chunk.len() > MAX_FIELD_LEN {
            return Err(upload_error("A form field is too long"));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| upload_error("A form field is not valid UTF-8"))
}

/// `totalparts`, bounded.
fn total_parts(fields: &HashMap<String, String>) -> Result<u64, ApiError> {
    let total = numeric(fields, "totalparts")?.unwrap_or(0);
    if total > MAX_PARTS {
        return Err(upload_error(&format!(
            "totalparts must be at most {MAX_PARTS}"
        )));
    }
    Ok(total)
}

/// What the multipart request carried.
enum Received {
    /// A complete file at its final key; `upload` names the chunked upload it was assembled from.
    File {
        file: StoredFile,
        upload: Option<String>,
    },
    /// One part of a chunked upload, stored; the client sends more.
    Part,
}

/// The upload being handled: where, for whom, under which limits.
struct UploadContext<'a> {
    state: &'a AppState,
    base: &'a BaseUrl,
    dataset_id: &'a str,
    user_id: &'a str,
}

fn upload_error(msg: &str) -> ApiError {
    ApiError::Upload(StatusCode::BAD_REQUEST, msg.to_string())
}

fn too_large(max: u64) -> ApiError {
    ApiError::Upload(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("File too large: the limit is {max} bytes"),
    )
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

fn salt() -> String {
    let mut salt = [0u8; 3];
    rand::rng().fill_bytes(&mut salt);
    hex::encode(salt)
}

/// A fresh key for a file of `dataset_id`: never reused, so an older file is never overwritten.
fn new_file_key(dataset_id: &str, filename: &str) -> String {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    format!("resources/{dataset_id}/{stamp}-{}/{filename}", salt())
}

/// A fresh key for a copy of a part (a re-sent part never overwrites one being assembled).
fn new_part_key(uuid: &str, index: u64) -> String {
    format!("chunks/{uuid}/{index}-{}", salt())
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

/// A checksum the client asks the server to verify: `sha1:<hex>` or `sha256:<hex>`.
#[derive(Debug, Clone)]
enum Expected {
    Sha1(String),
    Sha256(String),
}

fn expected_checksum(fields: &HashMap<String, String>) -> Result<Option<Expected>, ApiError> {
    let Some(raw) = fields
        .get("checksum")
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
    else {
        return Ok(None);
    };
    let (kind, value) = raw
        .split_once(':')
        .ok_or_else(|| upload_error("Invalid checksum: expected sha1:<hex> or sha256:<hex>"))?;
    let value = value.trim().to_ascii_lowercase();
    let hex_of = |n: usize| value.len() == n && value.bytes().all(|b| b.is_ascii_hexdigit());
    match kind.trim().to_ascii_lowercase().as_str() {
        "sha1" if hex_of(40) => Ok(Some(Expected::Sha1(value))),
        "sha256" if hex_of(64) => Ok(Some(Expected::Sha256(value))),
        _ => Err(upload_error(
            "Invalid checksum: expected sha1:<hex> or sha256:<hex>",
        )),
    }
}

/// `Err` when the written file does not match what the client announced.
fn verify(expected: &Option<Expected>, written: &WrittenFile) -> Result<(), ApiError> {
    let (name, want, got) = match expected {
        None => return Ok(()),
        Some(Expected::Sha1(v)) => ("sha1", v, Some(&written.sha1)),
        Some(Expected::Sha256(v)) => ("sha256", v, written.sha256.as_ref()),
    };
    if got == Some(want) {
        Ok(())
    } else {
        let got = got.map_or("?", String::as_str);
        Err(upload_error(&format!(
            "Checksum mismatch: expected {name}:{want}, got {name}:{got}"
        )))
    }
}

impl UploadContext<'_> {
    /// Starts an object at `key`, marked pending first.
    async fn writer(&self, key: &str, sha256: bool) -> Result<FileWriter, ApiError> {
        self.state.store.insert_pending_file(key, &now()).await?;
        let writer = self.state.files.writer(key).await?;
        Ok(if sha256 { writer.with_sha256() } else { writer })
    }

    /// Removes an object that will not be recorded, and its pending mark.
    async fn discard(&self, key: &str) -> Result<(), ApiError> {
        self.state.files.delete(key).await?;
        self.state.store.delete_pending_file(key).await?;
        Ok(())
    }

    /// Streams a multipart field into a new object, enforcing the size limit as bytes arrive.
    async fn write_field(
        &self,
        key: &str,
        mut field: axum::extract::multipart::Field<'_>,
        sha256: bool,
    ) -> Result<WrittenFile, ApiError> {
        let max = self.state.config.max_upload_size;
        let mut writer = self.writer(key, sha256).await?;
        let failure = loop {
            match field.chunk().await {
                Ok(Some(bytes)) => {
                    if let Some(max) = max
                        && writer.size() + bytes.len() as u64 > max
                    {
                        break too_large(max);
                    }
                    if let Err(e) = writer.write(bytes).await {
                        break e.into();
                    }
                }
                Ok(None) => match writer.finish().await {
                    Ok(written) => return Ok(written),
                    Err(e) => {
                        self.discard(key).await?;
                        return Err(e.into());
                    }
                },
                Err(e) => break multipart_error(e),
            }
        };
        writer.abort().await;
        self.state.store.delete_pending_file(key).await?;
        Err(failure)
    }

    /// Reads the multipart request: stores a single file, stores a part, or assembles the parts.
    async fn receive(&self, mut multipart: Multipart) -> Result<Received, ApiError> {
        let mut fields: HashMap<String, String> = HashMap::new();
        let mut stored: Option<Received> = None;
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or("").to_string();
            if name != "file" {
                if fields.len() >= MAX_FIELDS {
                    return Err(upload_error("Too many form fields"));
                }
                let text = read_text(field).await?;
                fields.insert(name, text);
                continue;
            }
            if stored.is_some() {
                return Err(upload_error("Only one file per request"));
            }
            let chunked = numeric(&fields, "totalparts")?.is_some_and(|n| n > 1);
            stored = Some(if chunked {
                self.receive_part(&fields, field).await?
            } else {
                self.receive_file(&fields, field).await?
            });
        }
        if numeric(&fields, "totalparts")?.is_some_and(|n| n > 1) {
            return match stored {
                Some(Received::File { file, .. }) => {
                    self.discard(&file.key).await?;
                    Err(upload_error(
                        "The chunk fields (uuid, partindex, totalparts) must come before the file",
                    ))
                }
                Some(part) => Ok(part),
                None => self.assemble(&fields).await,
            };
        }
        stored.ok_or_else(|| upload_error("Missing file parameter"))
    }

    async fn receive_file(
        &self,
        fields: &HashMap<String, String>,
        field: axum::extract::multipart::Field<'_>,
    ) -> Result<Received, ApiError> {
        let filename = normalize_filename(field.file_name().unwrap_or(""));
        check_filename(self.base, &filename)?;
        let expected = expected_checksum(fields)?;
        let key = new_file_key(self.dataset_id, &filename);
        let written = self
            .write_field(&key, field, matches!(expected, Some(Expected::Sha256(_))))
            .await?;
        if let Err(e) = verify(&expected, &written) {
            self.discard(&key).await?;
            return Err(e);
        }
        Ok(Received::File {
            file: stored_file(key, filename, &written),
            upload: None,
        })
    }

    async fn receive_part(
        &self,
        fields: &HashMap<String, String>,
        field: axum::extract::multipart::Field<'_>,
    ) -> Result<Received, ApiError> {
        let uuid = fields.get("uuid").cloned().unwrap_or_default();
        check_uuid(&uuid)?;
        let total = total_parts(fields)?;
        let index =
            numeric(fields, "partindex")?.ok_or_else(|| upload_error("Missing partindex"))?;
        if index >= total {
            return Err(upload_error(&format!(
                "partindex {index} is out of range (totalparts {total})"
            )));
        }
        let key = new_part_key(&uuid, index);
        let written = self.write_field(&key, field, false).await?;
        if let Some(expected) = numeric(fields, "chunksize")?
            && expected != written.size
        {
            self.discard(&key).await?;
            return Err(upload_error("Chunk size mismatch"));
        }
        let part = UploadPart {
            uuid,
            index: index as i64,
            dataset_id: self.dataset_id.to_string(),
            user_id: self.user_id.to_string(),
            key: key.clone(),
            size: written.size as i64,
            sha1: written.sha1,
            updated_at: now(),
        };
        match self.state.store.record_upload_part(&part).await {
            Ok(Some(old)) => self.state.files.delete(&old).await?,
            Ok(None) => {}
            Err(StoreError::Conflict(_)) => {
                self.discard(&key).await?;
                return Err(upload_error("This upload uuid belongs to another upload"));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Received::Part)
    }

    /// The parts of `uuid` sent by this user for this dataset.
    async fn parts(&self, uuid: &str) -> Result<Vec<UploadPart>, ApiError> {
        let parts = self.state.store.list_upload_parts(uuid).await?;
        Ok(parts
            .into_iter()
            .filter(|p| p.dataset_id == self.dataset_id && p.user_id == self.user_id)
            .collect())
    }

    /// The final request of a chunked upload: concatenates parts `0..totalparts` into the file.
    /// On any failure the parts are kept so that the client can retry.
    async fn assemble(&self, fields: &HashMap<String, String>) -> Result<Received, ApiError> {
        let uuid = fields.get("uuid").cloned().unwrap_or_default();
        check_uuid(&uuid)?;
        let total = total_parts(fields)?;
        let filename = normalize_filename(fields.get("filename").map(String::as_str).unwrap_or(""));
        check_filename(self.base, &filename)?;
        let expected = expected_checksum(fields)?;
        let parts = self.parts(&uuid).await?;
        if parts.is_empty() {
            return Err(upload_error(&format!("Unknown upload uuid {uuid}")));
        }
        let missing: Vec<String> = (0..total as i64)
            .filter(|i| !parts.iter().any(|p| p.index == *i))
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            let shown = missing
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if missing.len() > 20 {
                format!(" and {} more", missing.len() - 20)
            } else {
                String::new()
            };
            return Err(upload_error(&format!(
                "Missing part(s) {shown}{more} of upload {uuid}"
            )));
        }
        let parts: Vec<&UploadPart> = parts.iter().filter(|p| (p.index as u64) < total).collect();
        if let Some(max) = self.state.config.max_upload_size
            && parts.iter().map(|p| p.size as u64).sum::<u64>() > max
        {
            return Err(too_large(max));
        }
        let key = new_file_key(self.dataset_id, &filename);
        let mut writer = self
            .writer(&key, matches!(expected, Some(Expected::Sha256(_))))
            .await?;
        let keys: Vec<String> = parts.iter().map(|p| p.key.clone()).collect();
        if let Err(e) = copy_into(self.state, keys, &mut writer).await {
            writer.abort().await;
            self.state.store.delete_pending_file(&key).await?;
            return Err(e);
        }
        let written = match writer.finish().await {
            Ok(w) => w,
            Err(e) => {
                self.discard(&key).await?;
                return Err(e.into());
            }
        };
        if let Err(e) = verify(&expected, &written) {
            self.discard(&key).await?;
            return Err(e);
        }
        Ok(Received::File {
            file: stored_file(key, filename, &written),
            upload: Some(uuid),
        })
    }
}

/// Concatenates the objects at `keys` into `writer`. A reader task fetches ahead (a few MiB, bounded)
/// so that reading the next bytes overlaps writing and hashing the previous ones.
async fn copy_into(
    state: &AppState,
    keys: Vec<String>,
    writer: &mut FileWriter,
) -> Result<(), ApiError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, ApiError>>(8);
    let files = state.files.clone();
    let reader = tokio::spawn(async move {
        for key in keys {
            let mut body = match files.read(&key, None).await {
                Ok(body) => body,
                Err(e) => {
                    let _ = tx.send(Err(anyhow::Error::from(e).into())).await;
                    return;
                }
            };
            while let Some(bytes) = body.stream.next().await {
                let item = bytes.map_err(|e| ApiError::from(anyhow::Error::from(e)));
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    return;
                }
            }
        }
    });
    while let Some(bytes) = rx.recv().await {
        if let Err(e) = async { writer.write(bytes?).await.map_err(ApiError::from) }.await {
            reader.abort();
            return Err(e);
        }
    }
    reader
        .await
        .map_err(|e| ApiError::from(anyhow::Error::from(e)))?;
    Ok(())
}

fn stored_file(key: String, filename: String, written: &WrittenFile) -> StoredFile {
    StoredFile {
        mime: guess_mime(&filename),
        format: format_of(&filename),
        key,
        filename,
        sha1: written.sha1.clone(),
        size: written.size as i64,
    }
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

fn part_accepted() -> Response {
    axum::Json(json!({"success": true, "error": null})).into_response()
}

/// 413 before reading anything when the request announces more than the limit allows.
fn check_length(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match (state.config.max_upload_size, length) {
        (Some(max), Some(len)) if len > max.saturating_add(MULTIPART_OVERHEAD) => {
            Err(too_large(max))
        }
        _ => Ok(()),
    }
}

/// Receives the request, then records the file with `record` (in the dataset's transaction).
/// Whatever fails after the file is stored, the file is removed; once recorded, the parts it was
/// assembled from are deleted.
async fn receive_and_record(
    state: &AppState,
    base: &BaseUrl,
    who: &Identity,
    dataset_id: &str,
    multipart: Multipart,
    record: impl FnOnce(&mut DatasetEdit, &StoredFile) -> Result<Resource, ApiError>,
) -> Result<Option<Resource>, ApiError> {
    let ctx = UploadContext {
        state,
        base,
        dataset_id,
        user_id: &who.user.id,
    };
    let (file, upload) = match ctx.receive(multipart).await? {
        Received::Part => return Ok(None),
        Received::File { file, upload } => (file, upload),
    };
    let result = state
        .store
        .edit_dataset(dataset_id, |edit| record(edit, &file))
        .await;
    match result {
        Ok((resource, _)) => {
            if let Some(uuid) = upload {
                for key in state.store.delete_upload(&uuid).await? {
                    state.files.delete(&key).await?;
                }
            }
            Ok(Some(resource))
        }
        Err(e) => {
            ctx.discard(&file.key).await?;
            Err(e)
        }
    }
}

fn upload_response(status: StatusCode, base: &BaseUrl, r: &Resource) -> Response {
    let mut body = resource_json(base, r);
    body.success = Some(true);
    (status, axum::Json(body)).into_response()
}

/// `POST /datasets/{id}/upload/`: a new resource from a file, first in the dataset.
pub async fn upload_new_resource(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    headers: HeaderMap,
    Path(key): Path<String>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    check_length(&state, &headers)?;
    let row = find_for_write(&state, &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let dataset_id = row.dataset.id.clone();
    let resource = receive_and_record(&state, &base, &who, &dataset_id, multipart, |edit, file| {
        let now = now();
        let mut r = Resource::blank(new_resource_id(), now);
        r.kind = "main".into();
        r.set_file(file, now);
        edit.resources.insert(0, r.clone());
        edit.new_files
            .push(file_record(file, &r.id, &dataset_id, now));
        edit.dataset.last_modified = now;
        Ok(r)
    })
    .await?;
    Ok(match resource {
        Some(r) => upload_response(StatusCode::CREATED, &base, &r),
        None => part_accepted(),
    })
}

/// `POST /datasets/{id}/resources/{rid}/upload/`: a new file for an existing resource.
/// The previous file stays stored and served at its URL; the resource (and `latest`) move to the new one.
pub async fn replace_resource_file(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    headers: HeaderMap,
    Path((key, rid)): Path<(String, String)>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    check_length(&state, &headers)?;
    let row = find_for_write(&state, &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let rid = parse_resource_id(&rid).ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
    if !state
        .store
        .list_resources(&row.dataset.id)
        .await?
        .iter()
        .any(|r| r.id == rid)
    {
        return Err(ApiError::NotFound(MISSING_RESOURCE.into()));
    }
    let dataset_id = row.dataset.id.clone();
    let resource = receive_and_record(&state, &base, &who, &dataset_id, multipart, |edit, file| {
        let now = now();
        let r = edit
            .resources
            .iter_mut()
            .find(|r| r.id == rid)
            .ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
        r.set_file(file, now);
        let r = r.clone();
        edit.new_files
            .push(file_record(file, &rid, &dataset_id, now));
        edit.dataset.last_modified = now;
        Ok(r)
    })
    .await?;
    Ok(match resource {
        Some(r) => upload_response(StatusCode::OK, &base, &r),
        None => part_accepted(),
    })
}

/// `GET /datasets/{id}/upload/{uuid}/` (rudata extension): the parts of a chunked upload received so
/// far, so that a client that crashed sends only the missing ones.
pub async fn get_upload(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    Path((key, uuid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = find_for_write(&state, &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    check_uuid(&uuid).map_err(|_| ApiError::not_found())?;
    let ctx = UploadContext {
        state: &state,
        base: &base,
        dataset_id: &row.dataset.id,
        user_id: &who.user.id,
    };
    let parts = ctx.parts(&uuid).await?;
    let list: Vec<Value> = parts
        .iter()
        .map(|p| json!({"index": p.index, "size": p.size, "sha1": p.sha1}))
        .collect();
    Ok(axum::Json(json!({
        "uuid": uuid,
        "parts": list,
        "received_bytes": parts.iter().map(|p| p.size).sum::<i64>(),
    }))
    .into_response())
}
