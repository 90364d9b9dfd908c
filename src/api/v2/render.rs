//! API v2's dataset: v1's fields but `schema`, with `resources` and `community_resources` as links
//! to their paginated lists (`{rel, href, type, total}`), as udata's `apiv2` renders it.

use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::datasets::{DatasetResponse, Render};
use crate::api::{BaseUrl, Page, QueryPairs, Refs, page_envelope};
use crate::auth::EditRights;
use crate::domain::permissions::Identity;
use crate::domain::resource::Resource;
use crate::domain::time::now;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{DatasetRow, PageQuery};

/// The page size of the linked lists (udata's `DEFAULT_PAGE_SIZE` in v2).
pub const LINKED_PAGE_SIZE: usize = 50;

/// A dataset in API v2.
#[derive(Serialize)]
pub struct DatasetV2Response<'a> {
    #[serde(flatten)]
    core: DatasetResponse<'a>,
    community_resources: Subsection,
    resources: Subsection,
}

/// A link to a paginated list, with the size of the whole list.
#[derive(Serialize)]
pub struct Subsection {
    href: String,
    rel: &'static str,
    total: usize,
    #[serde(rename = "type")]
    method: &'static str,
}

/// `dataset` as API v2 renders it for the caller (`can_edit` fills `permissions`). `resources` are
/// all of the dataset's: they count in `quality` and in the link's `total`.
pub fn dataset_v2<'a>(
    render: &Render<'_>,
    row: &'a DatasetRow,
    resources: &'a [Resource],
    refs: &Refs,
    can_edit: bool,
) -> DatasetV2Response<'a> {
    let id = &row.dataset.id;
    let api = &render.base.api;
    DatasetV2Response {
        core: render.dataset_core(row, resources, refs, can_edit),
        community_resources: Subsection {
            href: format!(
                "{api}/api/1/datasets/community_resources/?dataset={id}&page=1&page_size={LINKED_PAGE_SIZE}"
            ),
            rel: "subsection",
            // rudata has no community resources.
            total: 0,
            method: "GET",
        },
        resources: Subsection {
            href: format!(
                "{api}/api/2/datasets/{id}/resources/?page=1&page_size={LINKED_PAGE_SIZE}"
            ),
            rel: "subsection",
            total: resources.len(),
            method: "GET",
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

/// A page of datasets in v2's shape, in the search envelope: a constant number of queries whatever
/// the page size.
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
    let ids: Vec<String> = rows.iter().map(|r| r.dataset.id.clone()).collect();
    let mut resources = state.store.resources_of(&ids).await?;
    let refs = Refs::load(state, &rows.iter().map(|r| &r.dataset).collect::<Vec<_>>()).await?;
    let rights = match who {
        Some(w) => Some(EditRights::load(state, w).await?),
        None => None,
    };
    let render = Render {
        base,
        who,
        now: now(),
    };
    let grouped: Vec<(&DatasetRow, Vec<Resource>)> = rows
        .iter()
        .map(|row| (row, resources.remove(&row.dataset.id).unwrap_or_default()))
        .collect();
    let data: Vec<DatasetV2Response> = grouped
        .iter()
        .map(|(row, res)| {
            let can_edit = rights.as_ref().is_some_and(|r| r.can_edit(&row.dataset));
            dataset_v2(&render, row, res, &refs, can_edit)
        })
        .collect();
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
