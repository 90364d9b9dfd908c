//! `/api/1/datasets/`: list, read, create, update (and restore), soft delete.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::resources::{Internal, ResourceResponse, resource_json};
use super::{
    BaseUrl, JsonObject, QueryPairs, Refs, moved, org_ref, page_envelope, param_error, user_ref,
};
use crate::app::AppState;
use crate::auth::{
    AuthUser, Caller, EditRights, Identity, can_edit_dataset, can_read_hidden, require_edit,
};
use crate::domain::dataset::{Dataset, Quality, apply_dataset_input, license_or_default, quality};
use crate::domain::ids::{is_object_id, new_object_id, new_resource_id, parse_resource_id};
use crate::domain::input::{InputError, push_error};
use crate::domain::organization::Organization;
use crate::domain::resource::{Resource, apply_resource_input};
use crate::domain::time::{ApiTime, now};
use crate::error::ApiError;
use crate::store::{DatasetEdit, DatasetFilter, DatasetRow, Lookup, SortKey, Visibility};

pub const DELETED_MESSAGE: &str = "Dataset has been deleted";
/// Most words in `q`, and most `tag` filters, in one list request.
const MAX_TERMS: usize = 32;

/// Everything needed to render datasets for one caller.
pub struct Render<'a> {
    pub base: &'a BaseUrl,
    pub who: Option<&'a Identity>,
    /// One "now" for the whole answer (quality's `update_fulfilled_in_time`).
    pub now: chrono::DateTime<chrono::Utc>,
}

/// A dataset in udata's v1 JSON (keys in udata's alphabetical order; `()` is `null`). Serialised
/// straight from the stored values: a page of datasets is rendered without intermediate JSON trees.
#[derive(Serialize)]
pub struct DatasetResponse<'a> {
    access_audiences: &'a [Value],
    access_type: &'a str,
    access_type_reason: &'a Option<String>,
    access_type_reason_category: &'a Option<String>,
    acronym: &'a Option<String>,
    archived: Option<ApiTime>,
    authorization_request_url: &'a Option<String>,
    badges: [(); 0],
    contact_points: [(); 0],
    created_at: ApiTime,
    deleted: Option<ApiTime>,
    description: &'a str,
    description_short: &'a Option<String>,
    doi: (),
    extras: &'a Map<String, Value>,
    featured: bool,
    frequency: &'a str,
    frequency_date: Option<ApiTime>,
    geopf: (),
    harvest: (),
    id: &'a str,
    internal: Internal,
    last_modified: ApiTime,
    last_update: ApiTime,
    license: &'a str,
    metrics: DatasetMetrics,
    organization: Option<Value>,
    owner: Option<Value>,
    page: (),
    permissions: DatasetPermissions,
    private: bool,
    quality: Quality,
    resources: Vec<ResourceResponse<'a>>,
    schema: (),
    slug: &'a str,
    spatial: &'a Option<Value>,
    tags: &'a [String],
    temporal_coverage: Option<TemporalCoverageResponse>,
    title: &'a str,
    uri: String,
}

/// Metrics rudata does not compute yet: present, at 0, as udata emits missing ones.
#[derive(Serialize, Default)]
struct DatasetMetrics {
    dataservices: u64,
    discussions: u64,
    discussions_open: u64,
    followers: u64,
    followers_by_months: u64,
    resources_downloads: u64,
    reuses: u64,
    reuses_by_months: u64,
    views: u64,
}

#[derive(Serialize)]
struct DatasetPermissions {
    delete: bool,
    edit: bool,
    edit_resources: bool,
}

#[derive(Serialize)]
struct TemporalCoverageResponse {
    end: Option<String>,
    start: String,
}

impl Render<'_> {
    /// A dataset with its resources, for the caller (`can_edit` fills `permissions`).
    pub fn dataset<'a>(
        &self,
        row: &'a DatasetRow,
        resources: &'a [Resource],
        refs: &Refs,
        can_edit: bool,
    ) -> DatasetResponse<'a> {
        let d = &row.dataset;
        let org = d.organization_id.as_ref().and_then(|id| refs.orgs.get(id));
        let owner = d.owner_id.as_ref().and_then(|id| refs.users.get(id));
        DatasetResponse {
            access_audiences: &d.access_audiences,
            access_type: &d.access_type,
            access_type_reason: &d.access_type_reason,
            access_type_reason_category: &d.access_type_reason_category,
            acronym: &d.acronym,
            archived: d.archived.map(ApiTime),
            authorization_request_url: &d.authorization_request_url,
            badges: [],
            contact_points: [],
            created_at: ApiTime(d.created_at),
            deleted: d.deleted.map(ApiTime),
            description: &d.description,
            description_short: &d.description_short,
            doi: (),
            extras: &d.extras,
            featured: d.featured,
            frequency: &d.frequency,
            frequency_date: d.frequency_date.map(ApiTime),
            geopf: (),
            harvest: (),
            id: &d.id,
            internal: Internal {
                created_at_internal: ApiTime(d.created_at),
                last_modified_internal: ApiTime(d.last_modified),
            },
            last_modified: ApiTime(d.last_modified),
            last_update: ApiTime(row.last_update),
            license: license_or_default(d),
            metrics: DatasetMetrics::default(),
            organization: org.map(|o| org_ref(self.base, self.who, o)),
            owner: owner.map(|u| user_ref(self.base, u)),
            page: (),
            permissions: DatasetPermissions {
                delete: can_edit,
                edit: can_edit,
                edit_resources: can_edit,
            },
            private: d.private,
            quality: quality(d, resources, self.now),
            resources: resources
                .iter()
                .map(|r| resource_json(self.base, r))
                .collect(),
            schema: (),
            slug: &d.slug,
            spatial: &d.spatial,
            tags: &d.tags,
            temporal_coverage: d
                .temporal_coverage
                .as_ref()
                .map(|tc| TemporalCoverageResponse {
                    end: tc.end.map(|e| e.to_string()),
                    start: tc.start.to_string(),
                }),
            title: &d.title,
            uri: format!("{}/api/1/datasets/{}/", self.base.api, d.slug),
        }
    }
}

/// Finds a dataset by id, slug or old slug, applying the read rule (404 private, 410 deleted).
pub enum Found {
    Dataset(Box<DatasetRow>),
    Moved(Response),
}

pub async fn find_readable(
    state: &AppState,
    who: Option<&Identity>,
    key: &str,
    uri: &axum::http::Uri,
) -> Result<Found, ApiError> {
    let row = match state.store.find_dataset(key).await? {
        Lookup::Found(row) => row,
        Lookup::Moved(slug) => return Ok(Found::Moved(moved(uri.path(), uri.query(), key, &slug))),
        Lookup::Missing => return Err(ApiError::not_found()),
    };
    let d = &row.dataset;
    if (d.private || d.deleted.is_some()) && !can_read_hidden(who, d) {
        return Err(if d.private {
            ApiError::not_found()
        } else {
            ApiError::Gone(DELETED_MESSAGE.into())
        });
    }
    Ok(Found::Dataset(Box::new(row)))
}

/// Finds a dataset for a write (no read rule: writers are checked for permission instead).
/// An old slug answers 308 to the same request on the new one (the method and body are kept).
pub async fn find_for_write(
    state: &AppState,
    key: &str,
    uri: &axum::http::Uri,
) -> Result<DatasetRow, ApiError> {
    match state.store.find_dataset(key).await? {
        Lookup::Found(row) => Ok(row),
        Lookup::Moved(slug) => Err(ApiError::Moved(super::moved_location(
            uri.path(),
            uri.query(),
            key,
            &slug,
        ))),
        Lookup::Missing => Err(ApiError::not_found()),
    }
}

/// Renders a dataset as a write left it.
async fn render_edit(
    state: &AppState,
    base: &BaseUrl,
    who: &Identity,
    edit: DatasetEdit,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let row = DatasetRow {
        last_update: crate::domain::dataset::last_update(&edit.dataset, &edit.resources),
        dataset: edit.dataset,
    };
    render_one(state, base, Some(who), &row, &edit.resources, status).await
}

/// Renders one dataset fully (resources, references, permissions) as the answer, with `status`.
pub async fn render_one(
    state: &AppState,
    base: &BaseUrl,
    who: Option<&Identity>,
    row: &DatasetRow,
    resources: &[Resource],
    status: StatusCode,
) -> Result<Response, ApiError> {
    let refs = Refs::load(state, &[&row.dataset]).await?;
    let can_edit = match who {
        Some(w) => can_edit_dataset(state, w, &row.dataset).await?,
        None => false,
    };
    let render = Render {
        base,
        who,
        now: now(),
    };
    Ok((
        status,
        axum::Json(render.dataset(row, resources, &refs, can_edit)),
    )
        .into_response())
}

pub async fn get_dataset(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let row = match find_readable(&state, caller.identity(), &key, &uri).await? {
        Found::Dataset(row) => *row,
        Found::Moved(r) => return Ok(r),
    };
    let resources = state.store.list_resources(&row.dataset.id).await?;
    render_one(
        &state,
        &base,
        caller.identity(),
        &row,
        &resources,
        StatusCode::OK,
    )
    .await
}

/// The filters of `GET /api/1/datasets/`, parsed and checked.
fn dataset_filter(who: Option<&Identity>, q: &QueryPairs) -> Result<DatasetFilter, ApiError> {
    let visibility = match who {
        None => Visibility::Public,
        Some(w) if w.is_sysadmin() => Visibility::All,
        Some(w) => Visibility::User {
            user_id: w.user.id.clone(),
            org_ids: w.org_ids(),
        },
    };
    let mut f = DatasetFilter::new(visibility);
    for flag in ["private", "deleted", "archived"] {
        let value = q.bool(flag)?;
        if value.is_some() && who.is_none() {
            return Err(ApiError::unauthorized());
        }
        match flag {
            "private" => f.private = value,
            "deleted" => f.deleted = value,
            _ => f.archived = value,
        }
    }
    f.featured = q.bool("featured")?;
    if let Some(words) = q.get("q") {
        f.words = deunicode::deunicode(words)
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
    }
    f.tags = q
        .all("tag")
        .iter()
        .map(|t| crate::domain::slug::slugify(t, false))
        .collect();
    // Each word and tag is one condition: bound them (the database limits an expression's depth).
    for (list, key) in [(&mut f.words, "q"), (&mut f.tags, "tag")] {
        list.sort();
        list.dedup();
        if list.len() > MAX_TERMS {
            return Err(param_error(
                key,
                &format!("At most {MAX_TERMS} distinct values are allowed"),
            ));
        }
    }
    f.license = q
        .get("license")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    f.format = q
        .get("format")
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().to_lowercase());
    for (key, label) in [("organization", "Organization"), ("owner", "Owner")] {
        if let Some(v) = q.get(key).filter(|s| !s.is_empty()) {
            if !is_object_id(v) {
                return Err(ApiError::BadRequest(format!(
                    "{label} arg must be an identifier"
                )));
            }
            if key == "organization" {
                f.organization = Some(v.to_string());
            } else {
                f.owner = Some(v.to_string());
            }
        }
    }
    if let Some(sort) = q.get("sort").filter(|s| !s.is_empty()) {
        let (descending, key) = match sort.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, sort),
        };
        f.descending = descending;
        f.sort = match key {
            "created" | "reuses" | "followers" | "views" => SortKey::Created,
            "last_update" => SortKey::LastUpdate,
            "title" => SortKey::Title,
            _ => {
                return Err(param_error(
                    "sort",
                    &format!("The value '{sort}' is not a valid choice for 'sort'."),
                ));
            }
        };
    }
    Ok(f)
}

pub async fn list_datasets(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let filter = dataset_filter(caller.identity(), &query)?;
    let page = query.page(20)?;
    render_page(
        &state,
        &base,
        caller.identity(),
        "/api/1/datasets/",
        &query,
        &filter,
        page,
    )
    .await
}

/// One page of datasets rendered in the envelope: a constant number of queries whatever the page size.
pub async fn render_page(
    state: &AppState,
    base: &BaseUrl,
    who: Option<&Identity>,
    path: &str,
    query: &QueryPairs,
    filter: &DatasetFilter,
    page: crate::store::PageQuery,
) -> Result<Response, ApiError> {
    let (rows, total) = state.store.list_datasets(filter, page).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.dataset.id.clone()).collect();
    let mut resources = state.store.resources_of(&ids).await?;
    let refs = Refs::load(state, &rows.iter().map(|r| &r.dataset).collect::<Vec<_>>()).await?;
    let render = Render {
        base,
        who,
        now: now(),
    };
    let rights = match who {
        Some(w) => Some(EditRights::load(state, w).await?),
        None => None,
    };
    let grouped: Vec<(&DatasetRow, Vec<Resource>)> = rows
        .iter()
        .map(|row| (row, resources.remove(&row.dataset.id).unwrap_or_default()))
        .collect();
    let data: Vec<DatasetResponse> = grouped
        .iter()
        .map(|(row, res)| {
            let can_edit = rights.as_ref().is_some_and(|r| r.can_edit(&row.dataset));
            render.dataset(row, res, &refs, can_edit)
        })
        .collect();
    Ok(axum::Json(page_envelope(base, path, query, page, total, data)?).into_response())
}

/// Resolves the `organization` a body asks for: it must exist and the caller must belong to it.
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
    if who.is_sysadmin() || who.role_in(&org.id).is_some() {
        Ok(Ok(org))
    } else {
        Ok(Err("Permission denied for this organization"))
    }
}

fn field_error(field: &str, msg: &str) -> ApiError {
    let mut errors = Map::new();
    push_error(&mut errors, field, msg);
    ApiError::Invalid(errors)
}

/// Builds the resources given inline on creation (client ids are ignored).
fn new_resources(
    entries: &[Map<String, Value>],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Resource>, ApiError> {
    let mut out = Vec::new();
    let mut errors: Vec<Value> = Vec::new();
    for entry in entries {
        let mut r = Resource::blank(new_resource_id(), now);
        match apply_resource_input(&mut r, entry, true) {
            Ok(()) => errors.push(json!({})),
            Err(InputError::Fields(f)) => errors.push(Value::Object(f)),
            Err(InputError::Message(m)) => return Err(ApiError::BadRequest(m)),
        }
        out.push(r);
    }
    if errors
        .iter()
        .any(|e| e.as_object().is_some_and(|o| !o.is_empty()))
    {
        let mut all = Map::new();
        all.insert("resources".into(), Value::Array(errors));
        return Err(ApiError::Invalid(all));
    }
    Ok(out)
}

pub async fn create_dataset(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let now = now();
    let mut ds = Dataset::blank(new_object_id(), now);
    let requests = apply_dataset_input(&mut ds, &body, true)?;
    let mut partial_editor_of = None;
    match requests.organization.flatten() {
        Some(key) => {
            let org = resolve_organization(&state, &who, &key)
                .await?
                .map_err(|msg| field_error("organization", msg))?;
            if who.role_in(&org.id) == Some(crate::domain::organization::Role::PartialEditor) {
                partial_editor_of = Some(org.id.clone());
            }
            ds.organization_id = Some(org.id);
        }
        None => {
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
    let resources = new_resources(requests.resources.as_deref().unwrap_or_default(), now)?;
    let mut edit = DatasetEdit {
        dataset: ds,
        resources,
        new_files: Vec::new(),
    };
    state.store.insert_dataset(&mut edit).await?;
    if let Some(org_id) = partial_editor_of {
        // A partial editor keeps the right to edit what they create.
        state
            .store
            .assign_dataset(&org_id, &who.user.id, &edit.dataset.id)
            .await?;
    }
    render_edit(&state, &base, &who, edit, StatusCode::CREATED).await
}

/// Applies a PUT body's `resources` list: known ids update their resource (hosted-file fields kept),
/// unknown well-formed ids and entries without id become new resources, the rest are dropped.
fn replace_resources(
    current: &[Resource],
    entries: &[Map<String, Value>],
    now: chrono::DateTime<chrono::Utc>,
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
        match apply_resource_input(&mut r, entry, creating) {
            Ok(()) => errors.push(json!({})),
            Err(InputError::Fields(f)) => errors.push(Value::Object(f)),
            Err(InputError::Message(m)) => return Err(ApiError::BadRequest(m)),
        }
        out.push(r);
    }
    if errors
        .iter()
        .any(|e| e.as_object().is_some_and(|o| !o.is_empty()))
    {
        let mut all = Map::new();
        all.insert("resources".into(), Value::Array(errors));
        return Err(ApiError::Invalid(all));
    }
    Ok(out)
}

pub async fn update_dataset(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let row = find_for_write(&state, &key, &uri).await?;
    let restoring = body.get("deleted") == Some(&Value::Null);
    if row.dataset.deleted.is_some() && !restoring {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    require_edit(&state, &who, &row.dataset).await?;
    // Resolve the organization asked for before locking the dataset (it needs the store).
    let wanted_org = match body.get("organization") {
        Some(v) if !v.is_null() => {
            let key = v
                .as_str()
                .or_else(|| v.get("id").and_then(Value::as_str))
                .unwrap_or("");
            Some(resolve_organization(&state, &who, key).await?)
        }
        _ => None,
    };
    let now = now();
    let sysadmin = who.is_sysadmin();
    let (_, edit) = state
        .store
        .edit_dataset(
            &row.dataset.id,
            |edit: &mut DatasetEdit| -> Result<(), ApiError> {
                let before = edit.dataset.clone();
                let requests = apply_dataset_input(&mut edit.dataset, &body, false)?;
                apply_ownership_change(
                    &mut edit.dataset,
                    &before,
                    &requests,
                    wanted_org,
                    sysadmin,
                )?;
                if let Some(entries) = &requests.resources {
                    edit.resources = replace_resources(&edit.resources, entries, now)?;
                }
                // `deleted` may be set through a PUT (as in udata), but its date is the server's: a
                // client date in the past would skip the grace period, one in the future would keep
                // the dataset hidden yet out of the purge's reach.
                if edit.dataset.deleted.is_some() {
                    edit.dataset.deleted = before.deleted.or(Some(now));
                }
                edit.dataset.last_modified = now;
                Ok(())
            },
        )
        .await?;
    render_edit(&state, &base, &who, edit, StatusCode::OK).await
}

/// Owner and organization only change through a sysadmin, except moving a user's own dataset into
/// one of their organizations (as udata allows).
fn apply_ownership_change(
    ds: &mut Dataset,
    before: &Dataset,
    requests: &crate::domain::dataset::DatasetRequests,
    wanted_org: Option<Result<Organization, &'static str>>,
    sysadmin: bool,
) -> Result<(), ApiError> {
    const TRANSFER: &str = "Cannot change owner after creation. Please use transfer feature.";
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

pub async fn delete_dataset(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let row = find_for_write(&state, &key, &uri).await?;
    if row.dataset.deleted.is_some() {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    require_edit(&state, &who, &row.dataset).await?;
    let now = now();
    state
        .store
        .edit_dataset(
            &row.dataset.id,
            |edit: &mut DatasetEdit| -> Result<(), ApiError> {
                if edit.dataset.deleted.is_some() {
                    return Err(ApiError::Gone(DELETED_MESSAGE.into()));
                }
                edit.dataset.deleted = Some(now);
                edit.dataset.last_modified = now;
                Ok(())
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
