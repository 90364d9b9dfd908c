//! The site's handlers: parse, look up (the API's rules), read, render, and the HTML answers
//! (pages and error pages) with their headers.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::i18n::Lang;
use super::layout::{Page, document};
use super::views;
use crate::api::resources::{file_url, resource_url};
use crate::api::v2::search::{search_filter, search_page};
use crate::api::{BaseUrl, QueryPairs, lookup};
use crate::domain::organization::Organization;
use crate::domain::resource::Resource;
use crate::error::ApiError;
use crate::metrics::Count;
use crate::state::AppState;
use crate::store::{
    ActivityFilter, ActivityViewer, DatasetFilter, DatasetRow, Facet, FileRecord, PageQuery,
    ResourceQuery, SortKey, Visibility,
};

/// Datasets on a page of search results or of an organization.
const PAGE_SIZE: i64 = 20;
/// Datasets on the home page.
const LATEST: i64 = 6;
/// Resources on a page of a dataset.
const RESOURCES_PAGE_SIZE: i64 = 20;
/// Entries of the change history on a dataset's page (the rest is in the API).
const ACTIVITY_ENTRIES: i64 = 10;

/// What the pages may load and where their forms may go: the stylesheet, images of descriptions,
/// nothing else (no script at all).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

static STYLESHEET: &str = include_str!("site.css");

/// The stylesheet's version in its URL: a hash of its bytes.
pub static STYLESHEET_VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{:08x}",
        xxhash_rust::xxh3::xxh3_64(STYLESHEET.as_bytes()) as u32
    )
});

/// `GET /static/site.css`: kept a year by browsers (its URL changes with it).
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// `GET /`, `/fr/`, `/en/`: the search box and the latest datasets. At `/` the language is the
/// visitor's (`Accept-Language`).
pub async fn home(
    State(state): State<AppState>,
    lang: Lang,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let negotiated = Lang::of_path(uri.path()).is_none();
    let result = async {
        let mut filter = DatasetFilter::new(Visibility::Public);
        (filter.sort, filter.descending) = (SortKey::Created, true);
        let page = PageQuery {
            page: 1,
            page_size: LATEST,
        };
        let (rows, _) = state.store.list_datasets(&filter, page).await?;
        let orgs = organizations_of(&state, &rows, &[]).await?;
        Ok(views::home(lang, &rows, &orgs))
    };
    let title = lang.strings().site_title;
    let mut response = respond(lang, title, "/", result.await);
    if negotiated {
        crate::api::http_cache::add_vary(response.headers_mut(), "Accept-Language");
    }
    response
}

/// `GET /{lang}/datasets/`: API v2's search (its filters, checked alike) with four facets.
pub async fn search_datasets(
    State(state): State<AppState>,
    lang: Lang,
    query: QueryPairs,
) -> Response {
    // The page size is the site's: the parameter is left out (and so is its check).
    let query = QueryPairs(
        query
            .0
            .into_iter()
            .filter(|(k, _)| k != "page_size")
            .collect(),
    );
    let result = async {
        let filter = search_filter(&query)?;
        let page = PageQuery {
            page: page_number(search_page(&query)?.page, PAGE_SIZE)?,
            page_size: PAGE_SIZE,
        };
        let (rows, total) = state.store.list_datasets(&filter, page).await?;
        let asked = [
            Facet::License,
            Facet::Format,
            Facet::Organization,
            Facet::Tag,
        ];
        let counted = state.store.dataset_facets(&filter, &asked).await?;
        let facets: Vec<(&'static str, Vec<(String, i64)>)> = counted
            .into_iter()
            .map(|(facet, counts)| (facet_key(facet), counts))
            .collect();
        let facet_orgs: Vec<String> = facets
            .iter()
            .filter(|(key, _)| *key == "organization")
            .flat_map(|(_, counts)| counts.iter().map(|(id, _)| id.clone()))
            .chain(query.all("organization"))
            .collect();
        let orgs = organizations_of(&state, &rows, &facet_orgs).await?;
        Ok(views::search(
            lang,
            &views::SearchView {
                pairs: &query.0,
                rows: &rows,
                total,
                page: page.page,
                page_size: PAGE_SIZE,
                facets,
                orgs: &orgs,
            },
        ))
    }
    .await;
    let path = match query_of(&query) {
        q if q.is_empty() || result.is_err() => "/datasets/".to_string(),
        q => format!("/datasets/?{q}"),
    };
    respond(lang, lang.strings().datasets_title, &path, result)
}

/// `GET /{lang}/datasets/{slug}/`: a dataset under the API's read rule, a page of its resources
/// and their older files.
pub async fn show_dataset(
    State(state): State<AppState>,
    lang: Lang,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
    query: QueryPairs,
) -> Response {
    let result = async {
        let row = lookup::dataset_for_read(&state, None, &key, &uri).await?;
        let page = page_number(query.page(RESOURCES_PAGE_SIZE)?.page, RESOURCES_PAGE_SIZE)?;
        let id = &row.dataset.id;
        let all = ResourceQuery {
            dataset_id: id,
            kind: None,
            title: None,
        };
        let total = state.store.count_resources(all).await?;
        if page > 1 && (page - 1) * RESOURCES_PAGE_SIZE >= total {
            return Err(ApiError::not_found());
        }
        let resources = resources_with_history(&state, id, page).await?;
        let orgs = organizations_of(&state, std::slice::from_ref(&row), &[]).await?;
        let organization = row
            .dataset
            .organization_id
            .as_ref()
            .and_then(|o| orgs.get(o));
        // Its newest changes, as an anonymous reader of the activity log sees them.
        let filter = ActivityFilter {
            related_to: Some(id.clone()),
            ..ActivityFilter::default()
        };
        let activity = state
            .store
            .newest_activities(&filter, &ActivityViewer::Public, ACTIVITY_ENTRIES)
            .await?;
        let view = views::DatasetView {
            activity,
            row: &row,
            organization,
            resources,
            resources_total: total,
            page,
            page_size: RESOURCES_PAGE_SIZE,
            download_url: &|r| resource_url(&base, r),
            file_url: &|key| file_url(&base, key),
            api: &base.api,
        };
        let body = views::dataset(lang, &view);
        Ok((row.dataset.title.clone(), body, row.dataset.id.clone()))
    }
    .await;
    let path = format!("/datasets/{}/", super::html::segment(&key));
    match result {
        Ok((title, body, id)) => {
            let mut response = respond(lang, &title, &path, Ok(body));
            // A view of the dataset (counted from the cache too), and a page of this dataset
            // alone: another dataset's checks leave it in the cache.
            response
                .extensions_mut()
                .insert(Count::View(id.as_str().into()));
            crate::api::cache::only_dataset(response, &id)
        }
        Err(e) => respond(lang, "", &path, Err(e)),
    }
}

/// Page `page` of pages of `size` (the site's own size, whatever `page_size` the query holds): 404
/// when its offset would not fit in an integer.
fn page_number(page: i64, size: i64) -> Result<i64, ApiError> {
    page.checked_mul(size)
        .map(|_| page)
        .ok_or_else(ApiError::not_found)
}

/// `GET /{lang}/organizations/{slug}/`: an organization (410 once deleted) and a page of its
/// public datasets.
pub async fn show_organization(
    State(state): State<AppState>,
    lang: Lang,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
    query: QueryPairs,
) -> Response {
    let result = async {
        let org = lookup::organization_for_read(&state, None, &key, &uri).await?;
        let page = PageQuery {
            page: page_number(query.page(PAGE_SIZE)?.page, PAGE_SIZE)?,
            page_size: PAGE_SIZE,
        };
        let mut filter = DatasetFilter::new(Visibility::Public);
        filter.organization = Some(org.id.clone());
        (filter.sort, filter.descending) = (SortKey::Created, true);
        let (rows, total) = state.store.list_datasets(&filter, page).await?;
        let body = views::organization(lang, &org, &rows, total, page.page, PAGE_SIZE);
        Ok((org.name, body))
    }
    .await;
    let path = format!("/organizations/{}/", super::html::segment(&key));
    match result {
        Ok((title, body)) => respond(lang, &title, &path, Ok(body)),
        Err(e) => respond(lang, "", &path, Err(e)),
    }
}

/// Page `page` of a dataset's resources, each with its newest older files (those of an uploaded
/// file's replacements, newest first; the current one left out): at most one more than the page
/// shows, so that it knows there are more, whatever the length of a resource's history.
async fn resources_with_history(
    state: &AppState,
    dataset_id: &str,
    page: i64,
) -> Result<Vec<(Resource, Vec<FileRecord>)>, ApiError> {
    let all = ResourceQuery {
        dataset_id,
        kind: None,
        title: None,
    };
    let offset = (page - 1) * RESOURCES_PAGE_SIZE;
    let mut resources = Vec::new();
    for r in state
        .store
        .page_of_resources(all, offset, RESOURCES_PAGE_SIZE)
        .await?
    {
        let older = match &r.file_key {
            Some(current) => {
                // The current file, those shown and one more.
                let limit = views::HISTORY_SHOWN as i64 + 2;
                let mut files = state
                    .store
                    .newest_resource_files(dataset_id, &r.id, limit)
                    .await?;
                files.retain(|f| &f.key != current);
                files.truncate(views::HISTORY_SHOWN + 1);
                files
            }
            None => Vec::new(),
        };
        resources.push((r, older));
    }
    Ok(resources)
}

fn facet_key(facet: Facet) -> &'static str {
    match facet {
        Facet::License => "license",
        Facet::Format => "format",
        Facet::Organization => "organization",
        Facet::Tag => "tag",
        Facet::Frequency => "frequency",
    }
}

fn query_of(query: &QueryPairs) -> String {
    super::html::query_string(query.0.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The organizations of `rows` and those of `more`, by id, in one query.
async fn organizations_of(
    state: &AppState,
    rows: &[DatasetRow],
    more: &[String],
) -> Result<HashMap<String, Organization>, ApiError> {
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.dataset.organization_id.clone())
        .chain(more.iter().cloned())
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let orgs = state.store.organizations_by_ids(&ids).await?;
    Ok(orgs.into_iter().map(|o| (o.id.clone(), o)).collect())
}

/// The page answering a handler: its body in the shell, or the error's page.
fn respond(lang: Lang, title: &str, path: &str, body: Result<String, ApiError>) -> Response {
    match body {
        Ok(body) => {
            let page = Page {
                lang,
                title,
                path,
                body,
            };
            html(lang, StatusCode::OK, document(&page))
        }
        Err(e) => error_page(lang, path, e),
    }
}

/// An HTML answer with the site's headers.
fn html(lang: Lang, status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

/// The page of an error: the API's status and headers (a 308 stays the API's redirect; a 503 keeps
/// its `Retry-After`; an internal error is logged there, once), with an HTML body.
fn error_page(lang: Lang, path: &str, e: ApiError) -> Response {
    if matches!(e, ApiError::Moved(_)) {
        return e.into_response();
    }
    let t = lang.strings();
    let status = e.status();
    let (heading, text) = match &e {
        ApiError::NotFound(_) => (t.not_found, t.not_found_text.to_string()),
        ApiError::Gone(_) => (t.gone, t.gone_text.to_string()),
        ApiError::InvalidParams(errors) => (t.bad_request, messages(errors)),
        _ if status.is_server_error() => (t.server_error, t.server_error_text.to_string()),
        other => (t.bad_request, other.to_string()),
    };
    let (parts, _) = e.into_response().into_parts();
    let page = Page {
        lang,
        title: heading,
        path,
        body: views::error(lang, heading, &text),
    };
    let mut response = html(lang, status, document(&page));
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            response.headers_mut().insert(name, v.clone());
        }
    }
    response
}

/// A query string's errors as one sentence.
fn messages(errors: &serde_json::Map<String, Value>) -> String {
    errors
        .iter()
        .map(|(key, message)| match message {
            Value::String(m) => format!("{key}: {m}"),
            other => format!("{key}: {other}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
