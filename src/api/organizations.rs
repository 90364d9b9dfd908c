//! `/api/1/organizations/`: create, list, read, update, soft delete, members, and the
//! organization's datasets. Invitations are in `api/invitations.rs`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::datasets::render_page;
use super::{BaseUrl, JsonObject, QueryPairs, lookup, org_permissions, page_envelope, user_ref};
use crate::auth::{AccountUser, AuthUser, Caller};
use crate::domain::organization::{Organization, Role};
use crate::domain::permissions::{Identity, OrgAction, may_on_org};
use crate::domain::time::to_api;
use crate::error::ApiError;
use crate::ops::organizations::{NewOrganization, member_field_error};
use crate::state::AppState;
use crate::store::{DatasetFilter, MemberRow, Visibility};

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

pub(crate) fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((_, domain)) => format!("***@{domain}"),
        None => "***".to_string(),
    }
}

pub(crate) async fn org_json(
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

/// `POST /organizations/`: the caller becomes the new organization's administrator.
pub async fn create_organization(
    State(state): State<AppState>,
    AccountUser(who): AccountUser,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let new = NewOrganization::from_form(&body)?;
    let (org, admin) =
        crate::ops::organizations::create_organization(&state, &who.actor(), &who.user.id, new)
            .await?;
    // Rendered with the rights the caller has now, as the organization's admin.
    let mut me = (*who).clone();
    me.memberships.push(admin);
    let json = org_json(&state, &base, Some(&me), &org).await?;
    Ok((StatusCode::CREATED, axum::Json(json)).into_response())
}

/// `GET /organizations/`: a page of organizations, deleted ones left out.
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

/// `GET /organizations/{org}/`: by id or slug (an old slug redirects).
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

/// `PUT /organizations/{org}/`: a partial update, for the organization's admins.
pub async fn update_organization(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path(key): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key, OrgAction::Edit).await?;
    let org = crate::ops::organizations::update_organization(&state, &who.actor(), &org.id, &body)
        .await?;
    Ok(axum::Json(org_json(&state, &base, Some(&who), &org).await?).into_response())
}

/// `DELETE /organizations/{org}/`: a soft delete.
pub async fn delete_organization(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key, OrgAction::Edit).await?;
    crate::ops::organizations::delete_organization(&state, &who.actor(), &org.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /organizations/{org}/datasets/`: members (and sysadmins) see private and deleted ones;
/// others see neither (udata shows deleted ones to anyone: see DESIGN §3.3).
/// Sorted by `sort` (v1's keys), newest first by default.
pub async fn list_organization_datasets(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(key): Path<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_read(&state, caller.identity(), &key, &uri).await?;
    let member = may_on_org(caller.identity(), &org.id, OrgAction::ReadPrivate);
    let mut filter = DatasetFilter::new(if member {
        Visibility::All
    } else {
        Visibility::NotHidden
    });
    filter.organization = Some(org.id.clone());
    // udata applies only `sort` (and the page) here, whatever other list parameter is given.
    if let Some((key, descending)) =
        super::dataset_params::sort(&query, &super::dataset_params::SORTS, "")?
    {
        filter.sort = key;
        filter.descending = descending;
    }
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

/// `PUT /organizations/{org}/member/{user}/`: changes a member's role.
pub async fn update_member(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    base: BaseUrl,
    Path((key, user_key)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key, OrgAction::ManageMembers).await?;
    let role_text = body.get("role").and_then(Value::as_str).unwrap_or("");
    let role = Role::parse(role_text).ok_or_else(|| {
        let msg = format!("'{role_text}' is not a valid choice. Valid choices: ['admin', 'editor', 'partial_editor']");
        member_field_error("role", &msg)
    })?;
    let m = crate::ops::organizations::change_member_role(
        &state,
        &who.actor(),
        &org.id,
        &user_key,
        role,
    )
    .await?;
    Ok(axum::Json(member_json(&base, &m, who.is_sysadmin())).into_response())
}

/// `DELETE /organizations/{org}/member/{user}/`.
pub async fn delete_member(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    Path((key, user_key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = lookup::organization_for_admin(&state, &who, &key, OrgAction::ManageMembers).await?;
    crate::ops::organizations::remove_member(&state, &who.actor(), &org.id, &user_key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
