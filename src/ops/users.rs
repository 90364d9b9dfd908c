//! User operations: create an account (the CLI and first start; udata's sign-up is not part of the
//! API) and update the caller's own profile (`PUT /me/`).

use serde_json::{Map, Value};

use crate::domain::activity::{Actor, NewActivity};
use crate::domain::ids::new_object_id;
use crate::domain::input::{
    FieldErrors, Given, REQUIRED, apply_opt_string, finish, push_error, string_field,
};
use crate::domain::time::now;
use crate::domain::user::{User, parse_email};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreError;

/// A profile body as udata's form reads it: keys absent keep their values.
pub type ProfileForm = Map<String, Value>;

/// A new account: a well-formed e-mail address, names (possibly empty) and whether it administers
/// the whole portal.
#[derive(Debug, Clone)]
pub struct NewUser {
    email: String,
    first_name: String,
    last_name: String,
    sysadmin: bool,
}

impl NewUser {
    /// Checks the e-mail address; the names are free text.
    pub fn new(
        email: &str,
        first_name: &str,
        last_name: &str,
        sysadmin: bool,
    ) -> Result<Self, ApiError> {
        let email = parse_email(email)
            .ok_or_else(|| ApiError::BadRequest(format!("invalid e-mail address {email:?}")))?;
        Ok(NewUser {
            email,
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            sysadmin,
        })
    }
}

/// Creates an active account. Its slug comes from the name, or from the e-mail's local part when
/// the name is blank. An address already in use, whatever its case, is a conflict.
pub async fn create_user(state: &AppState, actor: &Actor, new: NewUser) -> Result<User, ApiError> {
    let name = format!("{} {}", new.first_name, new.last_name);
    let slug_base = if name.trim().is_empty() {
        new.email.split('@').next().unwrap_or("user").to_string()
    } else {
        name
    };
    let mut user = User {
        id: new_object_id(),
        slug: String::new(),
        email: new.email,
        first_name: new.first_name,
        last_name: new.last_name,
        website: None,
        about: None,
        active: true,
        sysadmin: new.sysadmin,
        created_at: now(),
        deleted: None,
    };
    let mut tx = state.store.begin().await?;
    if tx.email_in_use(&user.email).await? {
        return Err(ApiError::Conflict(format!(
            "a user with e-mail {} already exists",
            user.email
        )));
    }
    tx.insert_user(&mut user, &slug_base).await?;
    // Invitations made by e-mail before the account existed are now this account's: only the
    // operator creates accounts, with the address given, so this is the address's owner.
    tx.claim_email_invitations(&user.id, &user.email).await?;
    tx.record(
        actor,
        &NewActivity::user("user:created", &user.id, &user_name(&user)),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Applies a profile form to user `user_id`: first_name, last_name, email, website, about. Other
/// keys (`roles`, `active`…) are ignored: a user cannot grant themselves rights.
pub async fn update_profile(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    form: &ProfileForm,
) -> Result<User, ApiError> {
    let mut tx = state.store.begin().await?;
    let mut user = tx
        .lock_user(user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let before = user.clone();
    apply_profile_input(&mut user, form)?;
    tx.update_user(&user).await.map_err(|e| match e {
        // The e-mail address is the only unique field a profile changes.
        StoreError::Conflict(_) => {
            let mut errors = FieldErrors::new();
            push_error(
                &mut errors,
                "email",
                "This email is already used by another account",
            );
            ApiError::Invalid(errors)
        }
        other => other.into(),
    })?;
    let activity = NewActivity::user("user:updated", &user.id, &user_name(&user))
        .with_changes(profile_changes(&before, &user));
    tx.record(actor, &activity).await?;
    tx.commit().await?;
    Ok(user)
}

/// The profile fields that differ between `before` and `after`.
fn profile_changes(before: &User, after: &User) -> Vec<String> {
    [
        ("first_name", before.first_name != after.first_name),
        ("last_name", before.last_name != after.last_name),
        ("email", before.email != after.email),
        ("website", before.website != after.website),
        ("about", before.about != after.about),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(field, _)| field.to_string())
    .collect()
}

/// How an entry about `user` names them.
pub(super) fn user_name(user: &User) -> String {
    format!("{} {}", user.first_name, user.last_name)
}

/// udata's profile form rules: names may be changed but not blanked, the e-mail must be well formed.
fn apply_profile_input(user: &mut User, form: &ProfileForm) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    for (key, target) in [
        ("first_name", &mut user.first_name),
        ("last_name", &mut user.last_name),
    ] {
        match string_field(form, key, 255, &mut errors) {
            Given::Value(v) if !v.trim().is_empty() => *target = v,
            Given::Absent => {}
            _ => push_error(&mut errors, key, REQUIRED),
        }
    }
    match string_field(form, "email", 255, &mut errors) {
        Given::Value(v) => match parse_email(&v) {
            Some(e) => user.email = e,
            None => push_error(&mut errors, "email", "Invalid email address"),
        },
        Given::Null => push_error(&mut errors, "email", REQUIRED),
        Given::Absent => {}
    }
    apply_opt_string(form, "website", 2048, &mut user.website, &mut errors);
    apply_opt_string(form, "about", 10_000, &mut user.about, &mut errors);
    finish(errors)?;
    Ok(())
}
