//! The HTTP boundary: request extractors, the pagination envelope and the JSON shapes shared by several resources.

pub mod activity;
pub mod cache;
pub mod checks;
pub mod dataset_params;
pub mod datasets;
pub mod dcat;
pub mod exports;
pub mod files;
pub mod health;
pub mod http_cache;
pub mod invitations;
pub mod lookup;
pub mod mask;
pub mod me;
pub mod metrics;
pub mod openapi;
pub mod organizations;
pub mod rate_limit;
pub mod reference;
pub mod resources;
pub mod suggest;
pub mod uploads;
pub mod v2;

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::auth::org_rights;
use crate::domain::organization::Organization;
use crate::domain::permissions::Identity;
use crate::domain::time::to_api;
use crate::domain::user::User;
use crate::error::ApiError;
use crate::state::AppState;

/// A JSON object body, checked as udata's form endpoints check it: `application/json` content type
/// (400 otherwise), valid JSON, and an object.
pub struct JsonObject(pub Map<String, Value>);

/// Any JSON body (the reorder endpoint takes an array).
pub struct JsonBody(pub Value);

async fn read_json(req: Request, state: &AppState) -> Result<Value, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("application/json"));
    if !is_json {
        let mut errors = Map::new();
        errors.insert("Content-Type".into(), json!("expecting application/json"));
        return Err(ApiError::Invalid(errors));
    }
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|e| ApiError::BadRequest(format!("Could not read the request body: {e}")))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("Failed to decode JSON object: {e}")))?;
    refuse_nul(&value)?;
    Ok(value)
}

/// PostgreSQL's text cannot hold U+0000: a JSON body with one in any string or key is refused (400),
/// alike on both backends, instead of failing in the database.
pub(crate) fn refuse_nul(value: &Value) -> Result<(), ApiError> {
    if holds_nul(value) {
        return Err(ApiError::BadRequest(
            "Failed to decode JSON object: a string holds a NUL character (\\u0000)".into(),
        ));
    }
    Ok(())
}

/// Whether any string or key of `value` holds U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

impl FromRequest<AppState> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match read_json(req, state).await? {
            Value::Object(map) => Ok(JsonObject(map)),
            _ => {
                let mut errors = Map::new();
                errors.insert("request".into(), json!("expecting a JSON object"));
                Err(ApiError::Invalid(errors))
            }
        }
    }
}

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(JsonBody(read_json(req, state).await?))
    }
}

/// The bases of absolute URLs: the API's (the configured public URL, or `http://<Host>`) and the
/// stored files' (the configured files public URL, a CDN or the bucket, or rudata itself under `/s/`).
#[derive(Debug, Clone)]
pub struct BaseUrl {
    pub api: String,
    pub files: String,
}

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let api = match &state.config.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", request_host(parts)),
        };
        let files = match &state.config.files_public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("{api}/s"),
        };
        Ok(BaseUrl { api, files })
    }
}

/// The request's Host (any printable value; absent: `localhost`).
fn request_host(parts: &Parts) -> &str {
    parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost")
}

/// The raw query string as ordered pairs (repeatable keys such as `tag` keep every value).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        Ok(QueryPairs(
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl QueryPairs {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A boolean parameter: 400 (parser shape) when unreadable.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => Ok(None),
            Some("true" | "1" | "yes" | "on") => Ok(Some(true)),
            Some("false" | "0" | "no" | "off") => Ok(Some(false)),
            Some(other) => Err(param_error(
                key,
                &format!("Invalid literal for boolean(): {other}"),
            )),
        }
    }

    /// `page` and `page_size` (≥ 1), with the given default size.
    pub fn page(&self, default_size: i64) -> Result<crate::store::PageQuery, ApiError> {
        let int = |key: &str, default: i64| -> Result<i64, ApiError> {
            match self.get(key) {
                None | Some("") => Ok(default),
                Some(v) => match v.trim().parse::<i64>() {
                    Ok(n) if n >= 1 => Ok(n),
                    _ => Err(param_error(
                        key,
                        "Invalid value: must be a positive integer",
                    )),
                },
            }
        };
        let page = int("page", 1)?;
        let page_size = int("page_size", default_size)?.min(1_000_000);
        // A page whose offset does not even fit in an integer is past the end.
        if page.checked_mul(page_size).is_none() {
            return Err(ApiError::not_found());
        }
        Ok(crate::store::PageQuery { page, page_size })
    }
}

pub fn param_error(key: &str, msg: &str) -> ApiError {
    let mut errors = Map::new();
    errors.insert(key.to_string(), Value::String(msg.to_string()));
    ApiError::InvalidParams(errors)
}

/// udata's pagination envelope (keys in udata's alphabetical order).
#[derive(serde::Serialize)]
pub struct Page<T> {
    data: Vec<T>,
    next_page: Option<String>,
    page: i64,
    page_size: i64,
    previous_page: Option<String>,
    total: i64,
}

/// Wraps a page of results in the envelope. A page past the end is 404 (only page 1 may be empty).
pub fn page_envelope<T>(
    base: &BaseUrl,
    path: &str,
    query: &QueryPairs,
    page: crate::store::PageQuery,
    total: i64,
    data: Vec<T>,
) -> Result<Page<T>, ApiError> {
    if page.page > 1 && (page.page - 1) * page.page_size >= total {
        return Err(ApiError::not_found());
    }
    let link = |n: i64| {
        let mut pairs: Vec<(String, String)> = query
            .0
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        pairs.push(("page".into(), n.to_string()));
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{}{}?{}", base.api, path, qs)
    };
    Ok(Page {
        data,
        next_page: (page.page * page.page_size < total).then(|| link(page.page + 1)),
        page: page.page,
        page_size: page.page_size,
        previous_page: (page.page > 1).then(|| link(page.page - 1)),
        total,
    })
}

/// The path (and query) of a request with the object key `old` replaced by `new` (renamed slugs).
/// Only the key segment of `/api/1/<collection>/<key>[/...]` is replaced (a slug such as `api` must
/// not touch the prefix), and the target keeps udata's trailing slash (the router sees paths
/// without it).
pub fn moved_location(path: &str, query: Option<&str>, old: &str, new: &str) -> String {
    let mut segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let target = if segments.get(4) == Some(&old) {
        segments[4] = new;
        // Collection paths end with a slash (the router stripped it), `/datasets/r/…`-style ones don't.
        format!("{}/", segments.join("/"))
    } else {
        path.replacen(&format!("/{old}"), &format!("/{new}"), 1)
    };
    match query {
        Some(q) => format!("{target}?{q}"),
        None => target,
    }
}

/// A user as datasets and organizations reference them.
pub fn user_ref(base: &BaseUrl, u: &User) -> Value {
    json!({
        "class": "User",
        "id": u.id,
        "slug": u.slug,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "avatar": null,
        "avatar_thumbnail": null,
        "deleted": u.deleted.as_ref().map(to_api),
        "uri": format!("{}/api/1/users/{}/", base.api, u.slug),
        "page": null,
    })
}

/// An organization's permissions for the caller.
pub fn org_permissions(who: Option<&Identity>, org_id: &str) -> Value {
    let (admin, member) = org_rights(who, org_id);
    json!({"delete": admin, "edit": admin, "harvest": admin, "members": admin, "private": member})
}

/// An organization as datasets and `/me/` reference it.
pub fn org_ref(base: &BaseUrl, who: Option<&Identity>, o: &Organization) -> Value {
    json!({
        "class": "Organization",
        "id": o.id,
        "name": o.name,
        "acronym": o.acronym,
        "slug": o.slug,
        "logo": null,
        "logo_thumbnail": null,
        "badges": [],
        "permissions": org_permissions(who, &o.id),
        "uri": format!("{}/api/1/organizations/{}/", base.api, o.slug),
        "page": null,
    })
}

/// Views and downloads of the objects an answer renders (their `metrics`), by id (see
/// `metrics::counters`; an object never counted has none).
#[derive(Default)]
pub struct Counts(HashMap<String, crate::store::ObjectCounts>);

impl Counts {
    pub async fn load<'a>(
        state: &AppState,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Counts, ApiError> {
        let ids: Vec<&str> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(Counts::default());
        }
        Ok(Counts(state.store.object_counts(&ids).await?))
    }

    /// The counts of `resources`.
    pub async fn of_resources(
        state: &AppState,
        resources: &[crate::domain::resource::Resource],
    ) -> Result<Counts, ApiError> {
        Self::load(state, resources.iter().map(|r| r.id.as_str())).await
    }

    /// Counts the store read (`Store::object_counts`).
    pub fn of_store(counts: HashMap<String, crate::store::ObjectCounts>) -> Counts {
        Counts(counts)
    }

    pub fn of(&self, id: &str) -> crate::store::ObjectCounts {
        self.0.get(id).copied().unwrap_or_default()
    }

    pub fn extend(&mut self, other: Counts) {
        self.0.extend(other.0);
    }
}

/// Users and organizations referenced by a set of datasets, fetched in two queries, and the
/// datasets' counts (views, downloads) in a third.
pub struct Refs {
    pub users: HashMap<String, User>,
    pub orgs: HashMap<String, Organization>,
    /// The datasets' counts; renderers add their resources' (`Counts::extend`).
    pub counts: Counts,
}

impl Refs {
    pub async fn load(
        state: &AppState,
        datasets: &[&crate::domain::dataset::Dataset],
    ) -> Result<Refs, ApiError> {
        let mut user_ids: Vec<String> =
            datasets.iter().filter_map(|d| d.owner_id.clone()).collect();
        let mut org_ids: Vec<String> = datasets
            .iter()
            .filter_map(|d| d.organization_id.clone())
            .collect();
        user_ids.sort();
        user_ids.dedup();
        org_ids.sort();
        org_ids.dedup();
        let users = state.store.users_by_ids(&user_ids).await?;
        let orgs = state.store.organizations_by_ids(&org_ids).await?;
        let counts = Counts::load(state, datasets.iter().map(|d| d.id.as_str())).await?;
        Ok(Refs {
            users: users.into_iter().map(|u| (u.id.clone(), u)).collect(),
            orgs: orgs.into_iter().map(|o| (o.id.clone(), o)).collect(),
            counts,
        })
    }
}
