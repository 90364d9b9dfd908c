//! `/api/1/datasets/`: list, read, create, update (and restore), soft delete.

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};
use serde::Serialize;
use serde_json::{Map, Value};

use super::dataset_params::dataset_filter;
use super::http_cache::LastModified;
use super::resources::{Internal, ResourceResponse, resource_json};
use super::{
    BaseUrl, Counts, JsonObject, QueryPairs, Refs, lookup, org_ref, page_envelope, user_ref,
};
use crate::auth::{AuthUser, Caller, EditRights, can_edit_dataset, require_dataset, require_edit};
use crate::domain::dataset::{Quality, license_or_default, quality, quality_of};
use crate::domain::permissions::{DatasetAction, Identity};
use crate::domain::resource::Resource;
use crate::domain::time::{ApiTime, now};
use crate::error::ApiError;
use crate::metrics::Count;
use crate::ops::DatasetWritten;
use crate::ops::datasets::DELETED_MESSAGE;
use crate::state::AppState;
use crate::store::{DatasetFilter, DatasetRow, ResourceCursor, StoreError};

/// Everything needed to render datasets for one caller.
pub struct Render<'a> {
    pub base: &'a BaseUrl,
    pub who: Option<&'a Identity>,
    /// One "now" for the whole answer (quality's `update_fulfilled_in_time`).
    pub now: chrono::DateTime<chrono::Utc>,
}

/// A dataset in udata's v1 JSON (keys in udata's alphabetical order; `()` is `null`). Serialised
/// straight from the stored values: a page of datasets is rendered without intermediate JSON trees.
/// The fields before and after `resources` are two structs, so that a single dataset's document can
/// stream its resources between them (see [`get_dataset`]); flattened here, they serialise as one
/// object, byte for byte.
#[derive(Serialize)]
pub struct DatasetResponse<'a> {
    #[serde(flatten)]
    head: DatasetHead<'a>,
    resources: Vec<ResourceResponse<'a>>,
    #[serde(flatten)]
    tail: DatasetTail<'a>,
}

/// The fields of a dataset that come before `resources`.
#[derive(Serialize)]
struct DatasetHead<'a> {
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
}

/// The fields of a dataset that come after `resources`.
#[derive(Serialize)]
struct DatasetTail<'a> {
    schema: (),
    slug: &'a str,
    spatial: &'a Option<Value>,
    tags: &'a [String],
    temporal_coverage: Option<TemporalCoverageResponse>,
    title: &'a str,
    uri: String,
}

/// A dataset's metrics: `views` and `resources_downloads` are counted (`metrics::counters`); the
/// others rudata does not compute, present at 0 as udata emits missing ones.
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
        DatasetResponse {
            head: self.head(
                row,
                quality(&row.dataset, resources, self.now),
                refs,
                can_edit,
            ),
            resources: resources
                .iter()
                .map(|r| resource_json(self.base, r, &refs.counts))
                .collect(),
            tail: self.tail(row),
        }
    }

    fn head<'a>(
        &self,
        row: &'a DatasetRow,
        quality: Quality,
        refs: &Refs,
        can_edit: bool,
    ) -> DatasetHead<'a> {
        let d = &row.dataset;
        let org = d.organization_id.as_ref().and_then(|id| refs.orgs.get(id));
        let owner = d.owner_id.as_ref().and_then(|id| refs.users.get(id));
        DatasetHead {
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
            metrics: DatasetMetrics {
                views: refs.counts.of(&d.id).views.max(0) as u64,
                resources_downloads: refs.counts.of(&d.id).downloads.max(0) as u64,
                ..DatasetMetrics::default()
            },
            organization: org.map(|o| org_ref(self.base, self.who, o)),
            owner: owner.map(|u| user_ref(self.base, u)),
            page: (),
            permissions: DatasetPermissions {
                delete: can_edit,
                edit: can_edit,
                edit_resources: can_edit,
            },
            private: d.private,
            quality,
        }
    }

    fn tail<'a>(&self, row: &'a DatasetRow) -> DatasetTail<'a> {
        let d = &row.dataset;
        DatasetTail {
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

/// Renders a dataset as a write left it.
async fn render_written(
    state: &AppState,
    base: &BaseUrl,
    who: &Identity,
    written: DatasetWritten,
    status: StatusCode,
) -> Result<Response, ApiError> {
    render_one(
        state,
        base,
        Some(who),
        &written.row,
        &written.resources,
        status,
    )
    .await
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
    let mut refs = Refs::load(state, &[&row.dataset]).await?;
    refs.counts
        .extend(Counts::of_resources(state, resources).await?);
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

/// Resources read, and sent, at a time by [`get_dataset`].
const STREAM_BATCH: i64 = 200;

/// `GET /api/1/datasets/{id}/`: the whole document, its resources streamed in batches. The fields
/// before them (their quality included, from the store's summary) and after them are rendered
/// first; then each batch is read through the index and sent, so memory stays flat whatever the
/// dataset's size. The bytes are those [`Render::dataset`] writes. Batches are separate reads: a
/// resource added or reordered while a large document streams may be missed or sent twice.
pub async fn get_dataset(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let who = caller.identity();
    let row = lookup::dataset_for_read(&state, who, &key, &uri).await?;
    let summary = state.store.resource_summary(&row.dataset.id).await?;
    let refs = Refs::load(&state, &[&row.dataset]).await?;
    let can_edit = match who {
        Some(w) => can_edit_dataset(&state, w, &row.dataset).await?,
        None => false,
    };
    let render = Render {
        base: &base,
        who,
        now: now(),
    };
    let quality = quality_of(&row.dataset, &summary, row.last_update, render.now);
    // `{"access_audiences":…,"quality":{…}` + `,"resources":[`, then the batches, then
    // `]` + `,"schema":…}`: the object's own braces are the head's first and the tail's last.
    let mut head = json_bytes(&render.head(&row, quality, &refs, can_edit))?;
    head.pop();
    head.extend_from_slice(b",\"resources\":[");
    let mut tail = json_bytes(&render.tail(&row))?;
    tail[0] = b',';
    tail.insert(0, b']');
    // A document of one batch is sent whole, with its length (and can then be kept by the cache).
    if summary.count <= STREAM_BATCH {
        let (resources, _) = state
            .store
            .next_resources(&row.dataset.id, None, STREAM_BATCH)
            .await?;
        let counts = Counts::of_resources(&state, &resources).await?;
        write_resources(&mut head, &base, &resources, &counts, true)
            .map_err(|e| ApiError::Internal(e.into()))?;
        head.extend_from_slice(&tail);
        let response = (
            [(header::CONTENT_TYPE, "application/json")],
            Extension(dataset_last_modified(&row)),
            Extension(Count::View(row.dataset.id.as_str().into())),
            head,
        )
            .into_response();
        return Ok(crate::api::cache::only_dataset(response, &row.dataset.id));
    }
    let batches = resource_batches(state.clone(), base.clone(), row.dataset.id.clone());
    let body = stream::once(async { Ok(Bytes::from(head)) })
        .chain(batches)
        .chain(stream::once(async { Ok(Bytes::from(tail)) }));
    let response = (
        [(header::CONTENT_TYPE, "application/json")],
        Extension(dataset_last_modified(&row)),
        Extension(Count::View(row.dataset.id.as_str().into())),
        Body::from_stream(body),
    )
        .into_response();
    Ok(crate::api::cache::only_dataset(response, &row.dataset.id))
}

/// A dataset's `Last-Modified`: its own change or its newest resource's, whichever is later.
pub fn dataset_last_modified(row: &DatasetRow) -> LastModified {
    LastModified(row.dataset.last_modified.max(row.last_update))
}

/// The resources of a dataset as the comma-separated items of a JSON array, one chunk per batch.
fn resource_batches(
    state: AppState,
    base: BaseUrl,
    dataset_id: String,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    struct Batches {
        state: AppState,
        base: BaseUrl,
        dataset_id: String,
        cursor: Option<ResourceCursor>,
        first: bool,
        done: bool,
    }
    let start = Batches {
        state,
        base,
        dataset_id,
        cursor: None,
        first: true,
        done: false,
    };
    stream::try_unfold(start, |mut b| async move {
        if b.done {
            return Ok(None);
        }
        let (resources, next) = b
            .state
            .store
            .next_resources(&b.dataset_id, b.cursor.as_ref(), STREAM_BATCH)
            .await
            .inspect_err(|e| tracing::error!(error = ?e, "streaming a dataset's resources"))?;
        let ids: Vec<&str> = resources.iter().map(|r| r.id.as_str()).collect();
        let counts = Counts::of_store(b.state.store.object_counts(&ids).await?);
        let mut chunk = Vec::new();
        write_resources(
            &mut chunk,
            &b.base,
            &resources,
            &counts,
            std::mem::take(&mut b.first),
        )
        .map_err(|e| StoreError::Other(e.into()))?;
        b.done = next.is_none();
        b.cursor = next;
        Ok(Some((Bytes::from(chunk), b)))
    })
}

/// Appends `resources` to `out` as items of a JSON array (after a comma unless they are the `first`).
fn write_resources(
    out: &mut Vec<u8>,
    base: &BaseUrl,
    resources: &[Resource],
    counts: &Counts,
    first: bool,
) -> Result<(), serde_json::Error> {
    for (i, r) in resources.iter().enumerate() {
        if i > 0 || !first {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, &resource_json(base, r, counts))?;
    }
    Ok(())
}

fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.into()))
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
    let mut refs = Refs::load(state, &rows.iter().map(|r| &r.dataset).collect::<Vec<_>>()).await?;
    let resource_ids = resources.values().flatten().map(|r| r.id.as_str());
    refs.counts.extend(Counts::load(state, resource_ids).await?);
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

pub async fn create_dataset(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let written = crate::ops::datasets::create_dataset(&state, &who, &body).await?;
    render_written(&state, &base, &who, written, StatusCode::CREATED).await
}

/// `PUT`: an update, or with `{"deleted": null}` a restore (udata's way).
pub async fn update_dataset(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    let restoring = body.get("deleted") == Some(&Value::Null);
    if row.dataset.deleted.is_some() && !restoring {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    require_edit(&state, &who, &row.dataset).await?;
    let written =
        crate::ops::datasets::update_dataset(&state, &who, &row.dataset.id, &body).await?;
    render_written(&state, &base, &who, written, StatusCode::OK).await
}

pub async fn delete_dataset(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, Some(&who), &key, &uri).await?;
    if row.dataset.deleted.is_some() {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    require_dataset(&state, &who, &row.dataset, DatasetAction::Delete).await?;
    crate::ops::datasets::delete_dataset(&state, &who.actor(), &row.dataset.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
