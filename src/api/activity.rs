//! `GET /api/1/activity/`: the activity log (who changed what, when, through which token), with
//! udata's filters, paging and entry shape. Each caller sees the entries whose object they may see
//! (see `store::activities`).

use std::collections::HashMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{BaseUrl, QueryPairs, org_ref, page_envelope, param_error, user_ref};
use crate::auth::Caller;
use crate::domain::activity::{RelatedKind, describe};
use crate::domain::ids::is_object_id;
use crate::domain::permissions::Identity;
use crate::domain::time::to_api;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{ActivityFilter, ActivityRow, ActivityViewer};

/// `GET /activity/`: a page of the log, newest first, filtered by `user` (the actor),
/// `organization`, `related_to` (one object's history, a dataset's resources included) and `key`.
pub async fn list_activities(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let filter = parse_filter(&query)?;
    let page = query.page(20)?;
    let who = caller.identity();
    let (rows, total) = state
        .store
        .list_activities(&filter, &viewer(who), page)
        .await?;
    let data = render(&state, &base, who, &rows).await?;
    let page = page_envelope(&base, "/api/1/activity/", &query, page, total, data)?;
    Ok(axum::Json(page).into_response())
}

/// Which entries `who` may read.
fn viewer(who: Option<&Identity>) -> ActivityViewer {
    match who {
        None => ActivityViewer::Public,
        Some(who) if who.is_sysadmin() => ActivityViewer::All,
        Some(who) => ActivityViewer::User {
            user_id: who.user.id.clone(),
            org_ids: who.org_ids(),
        },
    }
}

/// The query's filters, refused as udata refuses them (400).
fn parse_filter(query: &QueryPairs) -> Result<ActivityFilter, ApiError> {
    let id = |key: &str| -> Result<Option<String>, ApiError> {
        match query.get(key).map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) if is_object_id(v) => Ok(Some(v.to_string())),
            Some(_) => Err(ApiError::BadRequest(format!(
                "`{key}` must be an identifier"
            ))),
        }
    };
    let keys: Vec<String> = query
        .all("key")
        .into_iter()
        .filter(|k| !k.is_empty())
        .collect();
    let mut unknown: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| describe(k).is_none())
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        unknown.dedup();
        return Err(ApiError::BadRequest(format!(
            "Unknown activity key(s): {}",
            unknown.join(", ")
        )));
    }
    let ascending = match query.get("sort") {
        None | Some("" | "-created_at") => false,
        Some("created_at") => true,
        Some(other) => {
            return Err(param_error(
                "sort",
                &format!(
                    "The field (and direction) on which sorting apply The value '{other}' is not \
                     a valid choice for 'sort'."
                ),
            ));
        }
    };
    Ok(ActivityFilter {
        user: id("user")?,
        organization: id("organization")?,
        related_to: id("related_to")?,
        keys,
        ascending,
    })
}

/// The page's entries in udata's shape, their actors and organizations fetched in two queries.
async fn render(
    state: &AppState,
    base: &BaseUrl,
    who: Option<&Identity>,
    rows: &[ActivityRow],
) -> Result<Vec<Value>, ApiError> {
    let mut user_ids: Vec<String> = rows.iter().filter_map(|a| a.actor_id.clone()).collect();
    let mut org_ids: Vec<String> = rows
        .iter()
        .filter_map(|a| a.organization_id.clone())
        .collect();
    user_ids.sort();
    user_ids.dedup();
    org_ids.sort();
    org_ids.dedup();
    let users: HashMap<String, _> = state
        .store
        .users_by_ids(&user_ids)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let orgs: HashMap<String, _> = state
        .store
        .organizations_by_ids(&org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    Ok(rows
        .iter()
        .map(|a| {
            let (label, icon) = describe(&a.key).unwrap_or(("", "fa fa-info-circle"));
            let collection = match a.related_kind {
                RelatedKind::Dataset => "datasets",
                RelatedKind::Organization => "organizations",
                RelatedKind::User => "users",
            };
            let key = a.related_slug.as_deref().unwrap_or(&a.related_id);
            // Which token wrote is the actor's business (and the sysadmins'): others see none.
            let own = who.is_some_and(|w| {
                w.is_sysadmin() || a.actor_id.as_deref() == Some(w.user.id.as_str())
            });
            json!({
                "actor": a.actor_id.as_ref().and_then(|id| users.get(id)).map(|u| user_ref(base, u)),
                "api_token": if own { a.token_id.clone() } else { None },
                "changes": a.changes,
                "created_at": to_api(&a.created_at),
                "extras": a.extras,
                "icon": icon,
                "id": a.id,
                "key": a.key,
                "label": label,
                "organization": a.organization_id.as_ref().and_then(|id| orgs.get(id))
                    .map(|o| org_ref(base, who, o)),
                "related_to": a.related_title,
                "related_to_id": a.related_id,
                "related_to_kind": a.related_kind.as_str(),
                "related_to_url": format!("{}/api/1/{collection}/{key}/", base.api),
            })
        })
        .collect())
}
