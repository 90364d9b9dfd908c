//! Extras operations (API v2): a merge or a removal of keys in the extras of a dataset, of one
//! resource, or of an organization, each in one transaction.
//!
//! A resource's extras are where the platform's crawler writes its check results, millions of times:
//! the write locks the dataset row (as every resource write does, so that a concurrent reorder or
//! update cannot lose it), then reads and writes that one resource's row. Its cost does not depend on
//! how many resources the dataset has. As in udata, extras changes leave the dates alone (a check
//! result is no change of the data), except an organization's `last_modified`.

use serde_json::{Map, Value};

use super::datasets::{DELETED_MESSAGE, lock};
use super::resources::MISSING_RESOURCE;
use crate::domain::activity::{Actor, NewActivity};
use crate::domain::extras::{
    ExtrasChange, ExtrasOwner, MISSING_KEY_MESSAGE, reserved_keys, reserved_message, validate,
};
use crate::domain::permissions::Identity;
use crate::domain::time::now;
use crate::error::ApiError;
use crate::ops::organizations::DELETED_MESSAGE as ORGANIZATION_DELETED;
use crate::state::AppState;

/// Refuses keys reserved to platform services unless `who` is a sysadmin (udata's rule: the caller
/// is told, never silently ignored).
fn check_reserved(
    owner: ExtrasOwner,
    who: &Identity,
    change: &ExtrasChange,
) -> Result<(), ApiError> {
    if who.is_sysadmin() {
        return Ok(());
    }
    let reserved = reserved_keys(owner, &change.keys());
    if reserved.is_empty() {
        Ok(())
    } else {
        Err(ApiError::BadRequest(reserved_message(&reserved)))
    }
}

/// Applies `change` to `extras` and checks the result as udata does before saving.
fn changed(
    owner: ExtrasOwner,
    id: &str,
    extras: &Map<String, Value>,
    change: &ExtrasChange,
) -> Result<Map<String, Value>, ApiError> {
    let mut next = extras.clone();
    change
        .apply(&mut next, owner == ExtrasOwner::Resource)
        .map_err(|_| ApiError::NotFound(MISSING_KEY_MESSAGE.into()))?;
    validate(owner, &next).map_err(|e| {
        let (errors, message) = e.to_errors(owner, id);
        ApiError::InvalidField(errors, message)
    })?;
    Ok(next)
}

/// Changes the extras of dataset `dataset_id`; returns them as they are now.
pub async fn change_dataset_extras(
    state: &AppState,
    who: &Identity,
    dataset_id: &str,
    change: &ExtrasChange,
) -> Result<Map<String, Value>, ApiError> {
    let mut tx = state.store.begin().await?;
    let before = lock(&mut tx, dataset_id).await?;
    if before.deleted.is_some() {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    check_reserved(ExtrasOwner::Dataset, who, change)?;
    let mut ds = before.clone();
    ds.extras = changed(ExtrasOwner::Dataset, dataset_id, &before.extras, change)?;
    tx.update_dataset(&before, &mut ds).await?;
    let activity = NewActivity::dataset("dataset:updated", &ds).with_changes(vec!["extras".into()]);
    tx.record(&who.actor(), &activity).await?;
    tx.commit().await?;
    Ok(ds.extras)
}

/// Changes the extras of resource `rid` of dataset `dataset_id`; returns them as they are now.
/// Removing a key the resource does not have fails and changes nothing (udata's 404).
pub async fn change_resource_extras(
    state: &AppState,
    who: &Identity,
    dataset_id: &str,
    rid: &str,
    change: &ExtrasChange,
) -> Result<Map<String, Value>, ApiError> {
    let mut tx = state.store.begin().await?;
    let ds = lock(&mut tx, dataset_id).await?;
    if ds.deleted.is_some() {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    let mut r = tx
        .find_resource(dataset_id, rid)
        .await?
        .ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
    check_reserved(ExtrasOwner::Resource, who, change)?;
    r.extras = changed(ExtrasOwner::Resource, rid, &r.extras, change)?;
    tx.update_resource(dataset_id, &r).await?;
    let activity = NewActivity::resource("dataset:resource:updated", &ds, &r)
        .with_changes(vec!["extras".into()]);
    tx.record(&who.actor(), &activity).await?;
    tx.commit().await?;
    Ok(r.extras)
}

/// Changes the extras of organization `org_id` (no key is reserved there); returns them as they are
/// now. The organization is modified now.
pub async fn change_organization_extras(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    change: &ExtrasChange,
) -> Result<Map<String, Value>, ApiError> {
    let mut tx = state.store.begin().await?;
    let before = tx
        .lock_organization(org_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if before.deleted.is_some() {
        return Err(ApiError::Gone(ORGANIZATION_DELETED.into()));
    }
    let mut org = before.clone();
    org.extras = changed(ExtrasOwner::Organization, org_id, &before.extras, change)?;
    org.last_modified = now();
    tx.update_organization(&before, &mut org).await?;
    let activity =
        NewActivity::organization("organization:updated", &org).with_changes(vec!["extras".into()]);
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(org.extras)
}
