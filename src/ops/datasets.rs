//! Dataset operations: create, update (with restore and archive through udata's fields), soft delete,
//! restore.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{DatasetWritten, form_url, host_refusal};
use crate::domain::activity::{Actor, NewActivity, changed_fields};
use crate::domain::dataset::{Dataset, DatasetRequests, apply_dataset_input, last_update};
use crate::domain::ids::{is_object_id, new_object_id, new_resource_id, parse_resource_id};
use crate::domain::input::{InputError, push_error};
use crate::domain::organization::{Organization, Role};
use crate::domain::permissions::{Identity, may_publish_in};
use crate::domain::resource::{Resource, apply_resource_input};
use crate::domain::time::now;
use crate::error::ApiError;
use crate::hosts::Verdicts;
use crate::state::AppState;
use crate::store::{DatasetRow, Lookup, Position, WriteTx};

pub const DELETED_MESSAGE: &str = "Dataset has been deleted";
const TRANSFER: &str = "Cannot change owner after creation. Please use transfer feature.";

/// A dataset body as udata's forms read it: keys absent keep their values on update.
pub type DatasetForm = Map<String, Value>;

/// Creates a dataset for `who` from a form (with its inline resources): the dataset, its resources,
/// and a partial editor's assignment to it, in one transaction.
pub async fn create_dataset(
    state: &AppState,
    who: &Identity,
    form: &DatasetForm,
) -> Result<DatasetWritten, ApiError> {
    // A token that may write nowhere (`read`) is refused before the form is read.
    if !who.may_write_anything() {
        return Err(ApiError::Forbidden);
    }
    let now = now();
    let mut ds = Dataset::blank(new_object_id(), now);
    let requests = apply_dataset_input(&mut ds, form, true)?;
    let mut assign_to = None;
    match requests.organization.flatten() {
        Some(key) => {
            let org = resolve_organization(state, who, &key)
                .await?
                .map_err(|msg| field_error("organization", msg))?;
            if who.role_in(&org.id) == Some(Role::PartialEditor) {
                // A partial editor keeps the right to edit what they create.
                assign_to = Some(org.id.clone());
            }
            ds.organization_id = Some(org.id);
        }
        None => {
            // Outside any organization the dataset is the account's: only an `admin` token.
            if !who.may_write_account() {
                return Err(ApiError::Forbidden);
            }
            if let Some(Some(owner)) = &requests.owner
                && *owner != who.user.id
                && !who.is_sysadmin()
            {
                return Err(field_error("owner", "You can only set yourself as owner"));
            }
            ds.owner_id = Some(
                requests
                    .owner
                    .flatten()
                    .unwrap_or_else(|| who.user.id.clone()),
            );
        }
    }
    let entries = requests.resources.as_deref().unwrap_or_default();
    let verdicts = state
        .hosts
        .resolve(
            entries.iter().filter_map(form_url),
            &state.config.checks.allow_networks,
        )
        .await;
    let resources = new_resources(entries, now, &verdicts)?;
    let last_update = last_update(&ds, &resources);
    let mut tx = state.store.begin().await?;
    tx.insert_dataset(&mut ds, last_update).await?;
    for (i, r) in resources.iter().enumerate() {
        tx.insert_resource(&ds.id, r, Position::At(i as i64))
            .await?;
    }
    if let Some(org_id) = assign_to {
        tx.assign_dataset(&org_id, &who.user.id, &ds.id).await?;
    }
    tx.record(&who.actor(), &NewActivity::dataset("dataset:created", &ds))
        .await?;
    tx.commit().await?;
    Ok(DatasetWritten {
        row: DatasetRow {
            dataset: ds,
            last_update,
        },
        resources,
    })
}

/// Applies an update form to dataset `id` (its `deleted: null` restores it). Resources are read and
/// written only when the form carries a `resources` list.
pub async fn update_dataset(
    state: &AppState,
    who: &Identity,
    id: &str,
    form: &DatasetForm,
) -> Result<DatasetWritten, ApiError> {
    // The organization asked for is resolved before the dataset is locked (it reads the store).
    let wanted_org = match form.get("organization") {
        Some(v) if !v.is_null() => {
            let key = v
                .as_str()
                .or_else(|| v.get("id").and_then(Value::as_str))
                .unwrap_or("");
            Some(resolve_organization(state, who, key).await?)
        }
        _ => None,
    };
    let urls = match form.get("resources") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|e| e.as_object().and_then(form_url))
            .collect(),
        _ => Vec::new(),
    };
    let verdicts = state
        .hosts
        .resolve(urls, &state.config.checks.allow_networks)
        .await;
    let now = now();
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, id).await?;
    if before.deleted.is_some() && form.get("deleted") != Some(&Value::Null) {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    let mut ds = before.clone();
    let requests = apply_dataset_input(&mut ds, form, false)?;
    apply_ownership_change(&mut ds, &before, &requests, wanted_org, who.is_sysadmin())?;
    let mut resources = None;
    if let Some(entries) = &requests.resources {
        let current = tx.list_resources(id).await?;
        let list = replace_resources(&current, entries, now, &verdicts)?;
        tx.replace_resources(id, &list).await?;
        resources = Some(list);
    }
    // `deleted` may be set through a PUT (as in udata), but its date is the server's: a client date
    // in the past would skip the grace period, one in the future would keep the dataset hidden yet
    // out of the purge's reach.
    if ds.deleted.is_some() {
        ds.deleted = before.deleted.or(Some(now));
    }
    ds.last_modified = now;
    let last_update = tx.update_dataset(&before, &mut ds).await?;
    let mut changes = changed_fields(&before, &ds);
    if resources.is_some() {
        changes.push("resources".into());
    }
    // A `deleted` date set through a PUT is a deletion, as `DELETE` is.
    let key = if before.deleted.is_none() && ds.deleted.is_some() {
        "dataset:deleted"
    } else {
        "dataset:updated"
    };
    tx.record(
        &who.actor(),
        &NewActivity::dataset(key, &ds).with_changes(changes),
    )
    .await?;
    tx.commit().await?;
    let resources = match resources {
        Some(list) => list,
        None => state.store.list_resources(id).await?,
    };
    Ok(DatasetWritten {
        row: DatasetRow {
            dataset: ds,
            last_update,
        },
        resources,
    })
}

/// Soft-deletes dataset `id` (purged at the next cut-off; see `jobs::purge`).
pub async fn delete_dataset(state: &AppState, actor: &Actor, id: &str) -> Result<(), ApiError> {
    set_deleted(state, actor, id, true).await
}

/// Brings back a soft-deleted dataset, until it is purged.
pub async fn restore_dataset(state: &AppState, actor: &Actor, id: &str) -> Result<(), ApiError> {
    set_deleted(state, actor, id, false).await
}

async fn set_deleted(
    state: &AppState,
    actor: &Actor,
    id: &str,
    deleted: bool,
) -> Result<(), ApiError> {
    let now = now();
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, id).await?;
    if before.deleted.is_some() == deleted {
        return Err(if deleted {
            ApiError::Gone(DELETED_MESSAGE.into())
        } else {
            ApiError::BadRequest("Dataset is not deleted".into())
        });
    }
    let mut ds = before.clone();
    ds.deleted = deleted.then_some(now);
    ds.last_modified = now;
    tx.update_dataset(&before, &mut ds).await?;
    // A restore is an update of `deleted`, as udata records a `PUT` with `deleted: null`.
    let activity = if deleted {
        NewActivity::dataset("dataset:deleted", &ds)
    } else {
        NewActivity::dataset("dataset:updated", &ds).with_changes(vec!["deleted".into()])
    };
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(())
}

/// Archives (or un-archives) dataset `id`: an archived dataset leaves the public lists but stays
/// readable at its URL, as in udata.
pub async fn archive_dataset(
    state: &AppState,
    actor: &Actor,
    id: &str,
    archived: bool,
) -> Result<(), ApiError> {
    let now = now();
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, id).await?;
    let mut ds = before.clone();
    ds.archived = if archived {
        before.archived.or(Some(now))
    } else {
        None
    };
    ds.last_modified = now;
    tx.update_dataset(&before, &mut ds).await?;
    record_update(&mut tx, actor, &before, &ds).await?;
    tx.commit().await?;
    Ok(())
}

/// Features (or un-features) dataset `id`: a sysadmin's choice, which lists can filter on.
pub async fn set_featured(
    state: &AppState,
    actor: &Actor,
    id: &str,
    featured: bool,
) -> Result<(), ApiError> {
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, id).await?;
    let mut ds = before.clone();
    ds.featured = featured;
    tx.update_dataset(&before, &mut ds).await?;
    record_update(&mut tx, actor, &before, &ds).await?;
    tx.commit().await?;
    Ok(())
}

/// Records `dataset:updated` with the fields that differ between `before` and `after`.
async fn record_update(
    tx: &mut WriteTx,
    actor: &Actor,
    before: &Dataset,
    after: &Dataset,
) -> Result<(), ApiError> {
    let activity =
        NewActivity::dataset("dataset:updated", after).with_changes(changed_fields(before, after));
    tx.record(actor, &activity).await?;
    Ok(())
}

/// Locks dataset `id` for the transaction (404 when it does not exist).
pub(super) async fn lock(tx: &mut WriteTx, id: &str) -> Result<Dataset, ApiError> {
    tx.lock_dataset(id).await?.ok_or_else(ApiError::not_found)
}

/// Resolves the `organization` a form asks for: it must exist and the caller must belong to it.
async fn resolve_organization(
    state: &AppState,
    who: &Identity,
    key: &str,
) -> Result<Result<Organization, &'static str>, ApiError> {
    if !is_object_id(key) {
        return Ok(Err("Unsupported identifier"));
    }
    let org = match state.store.find_organization(key).await? {
        Lookup::Found(o) if o.deleted.is_none() => o,
        _ => return Ok(Err("Organization does not exists")),
    };
    if may_publish_in(who, &org.id) {
        Ok(Ok(org))
    } else if who.is_sysadmin() || who.role_in(&org.id).is_some() {
        // The user may publish there, but not through this token (its scope): as any write outside
        // a token's scope, 403.
        Err(ApiError::Forbidden)
    } else {
        Ok(Err("Permission denied for this organization"))
    }
}

pub(super) fn field_error(field: &str, msg: &str) -> ApiError {
    let mut errors = Map::new();
    push_error(&mut errors, field, msg);
    ApiError::Invalid(errors)
}

/// Builds the resources given inline on creation (client ids are ignored).
fn new_resources(
    entries: &[Map<String, Value>],
    now: DateTime<Utc>,
    verdicts: &Verdicts,
) -> Result<Vec<Resource>, ApiError> {
    let mut out = Vec::new();
    let mut errors: Vec<Value> = Vec::new();
    for entry in entries {
        let mut r = Resource::blank(new_resource_id(), now);
        match apply_resource_input(&mut r, entry, true, verdicts.allowed()) {
            Ok(()) => errors.push(match host_refusal(verdicts, &r, None) {
                Some(msg) => json!({ "url": [msg] }),
                None => json!({}),
            }),
            Err(InputError::Fields(f)) => errors.push(Value::Object(f)),
            Err(InputError::Message(m)) => return Err(ApiError::BadRequest(m)),
        }
        out.push(r);
    }
    resource_errors(errors)?;
    Ok(out)
}

/// udata's per-resource error list, when any entry has errors.
fn resource_errors(errors: Vec<Value>) -> Result<(), ApiError> {
    if errors
        .iter()
        .any(|e| e.as_object().is_some_and(|o| !o.is_empty()))
    {
        let mut all = Map::new();
        all.insert("resources".into(), Value::Array(errors));
        return Err(ApiError::Invalid(all));
    }
    Ok(())
}

/// Applies a PUT form's `resources` list: known ids update their resource (hosted-file fields kept),
/// unknown well-formed ids and entries without id become new resources, the rest are dropped.
fn replace_resources(
    current: &[Resource],
    entries: &[Map<String, Value>],
    now: DateTime<Utc>,
    verdicts: &Verdicts,
) -> Result<Vec<Resource>, ApiError> {
    let mut out = Vec::with_capacity(entries.len());
    let mut errors: Vec<Value> = Vec::new();
    for entry in entries {
        let existing = match entry.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match parse_resource_id(s) {
                Some(id) => current
                    .iter()
                    .find(|r| r.id == id && !out.iter().any(|o: &Resource| o.id == id)),
                None => {
                    errors.push(json!({"id": [format!("'{s}' is not a valid UUID")]}));
                    continue;
                }
            },
            Some(_) => {
                errors.push(json!({"id": ["Not a valid UUID"]}));
                continue;
            }
        };
        let (mut r, creating) = match existing {
            Some(r) => (r.clone(), false),
            None => (Resource::blank(new_resource_id(), now), true),
        };
        // A hosted file's `filetype` is protected like its url and checksum: a stale value sent
        // back in a dataset PUT is ignored, not an error (udata's dataset form drops it).
        let stripped;
        let entry = if !creating && r.is_hosted() && entry.contains_key("filetype") {
            stripped = {
                let mut e = entry.clone();
                e.remove("filetype");
                e
            };
            &stripped
        } else {
            entry
        };
        let url_before = (!creating).then(|| r.url.clone());
        match apply_resource_input(&mut r, entry, creating, verdicts.allowed()) {
            Ok(()) => errors.push(match host_refusal(verdicts, &r, url_before.as_deref()) {
                Some(msg) => json!({ "url": [msg] }),
                None => json!({}),
            }),
            Err(InputError::Fields(f)) => errors.push(Value::Object(f)),
            Err(InputError::Message(m)) => return Err(ApiError::BadRequest(m)),
        }
        out.push(r);
    }
    resource_errors(errors)?;
    Ok(out)
}

/// Owner and organization only change through a sysadmin, except moving a user's own dataset into
/// one of their organizations (as udata allows).
fn apply_ownership_change(
    ds: &mut Dataset,
    before: &Dataset,
    requests: &DatasetRequests,
    wanted_org: Option<Result<Organization, &'static str>>,
    sysadmin: bool,
) -> Result<(), ApiError> {
    if let Some(org) = requests.organization.as_ref() {
        match (org, wanted_org) {
            (None, _) if before.organization_id.is_some() => {
                if !sysadmin {
                    return Err(field_error("organization", TRANSFER));
                }
            }
            (None, _) => {}
            (Some(_), Some(Err(msg))) => return Err(field_error("organization", msg)),
            (Some(_), Some(Ok(o))) if before.organization_id.as_deref() == Some(o.id.as_str()) => {}
            (Some(_), Some(Ok(o))) => {
                if before.organization_id.is_some() && !sysadmin {
                    return Err(field_error("organization", TRANSFER));
                }
                ds.organization_id = Some(o.id);
                ds.owner_id = None;
            }
            (Some(_), None) => {}
        }
    }
    if let Some(Some(owner)) = &requests.owner
        && before.owner_id.as_deref() != Some(owner.as_str())
    {
        if !sysadmin {
            return Err(field_error("owner", TRANSFER));
        }
        ds.owner_id = Some(owner.clone());
        ds.organization_id = None;
    }
    Ok(())
}
