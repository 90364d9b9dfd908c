//! `/api/1/organizations/`: create, list, read, update, soft delete, members and invitations,
//! and the organization's datasets.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::datasets::render_page;
use super::{BaseUrl, JsonObject, QueryPairs, lookup, org_permissions, page_envelope, user_ref};
use crate::auth::{AuthUser, Caller, org_rights};
use crate::domain::ids::new_object_id;
use crate::domain::input::{
    FieldErrors, apply_opt_string, finish, object_field, push_error, required_string,
};
use crate::domain::organization::{Invitation, Member, Organization, Role};
use crate::domain::permissions::Identity;
use crate::domain::time::{now, to_api};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{DatasetFilter, MemberRow, Visibility};

use super::lookup::ORGANIZATION_DELETED as DELETED;

/// Applies an organization body (udata's OrganizationForm fields).
fn apply_org_input(
    org: &mut Organization,
    body: &Map<String, Value>,
    creating: bool,
) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    if let Some(name) = required_string(body, "name", 350, creating, &mut errors) {
        org.name = name;
    }
    if let Some(d) = required_string(body, "description", 100_000, creating, &mut errors) {
        org.description = d;
    }
    apply_opt_string(body, "acronym", 128, &mut org.acronym, &mut errors);
    apply_opt_string(body, "url", 2048, &mut org.url, &mut errors);
    if let Some(u) = org
        .url
        .clone()
        .filter(|u| body.contains_key("url") && !u.is_empty())
        && let Err(e) = crate::domain::url_check::check_public_url(&u)
    {
        push_error(&mut errors, "url", e.to_string());
    }
    apply_opt_string(body, "image_url", 2048, &mut org.image_url, &mut errors);
    apply_opt_string(
        body,
        "business_number_id",
        14,
        &mut org.business_number_id,
        &mut errors,
    );
    if let Some(extras) = object_field(body, "extras", &mut errors) {
        org.extras = extras;
    }
    finish(errors).map_err(ApiError::from)
}

/// A member with the e-mail shown as udata masks it for the context.
fn member_json(base: &BaseUrl, m: &MemberRow, full_email: bool) -> Value {
    let mut user = user_ref(base, &m.user);
    user["email"] = Value::String(if full_email {
        m.user.email.clone()
    } else {
        mask_email(&m.user.email)
    });
    user["last_login_at"] = Value::Null;
    json!({
        "user": user,
        "role": m.member.role.as_str(),
        "label": m.member.role.label(),
        "since": to_api(&m.member.since),
    })
}

fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((_, domain)) => format!("***@{domain}"),
        None => "***".to_string(),
    }
}

async fn org_json(
    state: &AppState,
    base: &BaseUrl,
    who: Option<&Identity>,
    org: &Organization,
) -> Result<Value, ApiError> {
    let members = state.store.list_members(&org.id).await?;
    let mut filter = DatasetFilter::new(Visibility::Public);
    filter.organization = Some(org.id.clone());
    let (_, datasets) = state
        .store
        .list_datasets(
            &filter,
            crate::store::PageQuery {
                page: 1,
                page_size: 1,
            },
        )
        .await?;
    let sysadmin = who.is_some_and(Identity::is_sysadmin);
    Ok(json!({
        "id": org.id,
        "name": org.name,
        "acronym": org.acronym,
        "slug": org.slug,
        "description": org.description,
        "url": org.url,
        "image_url": org.image_url,
        "logo": null,
        "logo_thumbnail": null,
        "business_number_id": org.business_number_id,
        "members": members.iter().map(|m| member_json(base, m, sysadmin)).collect::<Vec<_>>(),
        "teams": [],
        "ext": {},
        "zone": null,
        "extras": org.extras,
        "badges": [],
        "banner_color": null,
        "banner_image": null,
        "banner_image_position": 50,
        "permissions": org_permissions(who, &org.id),
        "metrics": {
            "dataservices": 0, "dataservices_by_months": 0, "datasets": datasets, "datasets_by_months": 0,
            "datasets_followers_by_months": 0, "datasets_reuses_by_months": 0, "followers": 0,
            "members": members.len(), "reuses": 0, "reuses_by_months": 0, "reuses_followers_by_months": 0, "views": 0,
        },
        "created_at": to_api(&org.created_at),
        "last_modified": to_api(&org.last_modified),
        "deleted": org.deleted.as_ref().map(to_api),
        "presentation_blocs_published_at": null,
        "uri": format!("{}/api/1/organizations/{}/", base.api, org.slug),
        "page": null,
    }))
}

/// Creates an organization with `admin` as its administrator (shared by the API and the CLI).
pub async fn create_organization_for(
    state: &AppState,
    admin_id: &str,
    body: &Map<String, Value>,
) -> Result<Organization, ApiError> {
    let now = now();
    let mut org = Organization {
        id: new_object_id(),
        slug: String::new(),
        name: String::new(),
        acronym: None,
        description: String::new(),
        url: None,
        image_url: None,
        business_number_id: None,
        extras: Map::new(),
        created_at: now,
        last_modified: now,
        deleted: None,
    };
    apply_org_input(&mut org, body, true)?;
    state.store.insert_organization(&mut org, admin_id).await?;
    Ok(org)
}

pub async fn create_organization(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let org = create_organization_for(&state, &who.user.id, &body).await?;
    // The creator is now an admin: render with that right.
    let mut me = (*who).clone();
    me.memberships.push(Member {
        org_id: org.id.clone(),
        user_id: who.user.id.clone(),
        role: Role::Admin,
        since: org.created_at,
    });
    let json = org_json(&state, &base, Some(&me), &org).await?;
    Ok((StatusCode::CREATED, axum::Json(json)).into_response())
}

pub async fn list_organizations(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let page = query.page(20)?;
    let (orgs, total) = state
        .store
        .list_organizations(page.page, page.page_size)
        .await?;
    let mut data = Vec::with_capacity(orgs.len());
    for o in &orgs {
        data.push(org_json(&state, &base, caller.identity(), o).await?);
    }
    Ok(axum::Json(page_envelope(
        &base,
        "/api/1/organizations/",
        &query,
        page,
        total,
        data,
    )?)
    .into_response())
}

pub async fn get_organization(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_read(&state, caller.identity(), &key, &uri).await?;
    Ok(axum::Json(org_json(&state, &base, caller.identity(), &org).await?).into_response())
}

pub async fn update_organization(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key).await?;
    let (_, org) = state
        .store
        .edit_organization(&org.id, |org: &mut Organization| -> Result<(), ApiError> {
            if org.deleted.is_some() {
                return Err(ApiError::Gone(DELETED.into()));
            }
            apply_org_input(org, &body, false)?;
            org.last_modified = now();
            Ok(())
        })
        .await?;
    Ok(axum::Json(org_json(&state, &base, Some(&who), &org).await?).into_response())
}

pub async fn delete_organization(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key).await?;
    state
        .store
        .edit_organization(&org.id, |org: &mut Organization| -> Result<(), ApiError> {
            if org.deleted.is_some() {
                return Err(ApiError::Gone(DELETED.into()));
            }
            let now = now();
            org.deleted = Some(now);
            org.last_modified = now;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /organizations/{org}/datasets/`: members see private ones; deleted ones are not filtered out (udata).
pub async fn list_organization_datasets(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_read(&state, caller.identity(), &key, &uri).await?;
    let (_, member) = org_rights(caller.identity(), &org.id);
    let mut filter = DatasetFilter::new(if member {
        Visibility::All
    } else {
        Visibility::NotPrivate
    });
    filter.organization = Some(org.id.clone());
    let page = query.page(20)?;
    let path = format!("/api/1/organizations/{}/datasets/", org.slug);
    render_page(
        &state,
        &base,
        caller.identity(),
        &path,
        &query,
        &filter,
        page,
    )
    .await
}

fn invite_error(field: &str, msg: &str) -> ApiError {
    // The membership endpoints answer with plain-string field errors and the same text as message (udata's shape there).
    let mut errors = Map::new();
    errors.insert(field.into(), Value::String(msg.into()));
    ApiError::InvalidField(errors, msg.into())
}

/// `POST /organizations/{org}/member/`: invites a user (by id or e-mail) with a role.
pub async fn invite_member(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key).await?;
    let user_key = body
        .get("user")
        .and_then(|v| v.as_str().or_else(|| v.get("id").and_then(Value::as_str)));
    let email = body.get("email").and_then(Value::as_str);
    let user = match (user_key, email) {
        (Some(_), Some(_)) => {
            return Err(invite_error("user", "Cannot provide both user and email"));
        }
        (None, None) => return Err(invite_error("user", "Either user or email is required")),
        (Some(id), None) => state
            .store
            .find_user(id)
            .await?
            .ok_or_else(|| invite_error("user", &format!("Unknown user '{id}'")))?,
        (None, Some(e)) => {
            let e = crate::domain::user::parse_email(e)
                .ok_or_else(|| invite_error("email", "Invalid email address"))?;
            // rudata sends no mail: only existing accounts can be invited.
            state
                .store
                .find_user_by_email(&e)
                .await?
                .ok_or_else(|| invite_error("email", "No account with this email address"))?
        }
    };
    let role = match body.get("role").and_then(Value::as_str) {
        None => Role::Editor,
        Some(r) => {
            Role::parse(r).ok_or_else(|| invite_error("role", &format!("Invalid role '{r}'")))?
        }
    };
    if state
        .store
        .memberships_of(&user.id)
        .await?
        .iter()
        .any(|m| m.org_id == org.id)
    {
        return Err(invite_error("user", "User is already a member"));
    }
    let inv = Invitation {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org.id.clone(),
        user_id: user.id.clone(),
        role,
        comment: body
            .get("comment")
            .and_then(Value::as_str)
            .map(str::to_string),
        status: "pending".into(),
        created_at: now(),
    };
    state.store.insert_invitation(&inv).await?;
    let mut user_json = user_ref(&base, &user);
    user_json["email"] = Value::String(mask_email(&user.email));
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": inv.id,
            "kind": "invitation",
            "status": inv.status,
            "role": inv.role.as_str(),
            "comment": inv.comment,
            "created": to_api(&inv.created_at),
            "email": null,
            "assignments": [],
            "user": user_json,
        })),
    )
        .into_response())
}

/// `PUT /organizations/{org}/member/{user}/`: changes a member's role.
pub async fn update_member(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path((key, user_key)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key).await?;
    let role_text = body.get("role").and_then(Value::as_str).unwrap_or("");
    let role = Role::parse(role_text).ok_or_else(|| {
        let msg = format!("'{role_text}' is not a valid choice. Valid choices: ['admin', 'editor', 'partial_editor']");
        invite_error("role", &msg)
    })?;
    let members = state.store.list_members(&org.id).await?;
    let mut m = members
        .into_iter()
        .find(|m| m.user.id == user_key || m.user.slug == user_key)
        .ok_or_else(ApiError::not_found)?;
    m.member.role = role;
    state.store.upsert_member(&m.member).await?;
    Ok(axum::Json(member_json(&base, &m, who.is_sysadmin())).into_response())
}

/// `DELETE /organizations/{org}/member/{user}/`.
pub async fn delete_member(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    Path((key, user_key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key).await?;
    let members = state.store.list_members(&org.id).await?;
    let m = members
        .into_iter()
        .find(|m| m.user.id == user_key || m.user.slug == user_key)
        .ok_or_else(ApiError::not_found)?;
    state.store.delete_member(&org.id, &m.user.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /me/org_invitations/{id}/accept/`.
pub async fn accept_invitation(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let inv = state
        .store
        .find_invitation(&id)
        .await?
        .filter(|i| i.user_id == who.user.id)
        .ok_or_else(|| ApiError::NotFound("Invitation not found".into()))?;
    if inv.status != "pending" {
        return Err(ApiError::BadRequest("Invitation is not pending".into()));
    }
    state
        .store
        .accept_invitation(&inv, &now())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => {
                ApiError::BadRequest("Invitation is not pending".into())
            }
            other => other.into(),
        })?;
    Ok(axum::Json(json!({"message": "Invitation accepted"})).into_response())
}
