//! API v2 extras: `GET|PUT|DELETE` on the extras of a dataset, of a resource, of an organization.
//!
//! `PUT` merges an object (a `null` value removes its key) and answers the extras; `DELETE` takes a
//! list of keys and answers 204. The checks come in udata's order: the object (404, 308), the
//! caller (401), the body (415, 400), the object's state (410), the permission (403), then in the
//! operation the resource (404), the reserved keys (400) and the values (400).

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::api::lookup;
use crate::auth::{Caller, require_dataset};
use crate::domain::extras::ExtrasChange;
use crate::domain::ids::parse_resource_id;
use crate::domain::permissions::{DatasetAction, Identity, OrgAction, may_on_org};
use crate::error::ApiError;
use crate::ops::datasets::DELETED_MESSAGE;
use crate::ops::extras::{
    change_dataset_extras, change_organization_extras, change_resource_extras,
};
use crate::ops::organizations::DELETED_MESSAGE as ORGANIZATION_DELETED;
use crate::state::AppState;

const NOT_JSON: &str = "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.";
const MALFORMED: &str =
    "The browser (or proxy) sent a request that this server could not understand.";
const DICT_EXPECTED: &str = "Wrong payload format, dict expected";
const LIST_EXPECTED: &str = "Wrong payload format, list expected";
const KEYS_NOT_STRINGS: &str = "Wrong payload format, extras keys must be strings";

/// A JSON object with its keys in the request's order (udata names reserved keys in that order). A
/// repeated key keeps its first place and its last value, as Python's `json` does.
struct OrderedObject(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut pairs: Vec<(String, Value)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    match pairs.iter_mut().find(|(key, _)| *key == k) {
                        Some(pair) => pair.1 = v,
                        None => pairs.push((k, v)),
                    }
                }
                Ok(OrderedObject(pairs))
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// The body as Flask's `request.json` reads it: a JSON content type (`application/json` or
/// `application/*+json`) else 415, valid JSON else 400.
fn request_json(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let is_json =
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    if !is_json {
        return Err(ApiError::UnsupportedMedia(NOT_JSON.into()));
    }
    let value = serde_json::from_slice(body).map_err(|_| ApiError::BadRequest(MALFORMED.into()))?;
    super::super::refuse_nul(&value)?;
    Ok(value)
}

/// A `PUT` body: an object (in the request's order).
fn merge_body(headers: &HeaderMap, body: &Bytes) -> Result<ExtrasChange, ApiError> {
    if !request_json(headers, body)?.is_object() {
        return Err(ApiError::BadRequest(DICT_EXPECTED.into()));
    }
    let pairs: OrderedObject =
        serde_json::from_slice(body).map_err(|_| ApiError::BadRequest(MALFORMED.into()))?;
    Ok(ExtrasChange::Merge(pairs.0))
}

/// A `DELETE` body: a list of keys. Datasets and resources refuse other values than strings;
/// organizations skip them (udata ignores a key it cannot find).
fn remove_body(
    headers: &HeaderMap,
    body: &Bytes,
    strings_only: bool,
) -> Result<ExtrasChange, ApiError> {
    let Value::Array(items) = request_json(headers, body)? else {
        return Err(ApiError::BadRequest(LIST_EXPECTED.into()));
    };
    if strings_only && !items.iter().all(Value::is_string) {
        return Err(ApiError::BadRequest(KEYS_NOT_STRINGS.into()));
    }
    let keys = items
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s),
            _ => None,
        })
        .collect();
    Ok(ExtrasChange::Remove(keys))
}

fn signed_in(caller: &Caller) -> Result<&Identity, ApiError> {
    caller.identity().ok_or_else(ApiError::unauthorized)
}

/// The answer to a change: the extras (`PUT`), or 204 (`DELETE`).
fn answer(change: &ExtrasChange, extras: Map<String, Value>) -> Response {
    match change {
        ExtrasChange::Merge(_) => axum::Json(extras).into_response(),
        ExtrasChange::Remove(_) => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Which change a request asks for, from its method.
fn change_of(
    method: &axum::http::Method,
    headers: &HeaderMap,
    body: &Bytes,
    strings_only: bool,
) -> Result<ExtrasChange, ApiError> {
    if method == axum::http::Method::DELETE {
        remove_body(headers, body, strings_only)
    } else {
        merge_body(headers, body)
    }
}

/// `GET /api/2/datasets/{id}/extras/` (the dataset's read rule).
pub async fn get_dataset_extras(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_read(&state, caller.identity(), &key, &uri).await?;
    let id = row.dataset.id.clone();
    let response = axum::Json(row.dataset.extras).into_response();
    Ok(crate::api::cache::only_dataset(response, &id))
}

/// `PUT|DELETE /api/2/datasets/{id}/extras/`: editors change them, deleters remove keys.
pub async fn change_dataset(
    State(state): State<AppState>,
    caller: Caller,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, caller.identity(), &key, &uri).await?;
    let who = signed_in(&caller)?;
    let change = change_of(&method, &headers, &body, true)?;
    if row.dataset.deleted.is_some() {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    let action = match change {
        ExtrasChange::Merge(_) => DatasetAction::Edit,
        ExtrasChange::Remove(_) => DatasetAction::Delete,
    };
    require_dataset(&state, who, &row.dataset, action).await?;
    let extras = change_dataset_extras(&state, who, &row.dataset.id, &change).await?;
    Ok(answer(&change, extras))
}

/// `GET /api/2/datasets/{id}/resources/{rid}/extras/` (the dataset's read rule).
pub async fn get_resource_extras(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_read(&state, caller.identity(), &key, &uri).await?;
    let rid = parse_resource_id(&rid).ok_or_else(ApiError::not_found)?;
    let r = state
        .store
        .find_resource(&row.dataset.id, &rid)
        .await?
        .ok_or_else(|| ApiError::NotFound(crate::ops::resources::MISSING_RESOURCE.into()))?;
    let response = axum::Json(r.extras).into_response();
    Ok(crate::api::cache::only_dataset(response, &row.dataset.id))
}

/// `PUT|DELETE /api/2/datasets/{id}/resources/{rid}/extras/`: the dataset's editors, and for keys
/// reserved to platform services (`check:*`, `analysis:*`…) sysadmins only.
pub async fn change_resource(
    State(state): State<AppState>,
    caller: Caller,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
    Path((key, rid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let row = lookup::dataset_for_write(&state, caller.identity(), &key, &uri).await?;
    // A malformed id matches no route in udata: 404 before anything else.
    let rid = parse_resource_id(&rid).ok_or_else(ApiError::not_found)?;
    let who = signed_in(&caller)?;
    let change = change_of(&method, &headers, &body, true)?;
    if row.dataset.deleted.is_some() {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    require_dataset(&state, who, &row.dataset, DatasetAction::Edit).await?;
    let extras = change_resource_extras(&state, who, &row.dataset.id, &rid, &change).await?;
    Ok(answer(&change, extras))
}

/// `GET /api/2/organizations/{org}/extras/`: 410 once deleted, for everyone (members too).
pub async fn get_organization_extras(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_read(&state, caller.identity(), &key, &uri).await?;
    if org.deleted.is_some() {
        return Err(ApiError::Gone(ORGANIZATION_DELETED.into()));
    }
    Ok(axum::Json(org.extras).into_response())
}

/// `PUT|DELETE /api/2/organizations/{org}/extras/`: the organization's admins.
pub async fn change_organization(
    State(state): State<AppState>,
    caller: Caller,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_write(&state, &key, &uri).await?;
    let who = signed_in(&caller)?;
    let change = change_of(&method, &headers, &body, false)?;
    if org.deleted.is_some() {
        return Err(ApiError::Gone(ORGANIZATION_DELETED.into()));
    }
    if !may_on_org(Some(who), &org.id, OrgAction::Edit) {
        return Err(ApiError::Forbidden);
    }
    let extras = change_organization_extras(&state, &who.actor(), &org.id, &change).await?;
    Ok(answer(&change, extras))
}
