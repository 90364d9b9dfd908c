//! API v2's dataset: v1's fields but `schema`, in v2's order, with `resources` and
//! `community_resources` as links to their paginated lists (`{rel, href, type, total}`). One
//! renderer for every v2 answer that holds datasets: a dataset (`datasets.rs`) and search pages.

use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::resources::Internal;
use crate::api::{BaseUrl, Page, QueryPairs, Refs, org_ref, page_envelope, user_ref};
use crate::auth::EditRights;
use crate::domain::dataset::{Quality, license_or_default, quality_of};
use crate::domain::permissions::Identity;
use crate::domain::time::{ApiTime, now};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{DatasetRow, PageQuery};

/// udata's page size for a dataset's resources in API v2 (and in the link of the dataset).
pub(crate) const RESOURCES_PAGE_SIZE: u128 = 50;

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

/// A dataset's metrics (API v2's order): `views` and `resources_downloads` are counted
/// (`metrics::counters`), the others rudata does not compute, at 0.
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
pub(crate) struct DatasetV2<'a> {
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

/// A dataset in API v2 for the caller (`can_edit` fills `permissions`): `total` resources behind
/// the link, `quality` from their summary.
impl DatasetV2<'_> {
    /// With the dataset's counted views and downloads.
    pub(crate) fn counted(mut self, counts: crate::store::ObjectCounts) -> Self {
        self.metrics.views = counts.views.max(0) as u64;
        self.metrics.resources_downloads = counts.downloads.max(0) as u64;
        self
    }
}

pub(crate) fn dataset_v2<'a>(
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

/// A search page: udata's envelope plus `facets` (empty unless asked for).
#[derive(Serialize)]
struct SearchPage<T> {
    #[serde(flatten)]
    page: Page<T>,
    facets: Map<String, Value>,
}

/// A page of datasets in v2's shape, in the search envelope. Each dataset's resources are counted
/// and summed up in an index (their summary), never read.
#[expect(clippy::too_many_arguments, reason = "one answer, told from its parts")]
pub async fn render_dataset_search_page(
    state: &AppState,
    base: &BaseUrl,
    who: Option<&Identity>,
    path: &str,
    query: &QueryPairs,
    page: PageQuery,
    (rows, total): (Vec<DatasetRow>, i64),
    facets: Map<String, Value>,
) -> Result<Response, ApiError> {
    let refs = Refs::load(state, &rows.iter().map(|r| &r.dataset).collect::<Vec<_>>()).await?;
    let rights = match who {
        Some(w) => Some(EditRights::load(state, w).await?),
        None => None,
    };
    let now = now();
    let mut data = Vec::with_capacity(rows.len());
    for row in &rows {
        let d = &row.dataset;
        let summary = state.store.resource_summary(&d.id).await?;
        let quality = quality_of(d, &summary, row.last_update, now);
        let organization = d.organization_id.as_ref().and_then(|id| refs.orgs.get(id));
        let owner = d.owner_id.as_ref().and_then(|id| refs.users.get(id));
        data.push(
            dataset_v2(
                base,
                row,
                summary.count,
                quality,
                organization.map(|o| org_ref(base, who, o)),
                owner.map(|u| user_ref(base, u)),
                rights.as_ref().is_some_and(|r| r.can_edit(d)),
            )
            .counted(refs.counts.of(&d.id)),
        );
    }
    search_envelope(base, path, query, page, total, data, facets)
}

/// Wraps a page of search results (any shape) with its facets; 404 past the last page.
pub fn search_envelope<T: Serialize>(
    base: &BaseUrl,
    path: &str,
    query: &QueryPairs,
    page: PageQuery,
    total: i64,
    data: Vec<T>,
    facets: Map<String, Value>,
) -> Result<Response, ApiError> {
    let page = page_envelope(base, path, query, page, total, data)?;
    Ok(axum::Json(SearchPage { page, facets }).into_response())
}
