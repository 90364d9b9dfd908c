//! API token operations: issue a token to a user (the API's `/me/api_tokens/`, the CLI, first start)
//! and revoke one.

use chrono::{DateTime, Utc};

use crate::domain::activity::{Actor, NewActivity};
use crate::domain::api_token::{ApiToken, PlainToken};
use crate::domain::ids::new_object_id;
use crate::domain::permissions::{DatasetAction, Identity, Scope, may_on_dataset};
use crate::domain::time::now;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Lookup;

/// Issues a token to user `user_id` and returns it with its plaintext, which exists only in this
/// answer: the store keeps a keyed hash. `expires_at` is taken as given (the API refuses past dates
/// before calling; tests issue expired tokens on purpose). The token holds the `admin` scope.
pub async fn issue_api_token(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    name: Option<String>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(ApiToken, PlainToken), ApiError> {
    issue_scoped_api_token(state, actor, user_id, name, vec![Scope::Admin], expires_at).await
}

/// [`issue_api_token`] with the given scopes (checked first by [`check_scopes`]; none: `admin`).
pub async fn issue_scoped_api_token(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    name: Option<String>,
    mut scopes: Vec<Scope>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(ApiToken, PlainToken), ApiError> {
    if scopes.is_empty() {
        scopes.push(Scope::Admin);
    }
    scopes.dedup();
    let plain = PlainToken::generate();
    let token = ApiToken {
        id: new_object_id(),
        user_id: user_id.to_string(),
        name,
        token_prefix: plain.display_prefix(),
        created_at: now(),
        last_used_at: None,
        user_agents: Vec::new(),
        revoked_at: None,
        expires_at,
        scopes,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_api_token(&token, &state.config.token_key.hash(plain.expose()))
        .await?;
    tx.record(actor, &token_activity("user:token:created", &token))
        .await?;
    tx.commit().await?;
    Ok((token, plain))
}

/// Revokes token `id` of user `user_id`. Another user's token is not found (404), as an unknown one
/// is; an already revoked one is gone (410).
pub async fn revoke_api_token(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    let mut tx = state.store.begin().await?;
    let token = tx
        .lock_api_token(id)
        .await?
        .filter(|t| t.user_id == user_id)
        .ok_or_else(ApiError::not_found)?;
    if token.revoked_at.is_some() {
        return Err(ApiError::Gone("API token already revoked".into()));
    }
    tx.revoke_api_token(&token.id, &now()).await?;
    tx.record(actor, &token_activity("user:token:revoked", &token))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// An entry about a token of its user (its id and display prefix, never the token).
fn token_activity(key: &'static str, token: &ApiToken) -> NewActivity {
    // The user's name is not at hand here: the entry shows the user's current name when read.
    NewActivity::user(key, &token.user_id, "")
        .with_extra("token_id", token.id.clone().into())
        .with_extra("token_prefix", token.token_prefix.clone().into())
}

/// Why `who` may not hold a token with `scope`, if so: an `organization:` scope names an existing
/// organization `who` belongs to, a `dataset:` scope an existing dataset `who` may edit (sysadmins:
/// any). Otherwise the scope would grant nothing, or tell whether a private object exists.
pub async fn check_scope(
    state: &AppState,
    who: &Identity,
    scope: &Scope,
) -> Result<Option<String>, ApiError> {
    // The check is about the user's rights, whatever the scope of the token asking.
    let mut user = who.clone();
    user.scopes = vec![Scope::Admin];
    match scope {
        Scope::Admin | Scope::Read => Ok(None),
        Scope::Organization(id) => {
            let found = match state.store.find_organization(id).await? {
                Lookup::Found(o) => o.deleted.is_none() && o.id == *id,
                _ => false,
            };
            Ok(
                (!found || !(user.is_sysadmin() || user.role_in(id).is_some()))
                    .then(|| format!("{scope}: no such organization among yours")),
            )
        }
        Scope::Dataset(id) => {
            let editable = match state.store.find_dataset(id).await? {
                Lookup::Found(row) if row.dataset.id == *id => {
                    let assigned = user.is_partial_editor()
                        && state
                            .store
                            .list_assigned_datasets(&user.user.id)
                            .await?
                            .contains(id);
                    may_on_dataset(Some(&user), &row.dataset, assigned, DatasetAction::Edit)
                }
                _ => false,
            };
            Ok((!editable).then(|| format!("{scope}: no such dataset that you may edit")))
        }
    }
}
