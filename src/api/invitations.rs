//! Invitations into organizations: an admin invites (`POST /organizations/{org}/member/`), lists
//! (`GET /organizations/{org}/membership/`) and cancels them; the invitee lists theirs
//! (`GET /me/org_invitations/`), accepts or refuses one. udata's paths and shapes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::organizations::mask_email;
use super::{BaseUrl, JsonObject, QueryPairs, lookup, org_ref, user_ref};
use crate::auth::{AccountUser, AuthUser};
use crate::domain::organization::{Invitation, Role};
use crate::domain::permissions::{OrgAction, may_on_org};
use crate::domain::time::to_api;
use crate::domain::user::{User, parse_email};
use crate::error::ApiError;
use crate::ops::organizations::{Invitee, member_field_error};
use crate::state::AppState;

/// `POST /organizations/{org}/member/`: invites a user (by id) or an e-mail address with a role.
pub async fn invite_member(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key, OrgAction::ManageMembers).await?;
    let invitee = find_invitee(&state, &body).await?;
    let role = match body.get("role").and_then(Value::as_str) {
        None => Role::Editor,
        Some(r) => Role::parse(r)
            .ok_or_else(|| member_field_error("role", &format!("Invalid role '{r}'")))?,
    };
    let comment = body
        .get("comment")
        .and_then(Value::as_str)
        .map(str::to_string);
    let inv = crate::ops::organizations::invite_member(
        &state,
        &who.actor(),
        &org.id,
        invitee,
        role,
        comment,
    )
    .await?;
    let users = invitees(&state, std::slice::from_ref(&inv)).await?;
    let json = invitation_json(&base, &inv, &users);
    Ok((StatusCode::CREATED, axum::Json(json)).into_response())
}

/// The invitee a body names, by `user` (id or slug, or `{"id": …}`) or by `email`; exactly one of
/// them. An address is invited whether or not an account has it (the answer must not tell).
async fn find_invitee(state: &AppState, body: &Map<String, Value>) -> Result<Invitee, ApiError> {
    let user_key = body
        .get("user")
        .and_then(|v| v.as_str().or_else(|| v.get("id").and_then(Value::as_str)));
    let email = body.get("email").and_then(Value::as_str);
    match (user_key, email) {
        (Some(_), Some(_)) => Err(member_field_error(
            "user",
            "Cannot provide both user and email",
        )),
        (None, None) => Err(member_field_error(
            "user",
            "Either user or email is required",
        )),
        (Some(id), None) => state
            .store
            .find_user(id)
            .await?
            .map(|u| Invitee::User(u.id))
            .ok_or_else(|| member_field_error("user", &format!("Unknown user '{id}'"))),
        (None, Some(e)) => {
            let email = parse_email(e)
                .ok_or_else(|| member_field_error("email", "Invalid email address"))?;
            let account = state.store.find_user_by_email(&email).await?.map(|u| u.id);
            Ok(Invitee::Email { email, account })
        }
    }
}

/// The users invited by id among `invs` (one query).
async fn invitees(state: &AppState, invs: &[Invitation]) -> Result<Vec<User>, ApiError> {
    let ids: Vec<String> = invs
        .iter()
        .filter(|i| i.email.is_none())
        .filter_map(|i| i.user_id.clone())
        .collect();
    Ok(state.store.users_by_ids(&ids).await?)
}

/// An invitation as udata renders a MembershipRequest. One made by e-mail shows the address and no
/// user, whether or not an account has the address (udata shows the account: that would tell).
fn invitation_json(base: &BaseUrl, inv: &Invitation, users: &[User]) -> Value {
    let user = match (&inv.email, &inv.user_id) {
        (None, Some(id)) => users.iter().find(|u| &u.id == id).map(|u| {
            let mut user_json = user_ref(base, u);
            user_json["email"] = Value::String(mask_email(&u.email));
            user_json
        }),
        _ => None,
    };
    json!({
        "id": inv.id,
        "kind": "invitation",
        "status": inv.status,
        "role": inv.role.as_str(),
        "comment": inv.comment,
        "created": to_api(&inv.created_at),
        "email": inv.email,
        "assignments": [],
        "user": user,
    })
}

/// `GET /organizations/{org}/membership/`: the organization's invitations, newest first, for its
/// admins (`?status=` filters); `?user=<own id>` lets a user see their own.
pub async fn list_org_invitations(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path(key): Path<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let org = match state.store.find_organization(&key).await? {
        crate::store::Lookup::Found(o) => o,
        _ => return Err(ApiError::not_found()),
    };
    let admin = may_on_org(Some(&who), &org.id, OrgAction::ManageMembers);
    let for_user = query.get("user");
    if !admin && for_user != Some(who.user.id.as_str()) {
        return Err(ApiError::Forbidden);
    }
    let mut invs = state
        .store
        .list_org_invitations(&org.id, query.get("status"))
        .await?;
    if let Some(user) = for_user {
        // Made by e-mail: not shown as the user's, as they are not rendered as such.
        invs.retain(|i| i.email.is_none() && i.user_id.as_deref() == Some(user));
    }
    let users = invitees(&state, &invs).await?;
    let list: Vec<Value> = invs
        .iter()
        .map(|i| invitation_json(&base, i, &users))
        .collect();
    Ok(axum::Json(list).into_response())
}

/// `POST /organizations/{org}/membership/{id}/cancel/`: an admin cancels a pending invitation.
pub async fn cancel_invitation(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    Path((key, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key, OrgAction::ManageMembers).await?;
    crate::ops::organizations::cancel_invitation(&state, &who.actor(), &org.id, &id).await?;
    Ok(axum::Json(json!({})).into_response())
}

/// `GET /me/org_invitations/`: the caller's pending invitations (deleted organizations left out),
/// as udata's PendingInvitation.
pub async fn list_my_invitations(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
) -> Result<Response, ApiError> {
    let invs = state
        .store
        .list_pending_invitations_of(&who.user.id)
        .await?;
    let org_ids: Vec<String> = invs.iter().map(|i| i.org_id.clone()).collect();
    let orgs = state.store.organizations_by_ids(&org_ids).await?;
    let list: Vec<Value> = invs
        .iter()
        .filter_map(|i| {
            let org = orgs.iter().find(|o| o.id == i.org_id)?;
            Some(json!({
                "id": i.id,
                "organization": org_ref(&base, Some(&who), org),
                "role": i.role.as_str(),
                "comment": i.comment,
                "created": to_api(&i.created_at),
                "assignments": [],
            }))
        })
        .collect();
    Ok(axum::Json(list).into_response())
}

/// `POST /me/org_invitations/{id}/accept/`: only the invitee may accept.
pub async fn accept_invitation(
    State(state): State<AppState>,
    AccountUser(who): AccountUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    crate::ops::organizations::accept_invitation(&state, &who.actor(), &who.user.id, &id).await?;
    Ok(axum::Json(json!({"message": "Invitation accepted"})).into_response())
}

/// `POST /me/org_invitations/{id}/refuse/`: only the invitee may refuse.
pub async fn refuse_invitation(
    State(state): State<AppState>,
    AccountUser(who): AccountUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    crate::ops::organizations::refuse_invitation(&state, &who.actor(), &who.user.id, &id).await?;
    Ok(axum::Json(json!({"message": "Invitation refused"})).into_response())
}
