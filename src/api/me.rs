//! `/api/1/me/` (the caller's profile), `/api/1/me/api_tokens/`, and public user profiles.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{BaseUrl, JsonObject, org_ref, user_ref};
use crate::auth::{AccountUser, AuthUser};
use crate::domain::api_token::ApiToken;
use crate::domain::input::{FieldErrors, Given, finish, push_error, string_field};
use crate::domain::permissions::{Identity, Scope};
use crate::domain::time::{now, parse_client, to_api};
use crate::domain::user::User;
use crate::error::ApiError;
use crate::state::AppState;

async fn me_json(
    state: &AppState,
    base: &BaseUrl,
    who: &Identity,
    user: &User,
) -> Result<Value, ApiError> {
    let org_ids = who.org_ids();
    let orgs = state.store.organizations_by_ids(&org_ids).await?;
    let orgs: Vec<Value> = orgs
        .iter()
        .filter(|o| o.deleted.is_none())
        .map(|o| org_ref(base, Some(who), o))
        .collect();
    let mut me = user_ref(base, user);
    let extra = json!({
        "email": user.email,
        "active": user.active,
        "roles": if user.sysadmin { json!(["admin"]) } else { json!([]) },
        "website": user.website,
        "about": user.about,
        "since": to_api(&user.created_at),
        "last_login_at": null,
        "mail_cadence": "immediate",
        "notifications_paused": false,
        "password_rotation_demanded": null,
        "password_rotation_performed": null,
        "metrics": {"datasets": 0, "reuses": 0, "dataservices": 0, "following": 0, "followers": 0},
        "organizations": orgs,
    });
    if let (Some(me), Value::Object(extra)) = (me.as_object_mut(), extra) {
        me.extend(extra);
    }
    Ok(me)
}

/// `GET /me/`: the caller's profile, with their e-mail and organizations.
pub async fn get_me(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
) -> Result<Response, ApiError> {
    Ok(axum::Json(me_json(&state, &base, &who, &who.user).await?).into_response())
}

/// `PUT /me/`: first_name, last_name, email, website, about; roles and active are ignored.
pub async fn update_me(
    State(state): State<AppState>,
    AccountUser(who): AccountUser,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let user = crate::ops::users::update_profile(&state, &who.actor(), &who.user.id, &body).await?;
    Ok(axum::Json(me_json(&state, &base, &who, &user).await?).into_response())
}

fn token_json(t: &ApiToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "token_prefix": t.token_prefix,
        "scopes": t.scopes.iter().map(Scope::to_string).collect::<Vec<_>>(),
        "kind": "api_key",
        "created_at": to_api(&t.created_at),
        "last_used_at": t.last_used_at.as_ref().map(to_api),
        "user_agents": t.user_agents,
        "revoked_at": t.revoked_at.as_ref().map(to_api),
        "expires_at": t.expires_at.as_ref().map(to_api),
    })
}

/// `GET /me/api_tokens/`: the caller's unrevoked tokens, by prefix only.
pub async fn list_api_tokens(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Response, ApiError> {
    let tokens = state.store.list_api_tokens(&who.user.id).await?;
    Ok(axum::Json(tokens.iter().map(token_json).collect::<Vec<_>>()).into_response())
}

/// `POST /me/api_tokens/`: the answer carries the token itself, the only time it is shown.
pub async fn create_api_token(
    State(state): State<AppState>,
    AccountUser(who): AccountUser,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let (name, expires_at, scopes) = token_request(&state, &who, &body).await?;
    let (token, plain) = crate::ops::tokens::issue_scoped_api_token(
        &state,
        &who.actor(),
        &who.user.id,
        name,
        scopes,
        expires_at,
    )
    .await?;
    let mut body = token_json(&token);
    body["token"] = Value::String(plain.expose().to_string());
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// A token request's `name` (empty: none), `expires_at`, which must be a future date, and `scopes`
/// (beyond udata: a list of `admin`, `read`, `organization:<id>`, `dataset:<id>`; absent: `admin`).
async fn token_request(
    state: &AppState,
    who: &Identity,
    body: &Map<String, Value>,
) -> Result<(Option<String>, Option<DateTime<Utc>>, Vec<Scope>), ApiError> {
    let mut errors = FieldErrors::new();
    let name = match string_field(body, "name", 255, &mut errors) {
        Given::Value(n) if !n.is_empty() => Some(n),
        _ => None,
    };
    let expires_at = match body.get("expires_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match parse_client(s) {
            Some(t) if t > now() => Some(t),
            Some(_) => {
                push_error(
                    &mut errors,
                    "expires_at",
                    "Expiration date must be in the future",
                );
                None
            }
            None => {
                push_error(&mut errors, "expires_at", "Not a valid datetime value.");
                None
            }
        },
        Some(_) => {
            push_error(&mut errors, "expires_at", "Not a valid datetime value.");
            None
        }
    };
    let scopes = token_scopes(state, who, body.get("scopes"), &mut errors).await?;
    finish(errors)?;
    Ok((name, expires_at, scopes))
}

/// The `scopes` of a token request, each known and pointing to something `who` may hold it for.
async fn token_scopes(
    state: &AppState,
    who: &Identity,
    given: Option<&Value>,
    errors: &mut FieldErrors,
) -> Result<Vec<Scope>, ApiError> {
    let texts = match given {
        None | Some(Value::Null) => return Ok(vec![Scope::Admin]),
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_SCOPES => items,
        Some(_) => {
            push_error(
                errors,
                "scopes",
                format!("Must be a list of 1 to {MAX_SCOPES} scopes"),
            );
            return Ok(Vec::new());
        }
    };
    let mut scopes = Vec::new();
    for text in texts {
        let Some(scope) = text.as_str().and_then(Scope::parse) else {
            push_error(
                errors,
                "scopes",
                format!("Invalid scope {text}: use admin, read, organization:<id> or dataset:<id>"),
            );
            continue;
        };
        match crate::ops::tokens::check_scope(state, who, &scope).await? {
            Some(why) => push_error(errors, "scopes", why),
            None => scopes.push(scope),
        }
    }
    Ok(scopes)
}

/// The most scopes one token may hold (each is checked against the store on creation).
const MAX_SCOPES: usize = 20;

/// `DELETE /me/api_tokens/{id}/`: only the caller's own tokens.
pub async fn revoke_api_token(
    State(state): State<AppState>,
    AccountUser(who): AccountUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    crate::ops::tokens::revoke_api_token(&state, &who.actor(), &who.user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/1/users/{id}/`: a public profile (no e-mail).
pub async fn get_user(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let user = state
        .store
        .find_user(&key)
        .await?
        .filter(|u| u.deleted.is_none())
        .ok_or_else(ApiError::not_found)?;
    let mut json = user_ref(&base, &user);
    json["since"] = Value::String(to_api(&user.created_at));
    json["website"] = json!(user.website);
    json["about"] = json!(user.about);
    Ok(axum::Json(json).into_response())
}
