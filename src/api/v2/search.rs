//! `GET /api/2/datasets/search/` and `GET /api/2/organizations/search/`: udata's search endpoints
//! (Elasticsearch there, the database's full-text index here), public objects only. Beyond udata,
//! `facets=license,format,organization,tag,frequency` counts the values of the matching datasets.

use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::render::{render_dataset_search_page, search_envelope};
use crate::api::dataset_params::{choice, given, object_id, search_query, sort, tags};
use crate::api::organizations::org_json;
use crate::api::{BaseUrl, QueryPairs, param_error};
use crate::auth::Caller;
use crate::domain::search::{
    DATASET_BADGES, FORMAT_FAMILIES, LAST_UPDATE_RANGES, ORGANIZATION_BADGES, PRODUCER_TYPES,
    last_update_cutoff, parse_date_range,
};
use crate::domain::time::now;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{
    DatasetFilter, Facet, OrganizationSort, PageQuery, SortKey, TemporalFilter, Visibility,
};

/// The deepest result a search pages to (Elasticsearch's `max_result_window` in udata).
const MAX_RESULT_WINDOW: i64 = 10_000;

/// udata prefixes the sort parameter's errors with its help text.
const SORT_HELP: &str = "The field (and direction) on which sorting apply ";

const DATASET_SORTS: [&str; 5] = ["created", "last_update", "reuses", "followers", "views"];
const ORGANIZATION_SORTS: [&str; 5] = ["reuses", "datasets", "followers", "views", "created"];

pub async fn search_datasets(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let filter = search_filter(&query)?;
    let asked = facets_of(&query)?;
    let page = search_page(&query)?;
    let found = state.store.list_datasets(&filter, page).await?;
    let mut facets = Map::new();
    for (facet, counts) in state.store.dataset_facets(&filter, &asked).await? {
        let values = counts
            .into_iter()
            .map(|(name, count)| json!({"name": name, "count": count}))
            .collect();
        facets.insert(facet_name(facet).to_string(), Value::Array(values));
    }
    let path = "/api/2/datasets/search/";
    let who = caller.identity();
    render_dataset_search_page(&state, &base, who, path, &query, page, found, facets).await
}

pub async fn search_organizations(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    // rudata records no organization badges: a valid badge, or a producer type told by one,
    // matches no organization (all are "not-specified").
    let mut nothing = choice(&query, "badge", &ORGANIZATION_BADGES)?.is_some();
    let producers: Vec<&str> = PRODUCER_TYPES
        .into_iter()
        .filter(|p| *p != "user")
        .collect();
    nothing |= choice(&query, "producer_type", &producers)?.is_some_and(|p| p != "not-specified");
    let (sort, descending) = organization_sort(&query)?;
    let search = search_query(&query)?;
    let page = search_page(&query)?;
    let (orgs, total) = if nothing {
        (Vec::new(), 0)
    } else {
        let found = state
            .store
            .search_organizations(search.as_ref(), sort, descending, page);
        found.await?
    };
    let mut data = Vec::with_capacity(orgs.len());
    for org in &orgs {
        data.push(org_json(&state, &base, caller.identity(), org).await?);
    }
    let path = "/api/2/organizations/search/";
    search_envelope(&base, path, &query, page, total, data, Map::new())
}

/// The filters of a dataset search. Public datasets only, whoever asks (udata indexes only those).
pub(crate) fn search_filter(q: &QueryPairs) -> Result<DatasetFilter, ApiError> {
    let mut f = DatasetFilter::new(Visibility::Public);
    f.featured = q.bool("featured")?;
    f.available = q.bool("available")?;
    f.badge = choice(q, "badge", &DATASET_BADGES)?;
    f.nothing |= choice(q, "organization_badge", &ORGANIZATION_BADGES)?.is_some();
    f.format_family = choice(q, "format_family", &FORMAT_FAMILIES)?;
    match choice(q, "producer_type", &PRODUCER_TYPES)?.as_deref() {
        Some("user") => f.has_organization = Some(false),
        Some("not-specified") => f.has_organization = Some(true),
        // Told by organization badges, which rudata does not record.
        Some(_) => f.nothing = true,
        None => {}
    }
    if let Some(range) = choice(q, "last_update_range", &LAST_UPDATE_RANGES)? {
        f.last_update_since = last_update_cutoff(&range, now());
    }
    if let Some(range) = given(q, "temporal_coverage") {
        let (from, to) = parse_date_range(range).ok_or_else(|| {
            param_error(
                "temporal_coverage",
                &format!(
                    "A date range expressed as start-end where both dates are in iso format \
                     (ie. YYYY-MM-DD-YYYY-MM-DD) \"{range}\" does not match YYYY-MM-DD-YYYY-MM-DD"
                ),
            )
        })?;
        f.temporal = Some(TemporalFilter::Covers(from, to));
    }
    match sort(q, &DATASET_SORTS, SORT_HELP)? {
        Some((key, descending)) => {
            f.sort = key;
            f.descending = descending;
        }
        None => (f.sort, f.descending) = (SortKey::Created, true),
    }
    f.search = search_query(q)?;
    f.tags = tags(q)?;
    f.license = given(q, "license").map(str::to_string);
    f.geozone = given(q, "geozone").map(str::to_string);
    f.access_type = given(q, "access_type").map(str::to_string);
    // Repeatable: any of the values.
    f.formats = every(q, "format")
        .map(|v| v.trim().to_lowercase())
        .collect();
    f.schemas = every(q, "schema").map(str::to_string).collect();
    f.granularities = every(q, "granularity").map(str::to_string).collect();
    f.organization = object_id(q, "organization", "Organization")?;
    f.organization_name = given(q, "organization_name").map(str::to_string);
    // rudata knows no hierarchy of zones: with or without their ancestors, a zone is itself.
    q.bool("include_geozone_ancestors")?;
    f.owner = object_id(q, "owner", "Owner")?;
    // Topics do not exist in rudata: udata ignores an unknown one.
    object_id(q, "topic", "Topic")?;
    Ok(f)
}

/// The non-empty values of a repeatable parameter.
fn every<'q>(q: &'q QueryPairs, key: &'q str) -> impl Iterator<Item = &'q str> {
    q.0.iter()
        .filter(move |(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// `page` and `page_size`, within the result window (400 beyond it, with udata's message).
pub(crate) fn search_page(q: &QueryPairs) -> Result<PageQuery, ApiError> {
    let page = q.page(20)?;
    if page.page.saturating_mul(page.page_size) > MAX_RESULT_WINDOW {
        return Err(ApiError::BadRequest(format!(
            "Result window is too large: page {} with page_size {} exceeds the maximum of \
             {MAX_RESULT_WINDOW} results. Maximum page for this page_size is {}.",
            page.page,
            page.page_size,
            MAX_RESULT_WINDOW / page.page_size
        )));
    }
    Ok(page)
}

/// The facets asked for: `facets=license,format` or `facets=license&facets=format`.
fn facets_of(q: &QueryPairs) -> Result<Vec<Facet>, ApiError> {
    let mut facets = Vec::new();
    for name in every(q, "facets").flat_map(|v| v.split(',')) {
        let facet = match name.trim() {
            "license" => Facet::License,
            "format" => Facet::Format,
            "organization" => Facet::Organization,
            "tag" => Facet::Tag,
            "frequency" => Facet::Frequency,
            "" => continue,
            other => {
                return Err(param_error(
                    "facets",
                    &format!("The value '{other}' is not a valid choice for 'facets'."),
                ));
            }
        };
        if !facets.contains(&facet) {
            facets.push(facet);
        }
    }
    Ok(facets)
}

fn facet_name(facet: Facet) -> &'static str {
    match facet {
        Facet::License => "license",
        Facet::Format => "format",
        Facet::Organization => "organization",
        Facet::Tag => "tag",
        Facet::Frequency => "frequency",
    }
}

/// An organization search's order: `created` or `datasets` (metrics rudata does not count order by
/// creation); newest first by default.
fn organization_sort(q: &QueryPairs) -> Result<(OrganizationSort, bool), ApiError> {
    let Some(value) = given(q, "sort") else {
        return Ok((OrganizationSort::Created, true));
    };
    let (descending, key) = match value.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, value),
    };
    if !ORGANIZATION_SORTS.contains(&key) {
        return Err(param_error(
            "sort",
            &format!("{SORT_HELP}The value '{value}' is not a valid choice for 'sort'."),
        ));
    }
    let sort = if key == "datasets" {
        OrganizationSort::Datasets
    } else {
        OrganizationSort::Created
    };
    Ok((sort, descending))
}
