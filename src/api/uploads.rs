//! File uploads on `POST /datasets/{id}/upload/` (new resource) and `.../resources/{rid}/upload/`
//! (replace): a single multipart request, or udata's chunked protocol (parts carrying `uuid`,
//! `partindex`, `totalparts`, `chunksize`, then a final request without `file`), plus
//! `GET /datasets/{id}/upload/{uuid}/` to resume an interrupted chunked upload (a rudata extension).
//!
//! The handlers parse the multipart form and check its fields; storing, assembling and recording the
//! file are operations (`ops::uploads`).

use std::collections::HashMap;

use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

use super::resources::resource_json;
use super::{BaseUrl, Counts, lookup};
use crate::auth::{AuthUser, require_edit};
use crate::domain::permissions::Identity;
use crate::domain::reference::{extension, is_allowed_extension};
use crate::domain::resource::{Resource, guess_mime, normalize_filename};
use crate::error::ApiError;
use crate::ops::uploads::{
    Expected, PartInput, Target, Unsorted, Uploader, too_large, upload_error,
};
use crate::state::AppState;

/// Room for multipart boundaries and headers around a file of the maximum size.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;
/// Limits on the form fields beside the file: how many, how long each.
const MAX_FIELDS: usize = 32;
const MAX_FIELD_LEN: usize = 8 * 1024;
/// Most parts in one chunked upload (at udata's 20 MB a part: 200 GB).
const MAX_PARTS: u64 = 10_000;

/// Reads a text field, refusing one longer than [`MAX_FIELD_LEN`] before buffering it.
async fn read_text(mut field: Field<'_>) -> Result<String, ApiError> {
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

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    upload_error(&format!("Invalid multipart request: {e}"))
}

/// The multipart body of an upload; a request that is not one (no boundary, another content type)
/// is refused in the upload status shape, as every other malformed upload.
pub struct UploadForm(Multipart);

impl<S: Send + Sync> FromRequest<S> for UploadForm {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Multipart::from_request(req, state)
            .await
            .map(UploadForm)
            .map_err(|e| upload_error(&format!("Invalid multipart request: {}", e.body_text())))
    }
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

/// What the multipart request carried.
enum Received {
    /// A complete file at its final key; `upload` names the chunked upload it was assembled from.
    File {
        file: crate::domain::resource::StoredFile,
        upload: Option<String>,
    },
    /// One part of a chunked upload, stored; the client sends more.
    Part,
}

/// A form field's bytes as the operations read them.
fn bytes_of(
    field: Field<'_>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, ApiError>> + Send + '_ {
    field.map_err(multipart_error)
}

/// The form as read: its text fields, and what became of its file.
struct Form {
    fields: HashMap<String, String>,
    stored: Option<Received>,
}

/// Reads the multipart request: stores a single file, stores a part, or assembles the parts. The
/// fields may come in any order, as udata reads the whole form before looking at them: a file sent
/// before the fields that say what it is is stored once and sorted when the form ends.
async fn receive(
    up: &Uploader<'_>,
    base: &BaseUrl,
    multipart: Multipart,
) -> Result<Received, ApiError> {
    let mut unsorted = None;
    let form = read_form(up, multipart, &mut unsorted).await;
    let Some(file) = unsorted else {
        let form = form?;
        return finish(up, base, form.fields, form.stored).await;
    };
    let sorted = match form {
        Ok(form) => sort(base, &form.fields, &file.filename),
        Err(e) => Err(e),
    };
    match sorted {
        Ok(Sorted::Part(part)) => up.sort_as_part(file, &part).await.map(|()| Received::Part),
        Ok(Sorted::File(expected)) => Ok(Received::File {
            file: up.sort_as_file(file, expected).await?,
            upload: None,
        }),
        Err(e) => {
            up.discard(&file.key).await?;
            Err(e)
        }
    }
}

/// Reads every field; stores the file as a part or an unsorted file, by what came before it.
async fn read_form(
    up: &Uploader<'_>,
    mut multipart: Multipart,
    unsorted: &mut Option<Unsorted>,
) -> Result<Form, ApiError> {
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
        if stored.is_some() || unsorted.is_some() {
            return Err(upload_error("Only one file per request"));
        }
        if numeric(&fields, "totalparts")?.is_some_and(|n| n > 1) {
            let part = part_input(&fields)?;
            up.store_part(&part, bytes_of(field)).await?;
            stored = Some(Received::Part);
        } else {
            // A whole file, or a part whose fields follow: which one is known at the form's end.
            let filename = normalize_filename(field.file_name().unwrap_or(""));
            let sha256 = matches!(expected_checksum(&fields), Ok(Some(Expected::Sha256(_))));
            *unsorted = Some(up.store_unsorted(filename, bytes_of(field), sha256).await?);
        }
    }
    Ok(Form { fields, stored })
}

/// What an unsorted file turned out to be, by the whole form's fields.
enum Sorted {
    Part(PartInput),
    /// A whole file, with the checksum asked for.
    File(Option<Expected>),
}

fn sort(
    base: &BaseUrl,
    fields: &HashMap<String, String>,
    filename: &str,
) -> Result<Sorted, ApiError> {
    if numeric(fields, "totalparts")?.is_some_and(|n| n > 1) {
        return part_input(fields).map(Sorted::Part);
    }
    check_filename(base, filename)?;
    Ok(Sorted::File(expected_checksum(fields)?))
}

/// After a form whose file was stored as it came (or that had none): the part or file as stored, or
/// the final request of a chunked upload, which assembles the parts.
async fn finish(
    up: &Uploader<'_>,
    base: &BaseUrl,
    fields: HashMap<String, String>,
    stored: Option<Received>,
) -> Result<Received, ApiError> {
    if let Some(received) = stored {
        return Ok(received);
    }
    if numeric(&fields, "totalparts")?.is_none_or(|n| n <= 1) {
        return Err(upload_error("Missing file parameter"));
    }
    let uuid = fields.get("uuid").cloned().unwrap_or_default();
    check_uuid(&uuid)?;
    let total = total_parts(&fields)?;
    let filename = normalize_filename(fields.get("filename").map(String::as_str).unwrap_or(""));
    check_filename(base, &filename)?;
    let expected = expected_checksum(&fields)?;
    let file = up.assemble(&uuid, total, filename, expected).await?;
    Ok(Received::File {
        file,
        upload: Some(uuid),
    })
}

/// The chunk fields of a part: `uuid`, `partindex` (below `totalparts`), `chunksize`.
fn part_input(fields: &HashMap<String, String>) -> Result<PartInput, ApiError> {
    let uuid = fields.get("uuid").cloned().unwrap_or_default();
    check_uuid(&uuid)?;
    let total = total_parts(fields)?;
    let index = numeric(fields, "partindex")?.ok_or_else(|| upload_error("Missing partindex"))?;
    if index >= total {
        return Err(upload_error(&format!(
            "partindex {index} is out of range (totalparts {total})"
        )));
    }
    Ok(PartInput {
        uuid,
        index,
        size: numeric(fields, "chunksize")?,
        total,
        filename: fields
            .get("filename")
            .map(|f| normalize_filename(f))
            .filter(|f| !f.is_empty()),
    })
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

/// Receives the request, then records a complete file as `target`.
async fn receive_and_record(
    state: &AppState,
    base: &BaseUrl,
    who: &Identity,
    dataset_id: &str,
    multipart: Multipart,
    target: Target<'_>,
) -> Result<Option<Resource>, ApiError> {
    let actor = who.actor();
    let up = Uploader {
        state,
        dataset_id,
        user_id: &who.user.id,
        actor: &actor,
    };
    match receive(&up, base, multipart).await? {
        Received::Part => Ok(None),
        Received::File { file, upload } => {
            Ok(Some(up.record(target, &file, upload.as_deref()).await?))
        }
    }
}

fn upload_response(status: StatusCode, base: &BaseUrl, r: &Resource, counts: &Counts) -> Response {
    let mut body = resource_json(base, r, counts);
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
    UploadForm(multipart): UploadForm,
) -> Result<Response, ApiError> {
    check_length(&state, &headers)?;
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let target = Target::NewResource;
    let resource =
        receive_and_record(&state, &base, &who, &row.dataset.id, multipart, target).await?;
    Ok(match resource {
        // A new resource: nothing counted yet.
        Some(r) => upload_response(StatusCode::CREATED, &base, &r, &Counts::default()),
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
    UploadForm(multipart): UploadForm,
) -> Result<Response, ApiError> {
    check_length(&state, &headers)?;
    let (row, r) = lookup::resource_for_write(&state, Some(&who), &key, &rid, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    let target = Target::Replace(&r.id);
    let resource =
        receive_and_record(&state, &base, &who, &row.dataset.id, multipart, target).await?;
    Ok(match resource {
        Some(r) => {
            let counts = Counts::of_resources(&state, std::slice::from_ref(&r)).await?;
            upload_response(StatusCode::OK, &base, &r, &counts)
        }
        None => part_accepted(),
    })
}

/// `GET /datasets/{id}/upload/{uuid}/` (rudata extension): the parts of a chunked upload received so
/// far, so that a client that crashed sends only the missing ones.
pub async fn get_upload(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    Path((key, uuid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    require_edit(&state, &who, &row.dataset).await?;
    check_uuid(&uuid).map_err(|_| ApiError::not_found())?;
    let actor = who.actor();
    let up = Uploader {
        state: &state,
        dataset_id: &row.dataset.id,
        user_id: &who.user.id,
        actor: &actor,
    };
    let parts = up.parts(&uuid).await?;
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
