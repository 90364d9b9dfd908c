//! The one lookup seam: datasets, resources, files and organizations found by id, slug or old slug,
//! answering 404 (missing, or private to the caller), 410 (deleted) and 308 (renamed slug) the same
//! way on every path.

use axum::http::Uri;

use crate::auth::{can_read_hidden, org_rights};
use crate::domain::ids::parse_resource_id;
use crate::domain::organization::Organization;
use crate::domain::permissions::{Identity, OrgAction, may_on_org};
use crate::domain::resource::Resource;
use crate::error::ApiError;
use crate::ops::datasets::DELETED_MESSAGE;
use crate::ops::organizations::DELETED_MESSAGE as ORGANIZATION_DELETED;
use crate::ops::resources::MISSING_RESOURCE;
use crate::state::AppState;
use crate::store::{DatasetRow, FileRecord, Lookup};

/// The read rule for a dataset and everything in it: a private dataset is 404 and a deleted one 410
/// for whoever may not see hidden datasets (see `domain::permissions`).
pub fn check_visible(who: Option<&Identity>, row: &DatasetRow) -> Result<(), ApiError> {
    let d = &row.dataset;
    if (d.private || d.deleted.is_some()) && !can_read_hidden(who, d) {
        return Err(if d.private {
            ApiError::not_found()
        } else {
            ApiError::Gone(DELETED_MESSAGE.into())
        });
    }
    Ok(())
}

/// 308 to the request's URL with the old key replaced by the current slug.
fn moved(uri: &Uri, old: &str, new: &str) -> ApiError {
    ApiError::Moved(super::moved_location(uri.path(), uri.query(), old, new))
}

/// A dataset by id or slug. An old slug answers 308 to the current one only to a caller who may
/// see the dataset: to anyone else a hidden (private or deleted) dataset's old slug is unknown
/// (404), so that it tells neither that the dataset exists nor where it went.
async fn find_dataset(
    state: &AppState,
    who: Option<&Identity>,
    key: &str,
    uri: &Uri,
) -> Result<DatasetRow, ApiError> {
    match state.store.find_dataset(key).await? {
        Lookup::Found(row) => Ok(row),
        Lookup::Moved(row) if check_visible(who, &row).is_ok() => {
            Err(moved(uri, key, &row.dataset.slug))
        }
        Lookup::Moved(_) | Lookup::Missing => Err(ApiError::not_found()),
    }
}

/// A dataset for a read, under the read rule.
pub async fn dataset_for_read(
    state: &AppState,
    who: Option<&Identity>,
    key: &str,
    uri: &Uri,
) -> Result<DatasetRow, ApiError> {
    let row = find_dataset(state, who, key, uri).await?;
    check_visible(who, &row)?;
    Ok(row)
}

/// A dataset for a write: no read rule (writers are checked for permission instead). An old slug
/// answers 308 to the same request on the new one (the method and body are kept), to those who
/// may see the dataset; 404 to others.
pub async fn dataset_for_write(
    state: &AppState,
    who: Option<&Identity>,
    key: &str,
    uri: &Uri,
) -> Result<DatasetRow, ApiError> {
    find_dataset(state, who, key, uri).await
}

/// The canonical resource id of a path segment; a malformed one is simply not found.
fn resource_id(raw: &str) -> Result<String, ApiError> {
    parse_resource_id(raw).ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))
}

async fn find_resource(
    state: &AppState,
    row: &DatasetRow,
    rid: &str,
) -> Result<Resource, ApiError> {
    let rid = resource_id(rid)?;
    state
        .store
        .find_resource(&row.dataset.id, &rid)
        .await?
        .ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))
}

/// A resource of a dataset, for a read.
pub async fn resource_for_read(
    state: &AppState,
    who: Option<&Identity>,
    key: &str,
    rid: &str,
    uri: &Uri,
) -> Result<(DatasetRow, Resource), ApiError> {
    let row = dataset_for_read(state, who, key, uri).await?;
    let r = find_resource(state, &row, rid).await?;
    Ok((row, r))
}

/// A resource of a dataset, for a write.
pub async fn resource_for_write(
    state: &AppState,
    who: Option<&Identity>,
    key: &str,
    rid: &str,
    uri: &Uri,
) -> Result<(DatasetRow, Resource), ApiError> {
    let row = dataset_for_write(state, who, key, uri).await?;
    let r = find_resource(state, &row, rid).await?;
    Ok((row, r))
}

/// A resource id for a write whose resource may be gone already (its check happens in the
/// operation's transaction).
pub fn resource_key(rid: &str) -> Result<String, ApiError> {
    resource_id(rid)
}

/// A resource by id alone (the `latest` permalink), under its dataset's read rule.
pub async fn permalink(
    state: &AppState,
    who: Option<&Identity>,
    rid: &str,
) -> Result<Resource, ApiError> {
    Ok(permalink_with_dataset(state, who, rid).await?.0)
}

/// [`permalink`]'s resource, with its dataset.
pub async fn permalink_with_dataset(
    state: &AppState,
    who: Option<&Identity>,
    rid: &str,
) -> Result<(Resource, DatasetRow), ApiError> {
    let rid = parse_resource_id(rid).ok_or_else(ApiError::not_found)?;
    let (r, row) = state
        .store
        .find_resource_anywhere(&rid)
        .await?
        .ok_or_else(ApiError::not_found)?;
    check_visible(who, &row)?;
    Ok((r, row))
}

/// A stored file by key with its dataset, under the dataset's read rule.
pub async fn file(
    state: &AppState,
    who: Option<&Identity>,
    key: &str,
) -> Result<(FileRecord, DatasetRow), ApiError> {
    let (file, row) = state
        .store
        .find_file(key)
        .await?
        .ok_or_else(ApiError::not_found)?;
    check_visible(who, &row)?;
    Ok((file, row))
}

/// An organization for a read: 308 for an old slug, 410 when deleted unless the caller is a member.
pub async fn organization_for_read(
    state: &AppState,
    who: Option<&Identity>,
    key: &str,
    uri: &Uri,
) -> Result<Organization, ApiError> {
    let org = match state.store.find_organization(key).await? {
        Lookup::Found(o) => o,
        Lookup::Moved(o) => return Err(moved(uri, key, &o.slug)),
        Lookup::Missing => return Err(ApiError::not_found()),
    };
    let (_, member) = org_rights(who, &org.id);
    if org.deleted.is_some() && !member {
        return Err(ApiError::Gone(ORGANIZATION_DELETED.into()));
    }
    Ok(org)
}

/// An organization for an admin-only write (`action`: editing it, or managing its members): 404 (old
/// slugs too), then 410 if deleted, then 403 unless the caller may.
pub async fn organization_for_admin(
    state: &AppState,
    who: &Identity,
    key: &str,
    action: OrgAction,
) -> Result<Organization, ApiError> {
    let org = match state.store.find_organization(key).await? {
        Lookup::Found(o) => o,
        _ => return Err(ApiError::not_found()),
    };
    if org.deleted.is_some() {
        return Err(ApiError::Gone(ORGANIZATION_DELETED.into()));
    }
    if !may_on_org(Some(who), &org.id, action) {
        return Err(ApiError::Forbidden);
    }
    Ok(org)
}

/// A resource by id alone (API v2), with its dataset, under the dataset's read rule. A malformed id
/// is an unknown URL; an unknown one is a missing resource (udata's two 404 messages).
pub async fn resource_anywhere(
    state: &AppState,
    who: Option<&Identity>,
    rid: &str,
) -> Result<(Resource, DatasetRow), ApiError> {
    let rid = parse_resource_id(rid).ok_or_else(ApiError::not_found)?;
    let (r, row) = state
        .store
        .find_resource_anywhere(&rid)
        .await?
        .ok_or_else(|| ApiError::NotFound(MISSING_RESOURCE.into()))?;
    check_visible(who, &row)?;
    Ok((r, row))
}

/// An organization for a write whose checks come later (API v2 extras: authentication, the body,
/// then 410 and 403): 404, or 308 for an old slug (the method and body are kept).
pub async fn organization_for_write(
    state: &AppState,
    key: &str,
    uri: &Uri,
) -> Result<Organization, ApiError> {
    match state.store.find_organization(key).await? {
        Lookup::Found(o) => Ok(o),
        Lookup::Moved(o) => Err(moved(uri, key, &o.slug)),
        Lookup::Missing => Err(ApiError::not_found()),
    }
}
