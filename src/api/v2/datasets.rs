//! API v2 dataset reads: a dataset whose resources are a link to their pages, a page of a dataset's
//! resources (by `type`, by words of their title), and a resource found by its id alone.
//!
//! None of them reads a resource document it does not return: the count and the quality come from
//! the store's summary columns, a page (filtered by type and title) from an index (see
//! `store::resource_pages`).

use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::resources::{Internal, ResourceResponse, resource_json};
use crate::api::{BaseUrl, QueryPairs, Refs, lookup, org_ref, param_error, user_ref};
use crate::auth::{Caller, can_edit_dataset};
use crate::domain::dataset::{Quality, license_or_default, quality_of};
use crate::domain::time::{ApiTime, now};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{DatasetRow, ResourceQuery};

/// udata's page size for a dataset's resources in API v2 (and in the link of the dataset).
const RESOURCES_PAGE_SIZE: u128 = 50;

/// `{rel, href, type, total}`: where a list too long to embed is read, and its length.
#[derive(Serialize)]
struct Link {
    rel: &'static str,
    href: String,
    #[serde(rename = "type")]
    method: &'static str,
    total: i64,
}

impl Link {
    fn new(href: String, total: i64) -> Link {
        Link {
            rel: "subsection",
            href,
            method: "GET",
            total,
        }
    }
}

/// Metrics rudata does not compute yet, at 0 (API v2's order).
#[derive(Serialize, Default)]
struct Metrics {
    discussions: u64,
    discussions_open: u64,
    reuses: u64,
    reuses_by_months: u64,
    dataservices: u64,
    followers: u64,
    followers_by_months: u64,
    views: u64,
    resources_downloads: u64,
}

#[derive(Serialize)]
struct Permissions {
    delete: bool,
    edit: bool,
    edit_resources: bool,
}

#[derive(Serialize)]
struct TemporalCoverage {
    end: Option<String>,
    start: String,
}

/// A dataset in udata's API v2 JSON: v1's fields (but `schema`), in v2's order, with `resources`
/// and `community_resources` as links.
#[derive(Serialize)]
struct DatasetV2<'a> {
    id: &'a str,
    title: &'a str,
    acronym: &'a Option<String>,
    slug: &'a str,
    description: &'a str,
    description_short: &'a Option<String>,
    created_at: ApiTime,
    last_modified: ApiTime,
    deleted: Option<ApiTime>,
    private: bool,
    tags: &'a [String],
    badges: [(); 0],
    resources: Link,
    community_resources: Link,
    frequency: &'a str,
    frequency_date: Option<ApiTime>,
    extras: &'a Map<String, Value>,
    metrics: Metrics,
    organization: Option<Value>,
    owner: Option<Value>,
    temporal_coverage: Option<TemporalCoverage>,
    spatial: &'a Option<Value>,
    license: &'a str,
    access_type: &'a str,
    access_audiences: &'a [Value],
    access_type_reason_category: &'a Option<String>,
    access_type_reason: &'a Option<String>,
    authorization_request_url: &'a Option<String>,
    uri: String,
    page: (),
    last_update: ApiTime,
    archived: Option<ApiTime>,
    doi: (),
    quality: Quality,
    harvest: (),
    geopf: (),
    internal: Internal,
    contact_points: [(); 0],
    featured: bool,
    permissions: Permissions,
}

/// `GET /api/2/datasets/{id}/`: the dataset under the read rule, its resources counted, not read.
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
    let quality = quality_of(&row.dataset, &summary, row.last_update, now());
    let org = row.dataset.organization_id.as_ref();
    let owner = row.dataset.owner_id.as_ref();
    let json = dataset_v2(
        &base,
        &row,
        summary.count,
        quality,
        org.and_then(|id| refs.orgs.get(id))
            .map(|o| org_ref(&base, who, o)),
        owner
            .and_then(|id| refs.users.get(id))
            .map(|u| user_ref(&base, u)),
        can_edit,
    );
    Ok(axum::Json(json).into_response())
}

fn dataset_v2<'a>(
    base: &BaseUrl,
    row: &'a DatasetRow,
    total: i64,
    quality: Quality,
    organization: Option<Value>,
    owner: Option<Value>,
    can_edit: bool,
) -> DatasetV2<'a> {
    let d = &row.dataset;
    DatasetV2 {
        id: &d.id,
        title: &d.title,
        acronym: &d.acronym,
        slug: &d.slug,
        description: &d.description,
        description_short: &d.description_short,
        created_at: ApiTime(d.created_at),
        last_modified: ApiTime(d.last_modified),
        deleted: d.deleted.map(ApiTime),
        private: d.private,
        tags: &d.tags,
        badges: [],
        resources: Link::new(
            format!(
                "{}/api/2/datasets/{}/resources/?page=1&page_size={RESOURCES_PAGE_SIZE}",
                base.api, d.id
            ),
            total,
        ),
        // rudata has no community resources yet: the link is udata's, the list empty.
        community_resources: Link::new(
            format!(
                "{}/api/1/datasets/community_resources/?dataset={}&page=1&page_size={RESOURCES_PAGE_SIZE}",
                base.api, d.id
            ),
            0,
        ),
        frequency: &d.frequency,
        frequency_date: d.frequency_date.map(ApiTime),
        extras: &d.extras,
        metrics: Metrics::default(),
        organization,
        owner,
        temporal_coverage: d.temporal_coverage.as_ref().map(|tc| TemporalCoverage {
            end: tc.end.map(|e| e.to_string()),
            start: tc.start.to_string(),
        }),
        spatial: &d.spatial,
        license: license_or_default(d),
        access_type: &d.access_type,
        access_audiences: &d.access_audiences,
        access_type_reason_category: &d.access_type_reason_category,
        access_type_reason: &d.access_type_reason,
        authorization_request_url: &d.authorization_request_url,
        uri: format!("{}/api/1/datasets/{}/", base.api, d.slug),
        page: (),
        last_update: ApiTime(row.last_update),
        archived: d.archived.map(ApiTime),
        doi: (),
        quality,
        harvest: (),
        geopf: (),
        internal: Internal {
            created_at_internal: ApiTime(d.created_at),
            last_modified_internal: ApiTime(d.last_modified),
        },
        contact_points: [],
        featured: d.featured,
        permissions: Permissions {
            delete: can_edit,
            edit: can_edit,
            edit_resources: can_edit,
        },
    }
}

/// API v2's envelope of a page of resources (udata's order). Past the last page the page is empty:
/// unlike v1 lists, v2 answers 200.
#[derive(Serialize)]
struct ResourcePage<'a> {
    data: Vec<ResourceResponse<'a>>,
    next_page: Option<String>,
    previous_page: Option<String>,
    page: u128,
    page_size: u128,
    total: i64,
}

/// The parameters of a resource page, checked as udata's parser does.
struct PageParams {
    page: u128,
    page_size: u128,
    kind: Option<String>,
    q: Option<String>,
}

impl PageParams {
    fn parse(query: &QueryPairs) -> Result<PageParams, ApiError> {
        // Empty `type` and `q` are no filter (udata tests them for truth); the first value counts.
        let text = |key: &str| query.get(key).filter(|v| !v.is_empty()).map(str::to_string);
        Ok(PageParams {
            page: positive(query, "page", "The page to fetch")?.unwrap_or(1),
            page_size: positive(query, "page_size", "The page size to fetch")?
                .unwrap_or(RESOURCES_PAGE_SIZE),
            kind: text("type"),
            q: text("q"),
        })
    }

    /// The link to page `n` with the same size and filters (on the dataset's id, as udata).
    fn link(&self, base: &BaseUrl, dataset_id: &str, n: u128) -> String {
        let mut url = format!(
            "{}/api/2/datasets/{dataset_id}/resources/?page={n}&page_size={}",
            base.api, self.page_size
        );
        for (key, value) in [("type", &self.kind), ("q", &self.q)] {
            if let Some(v) = value {
                url.push_str(&format!("&{key}="));
                url.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
            }
        }
        url
    }
}

/// A strictly positive integer parameter, read as Python's `int()` reads it (spaces, a sign,
/// underscores between digits); every value given must be one, the first is used.
fn positive(query: &QueryPairs, key: &str, help: &str) -> Result<Option<u128>, ApiError> {
    let mut first = None;
    for raw in query.all(key) {
        let invalid = || param_error(key, &format!("{help} {raw} is not a valid integer"));
        let t = raw.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        if digits.is_empty()
            || digits.starts_with('_')
            || digits.ends_with('_')
            || digits.contains("__")
            || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        {
            return Err(invalid());
        }
        let value: u128 = digits.replace('_', "").parse().map_err(|_| invalid())?;
        if negative || value == 0 {
            let shown = if negative && value > 0 {
                format!("-{value}")
            } else {
                value.to_string()
            };
            return Err(param_error(
                key,
                &format!("{help} Invalid {key}: {shown}. {key} must be a positive integer"),
            ));
        }
        first.get_or_insert(value);
    }
    Ok(first)
}

/// `GET /api/2/datasets/{id}/resources/`: a page of the dataset's resources in order, of one `type`
/// and with `q` in their title (case-insensitive) when asked.
pub async fn list_resources(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_read(&state, caller.identity(), &key, &uri).await?;
    let params = PageParams::parse(&query)?;
    let id = row.dataset.id.as_str();
    let (total, resources) = resource_page(&state, id, &params).await?;
    let page = ResourcePage {
        data: resources.iter().map(|r| resource_json(&base, r)).collect(),
        next_page: (params.page.saturating_mul(params.page_size) < total as u128)
            .then(|| params.link(&base, id, params.page + 1)),
        previous_page: (params.page > 1).then(|| params.link(&base, id, params.page - 1)),
        page: params.page,
        page_size: params.page_size,
        total,
    };
    Ok(axum::Json(page).into_response())
}

/// The total of the filtered resources and the page asked for: a count and a page walked in an
/// index, whatever the filters (the titles are folded there); only the page's documents are read.
async fn resource_page(
    state: &AppState,
    dataset_id: &str,
    params: &PageParams,
) -> Result<(i64, Vec<crate::domain::resource::Resource>), ApiError> {
    let query = ResourceQuery {
        dataset_id,
        kind: params.kind.as_deref(),
        title: params.q.as_deref(),
    };
    let total = state.store.count_resources(query).await?;
    let offset = (params.page - 1).saturating_mul(params.page_size);
    if offset >= total as u128 {
        return Ok((total, Vec::new()));
    }
    // Both fit: the offset is below the total, and no page goes past it.
    let limit = params.page_size.min(total as u128 - offset) as i64;
    let page = state
        .store
        .page_of_resources(query, offset as i64, limit)
        .await?;
    Ok((total, page))
}

#[derive(Serialize)]
struct SpecificResource<'a> {
    resource: ResourceResponse<'a>,
    dataset_id: &'a str,
}

/// `GET /api/2/datasets/resources/{rid}/`: a resource found by its id alone, with its dataset's id,
/// under the dataset's read rule.
pub async fn get_resource(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    Path(rid): Path<String>,
) -> Result<Response, ApiError> {
    let (r, row) = lookup::resource_anywhere(&state, caller.identity(), &rid).await?;
    Ok(axum::Json(SpecificResource {
        resource: resource_json(&base, &r),
        dataset_id: &row.dataset.id,
    })
    .into_response())
}
