//! Organization operations: create (with its first admin), update, soft delete; and membership:
//! invite, accept, refuse or cancel an invitation, add a member directly (the CLI), change a role,
//! remove a member. An organization always keeps an administrator.
//!
//! Every membership write first locks the organization's row, so that what it checked ("already a
//! member", "is a member") still holds when it commits, on PostgreSQL as on SQLite.

use serde_json::{Map, Value};

use crate::domain::activity::{Actor, NewActivity, changed_fields};
use crate::domain::ids::new_object_id;
use crate::domain::input::{
    FieldErrors, REQUIRED, apply_opt_string, finish, object_field, push_error, required_string,
};
use crate::domain::organization::{
    ACCEPTED, CANCELED, Invitation, Member, Organization, PENDING, REFUSED, Role,
};
use crate::domain::time::now;
use crate::domain::url_check::check_public_url;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Lookup, MemberRow, WriteTx};

/// What a deleted organization answers (410) to those who may not see it, and to any write.
pub const DELETED_MESSAGE: &str = "Organization has been deleted";

/// An organization body as udata's OrganizationForm reads it: keys absent keep their values on update.
pub type OrganizationForm = Map<String, Value>;

const NAME_MAX: usize = 350;
const DESCRIPTION_MAX: usize = 100_000;

/// A new organization's details, checked by udata's form rules: built by [`NewOrganization::from_form`]
/// (the API) or [`NewOrganization::new`] (the CLI), so a value of this type is always valid.
#[derive(Debug, Clone)]
pub struct NewOrganization(Organization);

impl NewOrganization {
    /// Reads a creation form: `name` and `description` required, the optional fields checked.
    pub fn from_form(form: &OrganizationForm) -> Result<Self, ApiError> {
        let mut org = blank();
        apply_org_input(&mut org, form, true)?;
        Ok(NewOrganization(org))
    }

    /// An organization with just a name and a description, under the same rules as the form's.
    pub fn new(name: &str, description: &str) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::new();
        for (field, value, max) in [
            ("name", name, NAME_MAX),
            ("description", description, DESCRIPTION_MAX),
        ] {
            if value.trim().is_empty() {
                push_error(&mut errors, field, REQUIRED);
            } else if value.chars().count() > max {
                push_error(
                    &mut errors,
                    field,
                    format!("Field cannot be longer than {max} characters."),
                );
            }
        }
        finish(errors)?;
        let mut org = blank();
        org.name = name.to_string();
        org.description = description.to_string();
        Ok(NewOrganization(org))
    }
}

/// Creates an organization with user `admin_id` as its administrator, in one transaction (the slug
/// is allocated in it too). Returns the organization and the admin's membership.
pub async fn create_organization(
    state: &AppState,
    actor: &Actor,
    admin_id: &str,
    new: NewOrganization,
) -> Result<(Organization, Member), ApiError> {
    let now = now();
    let mut org = Organization {
        id: new_object_id(),
        created_at: now,
        last_modified: now,
        deleted: None,
        ..new.0
    };
    let admin = Member {
        org_id: org.id.clone(),
        user_id: admin_id.to_string(),
        role: Role::Admin,
        since: now,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_organization(&mut org, &admin).await?;
    tx.record(
        actor,
        &NewActivity::organization("organization:created", &org),
    )
    .await?;
    tx.commit().await?;
    Ok((org, admin))
}

/// Applies an update form to organization `id`; a new name gives it a new slug (the old one
/// redirects). A deleted organization is gone (410).
pub async fn update_organization(
    state: &AppState,
    actor: &Actor,
    id: &str,
    form: &OrganizationForm,
) -> Result<Organization, ApiError> {
    let mut tx = state.store.begin().await?;
    let before = lock_live(&mut tx, id).await?;
    let mut org = before.clone();
    apply_org_input(&mut org, form, false)?;
    org.last_modified = now();
    tx.update_organization(&before, &mut org).await?;
    let activity = NewActivity::organization("organization:updated", &org)
        .with_changes(changed_fields(&before, &org));
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(org)
}

/// Soft-deletes organization `id`: it leaves the lists and its members' profiles, and answers 410
/// to anyone but its members.
pub async fn delete_organization(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(), ApiError> {
    let now = now();
    let mut tx = state.store.begin().await?;
    let before = lock_live(&mut tx, id).await?;
    let mut org = before.clone();
    org.deleted = Some(now);
    org.last_modified = now;
    tx.update_organization(&before, &mut org).await?;
    tx.record(
        actor,
        &NewActivity::organization("organization:deleted", &org),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Who an invitation is for: a user named by id, or an e-mail address with the account that has
/// it, if any.
#[derive(Debug, Clone)]
pub enum Invitee {
    User(String),
    Email {
        email: String,
        account: Option<String>,
    },
}

/// Invites an invitee into organization `org_id` with `role`. rudata sends no mail: the invitee
/// sees the invitation through the API (`GET /me/org_invitations/`) and accepts it there. Any
/// pending invitation for the same user or address is canceled: only the newest can be accepted.
///
/// A user named by id who is a member already is refused (members are public). By e-mail nothing
/// is refused, whether or not an account (or a member) has the address, so that the answer tells
/// the caller nothing about it; accepting then fails for a member, as it would for anyone.
pub async fn invite_member(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    invitee: Invitee,
    role: Role,
    comment: Option<String>,
) -> Result<Invitation, ApiError> {
    let mut tx = state.store.begin().await?;
    let org = lock_live(&mut tx, org_id).await?;
    let (user_id, email) = match invitee {
        Invitee::User(id) => {
            if tx.is_member(org_id, &id).await? {
                return Err(member_field_error("user", "User is already a member"));
            }
            (Some(id), None)
        }
        Invitee::Email { email, account } => (account, Some(email.to_lowercase())),
    };
    tx.cancel_pending_invitations(org_id, user_id.as_deref(), email.as_deref())
        .await?;
    let inv = Invitation {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org_id.to_string(),
        user_id,
        email,
        role,
        comment,
        status: PENDING.into(),
        created_at: now(),
    };
    tx.insert_invitation(&inv).await?;
    // The invitee's address is not told: the log of a public organization is public.
    let activity = member_activity("organization:member:invited", &org, inv.user_id.as_deref())
        .with_extra("role", role.as_str().into())
        .with_extra("invitation_id", inv.id.clone().into());
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(inv)
}

/// Invitation `id` of user `user_id`, locked, and still pending: someone else's invitation is not
/// found, as an unknown one is (udata's answers).
async fn lock_own_pending(
    tx: &mut WriteTx,
    user_id: &str,
    id: &str,
) -> Result<Invitation, ApiError> {
    let inv = tx
        .lock_invitation(id)
        .await?
        .filter(|i| i.user_id.as_deref() == Some(user_id))
        .ok_or_else(|| ApiError::NotFound("Invitation not found".into()))?;
    if inv.status != PENDING {
        return Err(ApiError::BadRequest("Invitation is not pending".into()));
    }
    Ok(inv)
}

/// Accepts invitation `id` for user `user_id`, who becomes a member with the invitation's role.
/// Only a pending invitation can be accepted (a newer one, a cancellation or the member's removal
/// ended the older ones), into an organization that is not deleted (410), by someone who is not a
/// member already (409: an invitation never changes a member's role).
pub async fn accept_invitation(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    id: &str,
) -> Result<Invitation, ApiError> {
    let mut tx = state.store.begin().await?;
    let mut inv = lock_own_pending(&mut tx, user_id, id).await?;
    let org = lock_live(&mut tx, &inv.org_id).await?;
    if tx.is_member(&inv.org_id, user_id).await? {
        return Err(ApiError::Conflict("User is already a member".into()));
    }
    inv.status = ACCEPTED.into();
    tx.set_invitation_status(&inv.id, &inv.status).await?;
    tx.upsert_member(&Member {
        org_id: inv.org_id.clone(),
        user_id: user_id.to_string(),
        role: inv.role,
        since: now(),
    })
    .await?;
    let activity = member_activity("organization:member:added", &org, Some(user_id))
        .with_extra("role", inv.role.as_str().into())
        .with_extra("invitation_id", inv.id.clone().into());
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(inv)
}

/// Refuses invitation `id` for user `user_id`.
pub async fn refuse_invitation(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    let mut tx = state.store.begin().await?;
    let inv = lock_own_pending(&mut tx, user_id, id).await?;
    tx.set_invitation_status(&inv.id, REFUSED).await?;
    // Read, not locked: the entry needs only its name, and locking it after the invitation would
    // take the two locks in the order opposite to a cancellation's.
    let org = match state.store.find_organization(&inv.org_id).await? {
        Lookup::Found(org) | Lookup::Moved(org) => org,
        Lookup::Missing => return Err(ApiError::not_found()),
    };
    let activity = member_activity("organization:invitation:refused", &org, Some(user_id))
        .with_extra("invitation_id", inv.id.clone().into());
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels invitation `id` of organization `org_id` (its admins' act): 404 for an unknown id or
/// another organization's, 400 when it is no longer pending (udata's answers).
pub async fn cancel_invitation(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    let mut tx = state.store.begin().await?;
    let org = lock_live(&mut tx, org_id).await?;
    let inv = tx
        .lock_invitation(id)
        .await?
        .filter(|i| i.org_id == org_id)
        .ok_or_else(|| ApiError::NotFound("Unknown membership request id".into()))?;
    if inv.status != PENDING {
        return Err(ApiError::BadRequest(
            "Only pending invitations can be canceled".into(),
        ));
    }
    tx.set_invitation_status(&inv.id, CANCELED).await?;
    let activity = member_activity(
        "organization:invitation:canceled",
        &org,
        inv.user_id.as_deref(),
    )
    .with_extra("invitation_id", inv.id.clone().into());
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes user `user_id` a member of organization `org_id` with `role` at once, or changes their role
/// if they are one (the operator's `rudata org add-member`; no invitation).
pub async fn add_member(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    user_id: &str,
    role: Role,
) -> Result<Member, ApiError> {
    let member = Member {
        org_id: org_id.to_string(),
        user_id: user_id.to_string(),
        role,
        since: now(),
    };
    let mut tx = state.store.begin().await?;
    let org = tx
        .lock_organization(org_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let key = if tx.is_member(org_id, user_id).await? {
        "organization:member:updated"
    } else {
        "organization:member:added"
    };
    tx.upsert_member(&member).await?;
    let activity =
        member_activity(key, &org, Some(user_id)).with_extra("role", role.as_str().into());
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(member)
}

/// Gives `role` to the member of organization `org_id` named by `user_key` (user id or slug).
pub async fn change_member_role(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    user_key: &str,
    role: Role,
) -> Result<MemberRow, ApiError> {
    let mut tx = state.store.begin().await?;
    let org = lock_live(&mut tx, org_id).await?;
    let mut m = tx
        .find_member(org_id, user_key)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if role != Role::Admin {
        keep_an_admin(&mut tx, &m.member).await?;
    }
    m.member.role = role;
    tx.upsert_member(&m.member).await?;
    let activity = member_activity("organization:member:updated", &org, Some(&m.user.id))
        .with_changes(vec!["role".into()])
        .with_extra("role", role.as_str().into());
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(m)
}

/// Removes the member of organization `org_id` named by `user_key` (user id or slug).
pub async fn remove_member(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    user_key: &str,
) -> Result<(), ApiError> {
    let mut tx = state.store.begin().await?;
    let org = lock_live(&mut tx, org_id).await?;
    let m = tx
        .find_member(org_id, user_key)
        .await?
        .ok_or_else(ApiError::not_found)?;
    keep_an_admin(&mut tx, &m.member).await?;
    tx.delete_member(org_id, &m.user.id).await?;
    // An invitation made before the removal must not let the user back in.
    tx.cancel_pending_invitations(org_id, Some(&m.user.id), None)
        .await?;
    tx.record(
        actor,
        &member_activity("organization:member:removed", &org, Some(&m.user.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An entry about organization `org`'s membership of user `user_id` (in `extras`, as udata names a
/// resource there).
fn member_activity(key: &'static str, org: &Organization, user_id: Option<&str>) -> NewActivity {
    let activity = NewActivity::organization(key, org);
    match user_id {
        Some(id) => activity.with_extra("user_id", id.into()),
        None => activity,
    }
}

/// What removing or demoting an organization's only administrator answers (400).
pub const LAST_ADMIN_MESSAGE: &str =
    "An organization must keep at least one administrator: appoint another one first";

/// Refuses (400) to take away `m`'s administrator role when they are their organization's only
/// administrator: nobody could manage it any more. Runs under the organization's lock, so two
/// admins cannot demote each other at once.
async fn keep_an_admin(tx: &mut WriteTx, m: &Member) -> Result<(), ApiError> {
    if m.role == Role::Admin && tx.count_admins(&m.org_id).await? <= 1 {
        return Err(ApiError::BadRequest(LAST_ADMIN_MESSAGE.into()));
    }
    Ok(())
}

/// The membership endpoints' error shape: a plain-string field error, with the same text as the
/// message (udata's shape there).
pub fn member_field_error(field: &str, msg: &str) -> ApiError {
    let mut errors = Map::new();
    errors.insert(field.into(), Value::String(msg.into()));
    ApiError::InvalidField(errors, msg.into())
}

/// Locks organization `id` for the transaction: 404 when it does not exist, 410 when it is deleted
/// (the handler's lookup said so already, unless it was deleted since).
async fn lock_live(tx: &mut WriteTx, id: &str) -> Result<Organization, ApiError> {
    let org = tx
        .lock_organization(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if org.deleted.is_some() {
        return Err(ApiError::Gone(DELETED_MESSAGE.into()));
    }
    Ok(org)
}

/// The details of a new organization before `create_organization` gives it its id and dates.
fn blank() -> Organization {
    let now = now();
    Organization {
        id: String::new(),
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
    }
}

/// Applies an organization body (udata's OrganizationForm fields); `creating` makes `name` and
/// `description` required.
fn apply_org_input(
    org: &mut Organization,
    form: &OrganizationForm,
    creating: bool,
) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    if let Some(name) = required_string(form, "name", NAME_MAX, creating, &mut errors) {
        org.name = name;
    }
    if let Some(d) = required_string(form, "description", DESCRIPTION_MAX, creating, &mut errors) {
        org.description = d;
    }
    apply_opt_string(form, "acronym", 128, &mut org.acronym, &mut errors);
    apply_opt_string(form, "url", 2048, &mut org.url, &mut errors);
    // Only a URL this form sets is checked: an update that leaves the URL alone does not fail on
    // one stored earlier (whose host may have changed address since).
    if let Some(u) = org
        .url
        .clone()
        .filter(|u| form.contains_key("url") && !u.is_empty())
        && let Err(e) = check_public_url(&u)
    {
        push_error(&mut errors, "url", e.to_string());
    }
    apply_opt_string(form, "image_url", 2048, &mut org.image_url, &mut errors);
    apply_opt_string(
        form,
        "business_number_id",
        14,
        &mut org.business_number_id,
        &mut errors,
    );
    if let Some(extras) = object_field(form, "extras", &mut errors) {
        org.extras = extras;
    }
    finish(errors).map_err(ApiError::from)
}
