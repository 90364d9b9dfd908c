//! DCAT-AP 3.0 documents: the site's catalog (`/api/1/site/catalog`), an organization's
//! (`/api/1/organizations/{org}/catalog`) and one dataset (`/api/1/datasets/{id}/rdf`), each in
//! JSON-LD, Turtle, RDF/XML, N-Triples, N3 or TriG by its suffix (`catalog.ttl`, `rdf.jsonld`);
//! without a suffix, a 302 to the suffix `Accept` asks for, as udata does. The triples come from
//! `domain::dcat`; oxrdfio writes them.
//!
//! Catalogs list public datasets only (neither private, deleted nor archived), a page at a time
//! through the dataset list's own query (`page`, `page_size`, default 100, at most 1000), with
//! udata's Hydra paging. A dataset's document follows the dataset's read rule (404 or 410).

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oxrdfio::{JsonLdProfileSet, RdfFormat, RdfSerializer};

use super::{BaseUrl, QueryPairs, Refs, lookup};
use crate::auth::Caller;
use crate::domain::dataset::Dataset;
use crate::domain::dcat::{
    Agent, CatalogInfo, DCAT, DCT, FOAF, Graph, HYDRA, Paging, SPDX, Urls, add_catalog, add_dataset,
};
use crate::domain::reference::LICENSES;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{DatasetFilter, DatasetRow, Visibility};

/// Datasets per catalog page unless `page_size` says otherwise (udata's default), and at most.
const DEFAULT_PAGE_SIZE: i64 = 100;
const MAX_PAGE_SIZE: i64 = 1000;

/// The serialisations, by the suffixes udata accepts, with their media types.
const FORMATS: [(&str, &str); 9] = [
    ("json", "application/ld+json"),
    ("jsonld", "application/ld+json"),
    ("ttl", "text/turtle"),
    ("xml", "application/rdf+xml"),
    ("rdf", "application/rdf+xml"),
    ("owl", "application/rdf+xml"),
    ("nt", "application/n-triples"),
    ("n3", "text/n3"),
    ("trig", "application/trig"),
];

fn rdf_format(suffix: &str) -> Option<(RdfFormat, &'static str)> {
    let (_, mime) = FORMATS.iter().find(|(s, _)| *s == suffix)?;
    let format = match suffix {
        "json" | "jsonld" => RdfFormat::JsonLd {
            profile: JsonLdProfileSet::empty(),
        },
        "ttl" => RdfFormat::Turtle,
        "xml" | "rdf" | "owl" => RdfFormat::RdfXml,
        "nt" => RdfFormat::NTriples,
        "n3" => RdfFormat::N3,
        _ => RdfFormat::TriG,
    };
    Some((format, mime))
}

/// The suffix `Accept` prefers among the formats (highest `q`, then first listed); JSON-LD
/// (`json`, udata's default) when it names none of them.
fn negotiate(headers: &HeaderMap) -> &'static str {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut best = ("json", 0.0_f32);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let suffix = match mime.as_str() {
            "application/ld+json" | "application/json" => "json",
            "text/turtle" | "application/x-turtle" => "ttl",
            "application/rdf+xml" | "application/xml" | "text/xml" => "xml",
            "application/n-triples" => "nt",
            "text/n3" => "n3",
            "application/trig" => "trig",
            _ => continue,
        };
        if q > best.1 {
            best = (suffix, q);
        }
    }
    best.0
}

/// 302 to `path` + `.suffix`, the query string kept. The answer depends on `Accept`, which the
/// response cache's key does not hold: its body is streamed (an empty stream), which the cache
/// never keeps (`api::cache`: only bodies of a known size are).
fn redirect_to_format(uri: &axum::http::Uri, headers: &HeaderMap) -> Response {
    let path = uri.path().trim_end_matches('/');
    let mut location = format!("{path}.{}", negotiate(headers));
    if let Some(q) = uri.query() {
        location.push('?');
        location.push_str(q);
    }
    let Ok(location) = HeaderValue::from_str(&location) else {
        return ApiError::not_found().into_response();
    };
    let empty = futures_util::stream::empty::<Result<Bytes, std::io::Error>>();
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::VARY, HeaderValue::from_static("Accept")),
        ],
        Body::from_stream(empty),
    )
        .into_response()
}

/// The graph written in `suffix`'s format (404 for an unknown suffix).
fn render(graph: &Graph, suffix: &str) -> Result<Response, ApiError> {
    let (format, mime) = rdf_format(suffix).ok_or_else(ApiError::not_found)?;
    let mut serializer = RdfSerializer::from_format(format);
    for (prefix, ns) in [
        ("dcat", DCAT),
        ("dct", DCT),
        ("foaf", FOAF),
        ("spdx", SPDX),
        ("hydra", HYDRA),
    ] {
        serializer = serializer
            .with_prefix(prefix, ns)
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    let mut writer = serializer.for_writer(Vec::new());
    // Each subject's triples together (Turtle and RDF/XML then describe each node once).
    let mut triples: Vec<&oxrdf::Triple> = graph.triples.iter().collect();
    triples.sort_by_cached_key(|t| t.subject.to_string());
    for t in triples {
        writer
            .serialize_triple(t)
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    let body = writer.finish().map_err(|e| ApiError::Internal(e.into()))?;
    Ok(([(header::CONTENT_TYPE, mime)], body).into_response())
}

fn urls(base: &BaseUrl) -> Urls<'_> {
    Urls {
        api: &base.api,
        files: &base.files,
    }
}

/// The bases every IRI of the documents starts with must be IRIs themselves: without a configured
/// public URL, the API's comes from the request's `Host`, which may hold anything printable.
fn check_base(base: &BaseUrl) -> Result<(), ApiError> {
    for url in [&base.api, &base.files] {
        oxrdf::NamedNode::new(format!("{url}/"))
            .map_err(|_| ApiError::BadRequest("invalid Host header".into()))?;
    }
    Ok(())
}

fn license_url(d: &Dataset) -> Option<&'static str> {
    let id = d.license.as_deref()?;
    LICENSES
        .iter()
        .find(|l| l.id == id)
        .and_then(|l| l.url.as_deref())
}

/// The publisher of each dataset: its organization, or its owner.
fn publisher(base: &BaseUrl, refs: &Refs, d: &Dataset) -> Option<Agent> {
    if let Some(o) = d.organization_id.as_ref().and_then(|id| refs.orgs.get(id)) {
        return Some(Agent {
            iri: format!("{}/api/1/organizations/{}/", base.api, o.id),
            name: o.name.clone(),
        });
    }
    let u = d.owner_id.as_ref().and_then(|id| refs.users.get(id))?;
    Some(Agent {
        iri: format!("{}/api/1/users/{}/", base.api, u.id),
        name: format!("{} {}", u.first_name, u.last_name)
            .trim()
            .to_string(),
    })
}

/// Adds the datasets (with their resources, read in one query) and returns their nodes.
async fn add_datasets(
    state: &AppState,
    base: &BaseUrl,
    graph: &mut Graph,
    rows: &[DatasetRow],
) -> Result<Vec<oxrdf::NamedNode>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.dataset.id.clone()).collect();
    let mut resources = state.store.resources_of(&ids).await?;
    let datasets: Vec<&Dataset> = rows.iter().map(|r| &r.dataset).collect();
    let refs = Refs::load(state, &datasets).await?;
    let mut nodes = Vec::with_capacity(rows.len());
    for row in rows {
        let d = &row.dataset;
        let res = resources.remove(&d.id).unwrap_or_default();
        let agent = publisher(base, &refs, d);
        nodes.push(add_dataset(
            graph,
            &urls(base),
            d,
            &row.last_update,
            &res,
            agent.as_ref(),
            license_url(d),
        ));
    }
    Ok(nodes)
}

/// One page of the public datasets matching `filter`, as a catalog described by `info`.
async fn catalog_page(
    state: &AppState,
    base: &BaseUrl,
    query: &QueryPairs,
    path: &str,
    filter: DatasetFilter,
    info: CatalogInfo<'_>,
) -> Result<Graph, ApiError> {
    let mut page = query.page(DEFAULT_PAGE_SIZE)?;
    page.page_size = page.page_size.min(MAX_PAGE_SIZE);
    let (rows, total) = state.store.list_datasets(&filter, page).await?;
    let mut graph = Graph::default();
    let nodes = add_datasets(state, base, &mut graph, &rows).await?;
    // The page's URL: `page_size`, then the other parameters as given; `page` goes last.
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    pairs.append_pair("page_size", &page.page_size.to_string());
    for (k, v) in query
        .0
        .iter()
        .filter(|(k, _)| k != "page" && k != "page_size")
    {
        pairs.append_pair(k, v);
    }
    let url = format!("{}{path}?{}", base.api, pairs.finish());
    let paging = Paging {
        url_without_page: url,
        page: page.page,
        page_size: page.page_size,
        total,
    };
    add_catalog(&mut graph, &info, &nodes, Some(&paging));
    Ok(graph)
}

/// `GET /api/1/site/catalog`: 302 to the format `Accept` asks for.
pub async fn redirect_site_catalog(OriginalUri(uri): OriginalUri, headers: HeaderMap) -> Response {
    redirect_to_format(&uri, &headers)
}

/// `GET /api/1/site/catalog.{fmt}`: a page of the site's public datasets.
pub async fn get_site_catalog(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(suffix): Path<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let suffix = suffix.as_str();
    rdf_format(suffix).ok_or_else(ApiError::not_found)?;
    check_base(&base)?;
    let site = Agent {
        iri: format!("{}/api/1/site/", base.api),
        name: base.api.clone(),
    };
    let home = format!("{}/", base.api);
    let title = format!("Data catalog of {}", base.api);
    let info = CatalogInfo {
        iri: format!("{}/api/1/site/catalog", base.api),
        title: &title,
        description: &title,
        homepage: &home,
        publisher: &site,
    };
    let filter = DatasetFilter::new(Visibility::Public);
    let path = format!("/api/1/site/catalog.{suffix}");
    let graph = catalog_page(&state, &base, &query, &path, filter, info).await?;
    render(&graph, suffix)
}

/// `GET /api/1/organizations/{org}/catalog`: 302 to the format `Accept` asks for.
pub async fn redirect_organization_catalog(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    lookup::organization_for_read(&state, caller.identity(), &key, &uri).await?;
    Ok(redirect_to_format(&uri, &headers))
}

/// `GET /api/1/organizations/{org}/catalog.{fmt}`: a page of the organization's public datasets.
pub async fn get_organization_catalog(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path((key, suffix)): Path<(String, String)>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let suffix = suffix.as_str();
    rdf_format(suffix).ok_or_else(ApiError::not_found)?;
    check_base(&base)?;
    let org = lookup::organization_for_read(&state, caller.identity(), &key, &uri).await?;
    let agent = Agent {
        iri: format!("{}/api/1/organizations/{}/", base.api, org.id),
        name: org.name.clone(),
    };
    let home = org.url.clone().unwrap_or_else(|| agent.iri.clone());
    let description = if org.description.is_empty() {
        org.name.clone()
    } else {
        org.description.clone()
    };
    let info = CatalogInfo {
        iri: format!("{}/api/1/organizations/{}/catalog", base.api, org.id),
        title: &org.name,
        description: &description,
        homepage: &home,
        publisher: &agent,
    };
    let mut filter = DatasetFilter::new(Visibility::Public);
    filter.organization = Some(org.id.clone());
    let path = format!("/api/1/organizations/{}/catalog.{suffix}", org.slug);
    let graph = catalog_page(&state, &base, &query, &path, filter, info).await?;
    render(&graph, suffix)
}

/// `GET /api/1/datasets/{id}/rdf`: 302 to the format `Accept` asks for, under the read rule.
pub async fn redirect_dataset_rdf(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_read(&state, caller.identity(), &key, &uri).await?;
    Ok(crate::api::cache::only_dataset(
        redirect_to_format(&uri, &headers),
        &row.dataset.id,
    ))
}

/// `GET /api/1/datasets/{id}/rdf.{fmt}`: one dataset and its resources, under the read rule.
pub async fn get_dataset_rdf(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path((key, suffix)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let suffix = suffix.as_str();
    rdf_format(suffix).ok_or_else(ApiError::not_found)?;
    check_base(&base)?;
    let row = lookup::dataset_for_read(&state, caller.identity(), &key, &uri).await?;
    let mut graph = Graph::default();
    add_datasets(&state, &base, &mut graph, std::slice::from_ref(&row)).await?;
    Ok(crate::api::cache::only_dataset(
        render(&graph, suffix)?,
        &row.dataset.id,
    ))
}
