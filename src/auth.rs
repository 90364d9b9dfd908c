//! Who is calling: `X-API-KEY` → keyed hash → token → user, checked on every request, and the
//! permission checks that need the store (a partial editor's assignments). The rules themselves are
//! pure and live in `domain::permissions`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::dataset::Dataset;
use crate::domain::permissions::{
    DatasetAction, Identity, OrgAction, Scope, may_on_dataset, may_on_org,
};
use crate::domain::time::now;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller of a request: anonymous or an identity. Set by [`authenticate`] on every request.
#[derive(Debug, Clone, Default)]
pub struct Caller(pub Option<Arc<Identity>>);

impl Caller {
    pub fn identity(&self) -> Option<&Identity> {
        self.0.as_deref()
    }
}

/// A caller that must be authenticated (401 otherwise).
#[derive(Debug, Clone)]
pub struct AuthUser(pub Arc<Identity>);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>().and_then(|c| c.0.clone()) {
            Some(identity) => Ok(AuthUser(identity)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// Middleware: resolves `X-API-KEY` (any method; an invalid key is 401 even on GET).
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let key = req
        .headers()
        .get("x-api-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
    let caller = match key {
        None => Caller(None),
        Some(key) => {
            let agent = req
                .headers()
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match identify(&state, &key, agent).await {
                Ok(identity) => Caller(Some(Arc::new(identity))),
                Err(e) => return e.into_response(),
            }
        }
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}

async fn identify(
    state: &AppState,
    key: &str,
    agent: Option<String>,
) -> Result<Identity, ApiError> {
    let hash = state.config.token_key.hash(key);
    let Some(mut token) = state.store.find_api_token_by_hash(&hash).await? else {
        return Err(ApiError::Unauthorized("Invalid API token".into()));
    };
    let now = now();
    if token.revoked_at.is_some() {
        return Err(ApiError::Unauthorized("Revoked API token".into()));
    }
    if token.expires_at.is_some_and(|e| e <= now) {
        return Err(ApiError::Unauthorized("Expired API token".into()));
    }
    let user = match state.store.find_user(&token.user_id).await? {
        Some(u) if u.active && u.deleted.is_none() => u,
        _ => return Err(ApiError::Unauthorized("Inactive user".into())),
    };
    // Record use at most once a minute (and each new User-Agent, up to 20): no write on every request.
    let stale = token
        .last_used_at
        .is_none_or(|t| (now - t).num_seconds() >= 60);
    let new_agent = agent
        .filter(|a| !token.user_agents.contains(a) && token.user_agents.len() < 20)
        .inspect(|a| token.user_agents.push(a.clone()));
    if stale || new_agent.is_some() {
        token.last_used_at = Some(now);
        state.store.touch_api_token(&token).await?;
    }
    let memberships = state.store.memberships_of(&user.id).await?;
    // Every token is udata's `admin` scope for now; the hardening work stores narrower ones.
    Ok(Identity {
        user,
        memberships,
        scopes: vec![Scope::Admin],
    })
}

/// May `who` see this dataset although it is private or deleted?
pub fn can_read_hidden(who: Option<&Identity>, ds: &Dataset) -> bool {
    may_on_dataset(who, ds, false, DatasetAction::ReadHidden)
}

/// What a caller may edit: computed once per request, so that rendering a page of datasets costs
/// no query per dataset (partial editors' assignments are loaded in one query, only for them).
pub struct EditRights<'a> {
    who: &'a Identity,
    assigned: std::collections::HashSet<String>,
}

impl<'a> EditRights<'a> {
    pub async fn load(state: &AppState, who: &'a Identity) -> Result<EditRights<'a>, ApiError> {
        let assigned = if who.is_partial_editor() {
            state
                .store
                .list_assigned_datasets(&who.user.id)
                .await?
                .into_iter()
                .collect()
        } else {
            Default::default()
        };
        Ok(EditRights { who, assigned })
    }

    /// See [`may_on_dataset`].
    pub fn may(&self, ds: &Dataset, action: DatasetAction) -> bool {
        may_on_dataset(Some(self.who), ds, self.assigned.contains(&ds.id), action)
    }

    pub fn can_edit(&self, ds: &Dataset) -> bool {
        self.may(ds, DatasetAction::Edit)
    }
}

/// May `who` edit this dataset? See [`may_on_dataset`].
pub async fn can_edit_dataset(
    state: &AppState,
    who: &Identity,
    ds: &Dataset,
) -> Result<bool, ApiError> {
    Ok(EditRights::load(state, who).await?.can_edit(ds))
}

/// 403 unless `who` may do `action` on the dataset.
pub async fn require_dataset(
    state: &AppState,
    who: &Identity,
    ds: &Dataset,
    action: DatasetAction,
) -> Result<(), ApiError> {
    if EditRights::load(state, who).await?.may(ds, action) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// 403 unless `who` may edit the dataset.
pub async fn require_edit(state: &AppState, who: &Identity, ds: &Dataset) -> Result<(), ApiError> {
    require_dataset(state, who, ds, DatasetAction::Edit).await
}

/// Organization permissions for the caller: `(admin, member)`.
pub fn org_rights(who: Option<&Identity>, org_id: &str) -> (bool, bool) {
    (
        may_on_org(who, org_id, OrgAction::Edit),
        may_on_org(who, org_id, OrgAction::ReadPrivate),
    )
}
