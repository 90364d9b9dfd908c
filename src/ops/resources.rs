//! Resource operations: a remote resource, a metadata update (udata's "the remote file changed"
//! signal), a reorder, a delete; and recording an uploaded file as a new resource or as a resource's
//! new file. Each touches the resource's own row and the dataset row, whatever the dataset's size
//! (the reorder excepted: it takes the whole list by definition).

use serde_json::{Map, Value};

use super::datasets::{field_error, lock};
use super::uploads::unknown_upload;
use super::{form_url, host_refusal};
use crate::domain::activity::{Actor, NewActivity, changed_fields};
use crate::domain::ids::{new_resource_id, parse_resource_id};
use crate::domain::resource::{FILETYPE_REMOTE, Resource, StoredFile, apply_resource_input};
use crate::domain::time::now;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{FileRecord, Position, WriteTx};

pub const MISSING_RESOURCE: &str = "Resource does not exist";

/// A resource body as udata's forms read it: keys absent keep their values on update.
pub type ResourceForm = Map<String, Value>;

/// How a reorder names each resource: its id, and optionally field changes to apply on the way.
pub type OrderEntry = (String, Option<ResourceForm>);

fn missing() -> ApiError {
    ApiError::NotFound(MISSING_RESOURCE.into())
}

/// Adds a remote resource (the form's `filetype` must be `remote`) first in dataset `dataset_id`.
pub async fn add_remote_resource(
    state: &AppState,
    actor: &Actor,
    dataset_id: &str,
    form: &ResourceForm,
) -> Result<Resource, ApiError> {
    if form.get("filetype").and_then(Value::as_str) != Some(FILETYPE_REMOTE) {
        return Err(ApiError::BadRequest(
            "This endpoint only supports remote resources".into(),
        ));
    }
    let verdicts = state
        .hosts
        .resolve(form_url(form), &state.config.checks.allow_networks)
        .await;
    let now = now();
    let mut r = Resource::blank(new_resource_id(), now);
    apply_resource_input(&mut r, form, true, verdicts.allowed())?;
    if let Some(msg) = host_refusal(&verdicts, &r, None) {
        return Err(field_error("url", &msg));
    }
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, dataset_id).await?;
    tx.insert_resource(dataset_id, &r, Position::First).await?;
    touch_dataset(&mut tx, &before, now).await?;
    tx.record(
        actor,
        &NewActivity::resource("dataset:resource:added", &before, &r),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// Applies a form to resource `rid`. Any update, even an empty one, marks the resource modified now:
/// udata's way for a publisher to signal that a remote file changed.
pub async fn update_resource(
    state: &AppState,
    actor: &Actor,
    dataset_id: &str,
    rid: &str,
    form: &ResourceForm,
) -> Result<Resource, ApiError> {
    let verdicts = state
        .hosts
        .resolve(form_url(form), &state.config.checks.allow_networks)
        .await;
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, dataset_id).await?;
    let mut r = tx
        .find_resource(dataset_id, rid)
        .await?
        .ok_or_else(missing)?;
    let previous = r.clone();
    apply_resource_input(&mut r, form, false, verdicts.allowed())?;
    if let Some(msg) = host_refusal(&verdicts, &r, Some(&previous.url)) {
        return Err(field_error("url", &msg));
    }
    let now = now();
    r.last_modified = now;
    tx.update_resource(dataset_id, &r).await?;
    touch_dataset(&mut tx, &before, now).await?;
    let activity = NewActivity::resource("dataset:resource:updated", &before, &r)
        .with_changes(changed_fields(&previous, &r));
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(r)
}

/// Takes resource `rid` out of its dataset. Its files stay stored, and served at their URLs, until the
/// dataset is purged.
pub async fn delete_resource(
    state: &AppState,
    actor: &Actor,
    dataset_id: &str,
    rid: &str,
) -> Result<(), ApiError> {
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, dataset_id).await?;
    // Read for its title, which the entry keeps (udata's `resource_title`).
    let r = tx
        .find_resource(dataset_id, rid)
        .await?
        .ok_or_else(missing)?;
    if !tx.delete_resource(dataset_id, rid).await? {
        return Err(missing());
    }
    touch_dataset(&mut tx, &before, now()).await?;
    tx.record(
        actor,
        &NewActivity::resource("dataset:resource:deleted", &before, &r),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Puts the dataset's resources in the given order; every resource must appear exactly once.
/// Reordering does not change the dataset's `last_modified` (as in udata).
pub async fn reorder_resources(
    state: &AppState,
    actor: &Actor,
    dataset_id: &str,
    order: &[OrderEntry],
) -> Result<Vec<Resource>, ApiError> {
    let urls = order
        .iter()
        .filter_map(|(_, c)| c.as_ref().and_then(form_url));
    let verdicts = state
        .hosts
        .resolve(urls, &state.config.checks.allow_networks)
        .await;
    let mut tx = state.store.begin().await?;
    let ds = lock(&mut tx, dataset_id).await?;
    let mut current = tx.list_resources(dataset_id).await?;
    let total = current.len();
    if order.len() != total {
        return Err(ApiError::BadRequest(format!(
            "All resources must be reordered, you provided {} out of {total}",
            order.len()
        )));
    }
    let ids: Vec<String> = current.iter().map(|r| format!("'{}'", r.id)).collect();
    let mut reordered = Vec::with_capacity(total);
    for (id, changes) in order {
        let id = parse_resource_id(id).unwrap_or_default();
        let Some(pos) = current.iter().position(|r| r.id == id) else {
            return Err(ApiError::BadRequest(format!(
                "Resource ids must match existing ones in dataset, ie: {{{}}}",
                ids.join(", ")
            )));
        };
        let mut r = current.remove(pos);
        if let Some(changes) = changes {
            let url_before = r.url.clone();
            apply_resource_input(&mut r, changes, false, verdicts.allowed())?;
            if let Some(msg) = host_refusal(&verdicts, &r, Some(&url_before)) {
                return Err(field_error("url", &msg));
            }
        }
        reordered.push(r);
    }
    tx.replace_resources(dataset_id, &reordered).await?;
    let activity =
        NewActivity::dataset("dataset:updated", &ds).with_changes(vec!["resources".into()]);
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(reordered)
}

/// Records a stored file as a new resource, first in the dataset.
pub async fn add_uploaded_resource(
    state: &AppState,
    actor: &Actor,
    dataset_id: &str,
    file: &StoredFile,
    upload: Option<UploadClaim<'_>>,
) -> Result<(Resource, Vec<String>), ApiError> {
    let now = now();
    let mut r = Resource::blank(new_resource_id(), now);
    r.kind = "main".into();
    r.set_file(file, now);
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, dataset_id).await?;
    let parts = claim(&mut tx, dataset_id, upload).await?;
    tx.insert_resource(dataset_id, &r, Position::First).await?;
    tx.insert_file(&file_record(file, &r.id, dataset_id, now))
        .await?;
    touch_dataset(&mut tx, &before, now).await?;
    tx.record(
        actor,
        &NewActivity::resource("dataset:resource:added", &before, &r),
    )
    .await?;
    tx.commit().await?;
    Ok((r, parts))
}

/// Points resource `rid` at a newly stored file. The previous file stays stored and served at its
/// URL; the resource (and so its `latest` permalink) moves to the new one.
pub async fn replace_resource_file(
    state: &AppState,
    actor: &Actor,
    dataset_id: &str,
    rid: &str,
    file: &StoredFile,
    upload: Option<UploadClaim<'_>>,
) -> Result<(Resource, Vec<String>), ApiError> {
    let now = now();
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, dataset_id).await?;
    let parts = claim(&mut tx, dataset_id, upload).await?;
    let mut r = tx
        .find_resource(dataset_id, rid)
        .await?
        .ok_or_else(missing)?;
    let previous = r.clone();
    r.set_file(file, now);
    tx.update_resource(dataset_id, &r).await?;
    tx.insert_file(&file_record(file, rid, dataset_id, now))
        .await?;
    touch_dataset(&mut tx, &before, now).await?;
    let activity = NewActivity::resource("dataset:resource:updated", &before, &r)
        .with_changes(changed_fields(&previous, &r));
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok((r, parts))
}

/// The chunked upload a file was assembled from.
#[derive(Debug, Clone, Copy)]
pub struct UploadClaim<'a> {
    pub uuid: &'a str,
    pub user_id: &'a str,
}

/// Claims the upload's parts in the recording transaction (their keys, to delete after the commit).
/// A final request that lost the race to another one of the same upload is answered as a final for
/// an unknown uuid, and records nothing.
async fn claim(
    tx: &mut WriteTx,
    dataset_id: &str,
    upload: Option<UploadClaim<'_>>,
) -> Result<Vec<String>, ApiError> {
    let Some(upload) = upload else {
        return Ok(Vec::new());
    };
    let keys = tx
        .claim_upload(upload.uuid, dataset_id, upload.user_id)
        .await?;
    if keys.is_empty() {
        return Err(unknown_upload(upload.uuid));
    }
    Ok(keys)
}

/// The dataset row after one of its resources changed: modified now, `last_update` recomputed.
async fn touch_dataset(
    tx: &mut WriteTx,
    before: &crate::domain::dataset::Dataset,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let mut ds = before.clone();
    ds.last_modified = now;
    tx.update_dataset(before, &mut ds).await?;
    Ok(())
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
