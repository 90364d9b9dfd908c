//! Who is calling: `X-API-KEY` → keyed hash → token → user, checked on every request, and the
//! permission checks that need the store (a partial editor's assignments). The rules themselves are
//! pure and live in `domain::permissions`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use chrono::{DateTime, Utc};

use crate::domain::api_token::ApiToken;
use crate::domain::dataset::Dataset;
use crate::domain::permissions::{DatasetAction, Identity, OrgAction, may_on_dataset, may_on_org};
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

/// A caller whose token may write on the account itself (the `admin` scope): their profile, their
/// tokens, their invitations, a new organization, a dataset outside any organization. 401 without a
/// key, 403 with a narrower token (see `domain::permissions::Scope`).
#[derive(Debug, Clone)]
pub struct AccountUser(pub Arc<Identity>);

impl<S: Send + Sync> FromRequestParts<S> for AccountUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AuthUser(who) = AuthUser::from_request_parts(parts, state).await?;
        if who.may_write_account() {
            Ok(AccountUser(who))
        } else {
            Err(ApiError::Forbidden)
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
            let agent = user_agent(req.headers());
            match identify(&state, &key, agent).await {
                Ok(identity) => Caller(Some(identity)),
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
    agent: Option<&str>,
) -> Result<Arc<Identity>, ApiError> {
    let hash = state.config.token_key.hash(key);
    let known = match state.identities.get(&hash, state.store.changes().current()) {
        Some(known) => known,
        None => {
            // The generation is read before the rows: a write committed meanwhile makes this entry
            // out of date at once rather than kept for a whole TTL.
            let generation = state.store.changes().current();
            let known = Arc::new(resolve(state, &hash).await?);
            state
                .identities
                .insert(hash, generation, Arc::clone(&known));
            known
        }
    };
    admit(state, &known, agent).await
}

/// The identity of the `X-API-KEY` among `headers` when this node holds it resolved already (see
/// [`IdentityCache`]), with the key's keyed hash, checked and its use noted as [`authenticate`]
/// does; `None` when it must be resolved or refused (then [`authenticate`] does, with the store).
/// What answers a request from the response cache uses: it never reads the store.
pub(crate) async fn identify_known(
    state: &AppState,
    headers: &HeaderMap,
) -> Option<(String, Arc<Identity>)> {
    let key = headers.get("x-api-key")?;
    let hash = state
        .config
        .token_key
        .hash(String::from_utf8_lossy(key.as_bytes()).trim());
    let known = state
        .identities
        .get(&hash, state.store.changes().current())?;
    let identity = admit(state, &known, user_agent(headers)).await.ok()?;
    Some((hash, identity))
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
}

/// A resolved key, at the time of a request: refused once expired, its use noted.
async fn admit(
    state: &AppState,
    known: &KnownKey,
    agent: Option<&str>,
) -> Result<Arc<Identity>, ApiError> {
    let now = now();
    // Expiry is a matter of time, not of the database: checked on every request, cached or not.
    if known.expires_at.is_some_and(|e| e <= now) {
        return Err(ApiError::Unauthorized("Expired API token".into()));
    }
    if let Some(token) = known.note_use(now, agent) {
        state.store.touch_api_token(&token).await?;
    }
    Ok(Arc::clone(&known.identity))
}

/// Reads the token whose keyed hash is `hash`, its user and their memberships.
async fn resolve(state: &AppState, hash: &str) -> Result<KnownKey, ApiError> {
    let Some(token) = state.store.find_api_token_by_hash(hash).await? else {
        return Err(ApiError::Unauthorized("Invalid API token".into()));
    };
    if token.revoked_at.is_some() {
        return Err(ApiError::Unauthorized("Revoked API token".into()));
    }
    if token.expires_at.is_some_and(|e| e <= now()) {
        return Err(ApiError::Unauthorized("Expired API token".into()));
    }
    let user = match state.store.find_user(&token.user_id).await? {
        Some(u) if u.active && u.deleted.is_none() => u,
        _ => return Err(ApiError::Unauthorized("Inactive user".into())),
    };
    let memberships = state.store.memberships_of(&user.id).await?;
    Ok(KnownKey {
        identity: Arc::new(Identity {
            user,
            memberships,
            scopes: token.scopes.clone(),
            token_id: Some(token.id.clone()),
        }),
        expires_at: token.expires_at,
        use_record: std::sync::Mutex::new(token),
    })
}

/// An API key resolved into an identity, as this node keeps it.
pub struct KnownKey {
    identity: Arc<Identity>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The token as last written, for the record of its use (`last_used_at`, user agents).
    use_record: std::sync::Mutex<ApiToken>,
}

impl KnownKey {
    /// Notes a use of the key; returns the token to write when the record must be written: at most
    /// once a minute per token and node (and for each new User-Agent, up to 20), never on every
    /// request.
    fn note_use(&self, now: DateTime<Utc>, agent: Option<&str>) -> Option<ApiToken> {
        let mut token = self
            .use_record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stale = token
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= 60);
        let new_agent = agent
            .filter(|a| !token.user_agents.iter().any(|k| k == a) && token.user_agents.len() < 20)
            .map(str::to_string);
        if !stale && new_agent.is_none() {
            return None;
        }
        token.user_agents.extend(new_agent);
        token.last_used_at = Some(now);
        Some(token.clone())
    }
}

/// The identities this node resolved from API keys, by keyed hash, so that an authenticated request
/// costs no query in the common case. An entry serves while both hold:
///
/// - no write was committed since it was read, by any node or process (the store's generation, see
///   `store::Changes`: this node's writes at once, others' within about a second); so a revocation,
///   a deactivation, a membership or role change is seen by every node within that delay;
/// - it is younger than the TTL (`RUDATA_IDENTITY_TTL`, default 5 s): the bound promised whatever
///   happens to the change notifications.
///
/// While the store cannot tell about others' writes (`Changes::current` is `None`), nothing is
/// kept. Unknown, revoked and expired keys are never kept (a flood of random keys cannot fill it).
pub struct IdentityCache {
    entries: Option<quick_cache::sync::Cache<String, CachedKey>>,
    ttl: std::time::Duration,
}

#[derive(Clone)]
struct CachedKey {
    known: Arc<KnownKey>,
    generation: u64,
    resolved: std::time::Instant,
}

/// How many keys a node keeps resolved.
const IDENTITY_CACHE_ENTRIES: usize = 10_000;

impl IdentityCache {
    /// A cache keeping identities at most `ttl` (zero: none kept).
    pub fn new(ttl: std::time::Duration) -> Self {
        IdentityCache {
            entries: (!ttl.is_zero())
                .then(|| quick_cache::sync::Cache::new(IDENTITY_CACHE_ENTRIES)),
            ttl,
        }
    }

    fn get(&self, hash: &str, generation: Option<u64>) -> Option<Arc<KnownKey>> {
        let entry = self.entries.as_ref()?.get(hash)?;
        (Some(entry.generation) == generation && entry.resolved.elapsed() < self.ttl)
            .then_some(entry.known)
    }

    fn insert(&self, hash: String, generation: Option<u64>, known: Arc<KnownKey>) {
        if let (Some(entries), Some(generation)) = (&self.entries, generation) {
            let resolved = std::time::Instant::now();
            entries.insert(
                hash,
                CachedKey {
                    known,
                    generation,
                    resolved,
                },
            );
        }
    }
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
