//! Who is calling: `X-API-KEY` → keyed hash → token → user, checked on every request,
//! and the permission rules that follow from the caller's roles.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::domain::dataset::Dataset;
use crate::domain::organization::{Member, Role};
use crate::domain::time::now;
use crate::domain::user::User;
use crate::error::ApiError;

/// An authenticated user and their memberships.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    pub memberships: Vec<Member>,
}

impl Identity {
    pub fn is_sysadmin(&self) -> bool {
        self.user.sysadmin
    }

    pub fn role_in(&self, org_id: &str) -> Option<Role> {
        self.memberships
            .iter()
            .find(|m| m.org_id == org_id)
            .map(|m| m.role)
    }

    pub fn org_ids(&self) -> Vec<String> {
        self.memberships.iter().map(|m| m.org_id.clone()).collect()
    }
}

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
    Ok(Identity { user, memberships })
}

/// May `who` see this dataset although it is private or deleted? Owner, any member of its
/// organization, or a sysadmin.
pub fn can_read_hidden(who: Option<&Identity>, ds: &Dataset) -> bool {
    let Some(who) = who else { return false };
    who.is_sysadmin()
        || ds.owner_id.as_deref() == Some(who.user.id.as_str())
        || ds
            .organization_id
            .as_deref()
            .is_some_and(|o| who.role_in(o).is_some())
}

/// What a caller may edit: computed once per request, so that rendering a page of datasets costs
/// no query per dataset (partial editors' assignments are loaded in one query, only for them).
pub struct EditRights<'a> {
    who: &'a Identity,
    assigned: std::collections::HashSet<String>,
}

impl<'a> EditRights<'a> {
    pub async fn load(state: &AppState, who: &'a Identity) -> Result<EditRights<'a>, ApiError> {
        let partial = who
            .memberships
            .iter()
            .any(|m| m.role == Role::PartialEditor);
        let assigned = if partial {
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

    /// Owner, organization admin or editor, a partial editor assigned to it, or a sysadmin.
    pub fn can_edit(&self, ds: &Dataset) -> bool {
        let who = self.who;
        if who.is_sysadmin() || ds.owner_id.as_deref() == Some(who.user.id.as_str()) {
            return true;
        }
        match ds.organization_id.as_deref().and_then(|o| who.role_in(o)) {
            Some(Role::Admin | Role::Editor) => true,
            Some(Role::PartialEditor) => self.assigned.contains(&ds.id),
            None => false,
        }
    }
}

/// May `who` edit (and delete) this dataset? See [`EditRights::can_edit`].
pub async fn can_edit_dataset(
    state: &AppState,
    who: &Identity,
    ds: &Dataset,
) -> Result<bool, ApiError> {
    Ok(EditRights::load(state, who).await?.can_edit(ds))
}

/// 403 unless `who` may edit the dataset.
pub async fn require_edit(state: &AppState, who: &Identity, ds: &Dataset) -> Result<(), ApiError> {
    if can_edit_dataset(state, who, ds).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Organization permissions for the caller: `(admin, member)`.
pub fn org_rights(who: Option<&Identity>, org_id: &str) -> (bool, bool) {
    match who {
        None => (false, false),
        Some(w) if w.is_sysadmin() => (true, true),
        Some(w) => match w.role_in(org_id) {
            Some(Role::Admin) => (true, true),
            Some(_) => (false, true),
            None => (false, false),
        },
    }
}
