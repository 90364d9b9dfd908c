//! API token operations: issue a token to a user (the API's `/me/api_tokens/`, the CLI, first start)
//! and revoke one.

use chrono::{DateTime, Utc};

use crate::domain::api_token::{ApiToken, PlainToken};
use crate::domain::ids::new_object_id;
use crate::domain::time::now;
use crate::error::ApiError;
use crate::state::AppState;

/// Issues a token to user `user_id` and returns it with its plaintext, which exists only in this
/// answer: the store keeps a keyed hash. `expires_at` is taken as given (the API refuses past dates
/// before calling; tests issue expired tokens on purpose).
pub async fn issue_api_token(
    state: &AppState,
    user_id: &str,
    name: Option<String>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(ApiToken, PlainToken), ApiError> {
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
    };
    let mut tx = state.store.begin().await?;
    tx.insert_api_token(&token, &state.config.token_key.hash(plain.expose()))
        .await?;
    tx.commit().await?;
    Ok((token, plain))
}

/// Revokes token `id` of user `user_id`. Another user's token is not found (404), as an unknown one
/// is; an already revoked one is gone (410).
pub async fn revoke_api_token(state: &AppState, user_id: &str, id: &str) -> Result<(), ApiError> {
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
    tx.commit().await?;
    Ok(())
}
