//! API v2 dataset reads: a dataset whose resources are a link to their pages, a page of a dataset's
//! resources (by `type`, by words of their title), and a resource found by its id alone.
//!
//! None of them reads a resource document it does not return: the count and the quality come from
//! the store's summary columns, a page (filtered by type and title) from an index (see
//! `store::resource_pages`).

use axum::Extension;
use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::render::{RESOURCES_PAGE_SIZE, dataset_v2};
use crate::api::http_cache::LastModified;
use crate::api::resources::{ResourceResponse, resource_json};
use crate::api::{BaseUrl, Counts, QueryPairs, Refs, lookup, org_ref, param_error, user_ref};
use crate::auth::{Caller, can_edit_dataset};
use crate::domain::dataset::quality_of;
use crate::domain::time::now;
use crate::error::ApiError;
use crate::metrics::Count;
use crate::state::AppState;
use crate::store::ResourceQuery;

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
    )
    .counted(refs.counts.of(&row.dataset.id));
    let last_modified = Extension(crate::api::datasets::dataset_last_modified(&row));
    let view = Extension(Count::View(row.dataset.id.as_str().into()));
    let response = (last_modified, view, axum::Json(json)).into_response();
    Ok(crate::api::cache::only_dataset(response, &row.dataset.id))
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
    let counts = Counts::of_resources(&state, &resources).await?;
    let page = ResourcePage {
        data: resources
            .iter()
            .map(|r| resource_json(&base, r, &counts))
            .collect(),
        next_page: (params.page.saturating_mul(params.page_size) < total as u128)
            .then(|| params.link(&base, id, params.page + 1)),
        previous_page: (params.page > 1).then(|| params.link(&base, id, params.page - 1)),
        page: params.page,
        page_size: params.page_size,
        total,
    };
    Ok(crate::api::cache::only_dataset(
        axum::Json(page).into_response(),
        id,
    ))
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
    let last_modified = Extension(LastModified(r.last_modified));
    let counts = Counts::of_resources(&state, std::slice::from_ref(&r)).await?;
    let json = axum::Json(SpecificResource {
        resource: resource_json(&base, &r, &counts),
        dataset_id: &row.dataset.id,
    });
    let response = (last_modified, json).into_response();
    Ok(crate::api::cache::only_dataset(response, &row.dataset.id))
}
