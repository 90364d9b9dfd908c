//! Suggestions (autocomplete): datasets, tags, organizations and users by the prefix of a word of
//! their name, accents and case folded; formats and MIME types from udata's fixed lists.
//!
//! `q` is folded as slugs are (deunicode, lowercase, `-` between words), so `écol` finds "École
//! maternelle" and `budget prim` finds "Budget primitif". What is suggested is public: datasets that
//! are neither private, deleted nor archived, the tags of those, organizations and users that are
//! not deleted (see migration 0005 and `store::suggest`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::mask::Unmasked;
use super::{QueryPairs, param_error};
use crate::auth::Caller;
use crate::domain::reference::ALLOWED_EXTENSIONS;
use crate::domain::slug::slugify;
use crate::domain::user::User;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{SuggestKind, TERM_LENGTH};

/// The most suggestions one request returns (udata sets no bound; rudata keeps each request cheap).
pub const MAX_SUGGESTIONS: usize = 100;
const Q_HELP: &str = "The string to autocomplete/suggest";
const SIZE_HELP: &str = "The amount of suggestion to fetch";

/// udata's `ALLOWED_RESOURCES_MIMES`, in its order.
const ALLOWED_MIMES: [&str; 27] = [
    "text/csv",
    "application/json",
    "application/pdf",
    "application/msword",
    "application/vnd",
    "application/vnd.geo+json",
    "application/zip",
    "application/x-tar",
    "application/x-bzip",
    "application/x-bzip2",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/epub+zip",
    "application/rtf",
    "application/rdf+xml",
    "application/xml",
    "application/xhtml+xml",
    "image/bmp",
    "image/jpeg",
    "image/png",
    "image/svg+xml",
    "image/webp",
    "text/html",
    "text/calendar",
    "text/plain",
    "text/xml",
    "text/turtle",
];

/// `q`, required (an empty value is allowed, as in udata).
fn q_param(query: &QueryPairs) -> Result<&str, ApiError> {
    query.get("q").ok_or_else(|| {
        param_error(
            "q",
            &format!("{Q_HELP} Missing required parameter in the query string"),
        )
    })
}

/// An integer as Python's `int()` reads it (surrounding spaces, a sign, `_` between digits).
fn python_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !well_formed {
        return None;
    }
    t.replace('_', "").parse().ok()
}

/// `size` as udata's `type=int` argument reads it (400 when it is not an integer).
fn size_param(query: &QueryPairs, default: i64) -> Result<i64, ApiError> {
    match query.get("size") {
        None => Ok(default),
        Some(v) => python_int(v).ok_or_else(|| {
            param_error(
                "size",
                &format!("{SIZE_HELP} invalid literal for int() with base 10: '{v}'"),
            )
        }),
    }
}

/// How many results a MongoDB `limit(size)` gives, within [`MAX_SUGGESTIONS`]: 0 means no limit,
/// a negative size its absolute value.
fn limit_of(size: i64) -> usize {
    match size {
        0 => MAX_SUGGESTIONS,
        n => usize::try_from(n.unsigned_abs())
            .unwrap_or(MAX_SUGGESTIONS)
            .min(MAX_SUGGESTIONS),
    }
}

/// `q` folded as slugs are, and how many candidates to read: a prefix longer than the stored terms
/// is checked again on the full slug, so read more.
fn folded(q: &str, limit: usize) -> (String, usize) {
    let folded = slugify(q, false);
    let wanted = if folded.len() > TERM_LENGTH {
        limit * 4
    } else {
        limit
    };
    (folded, wanted)
}

/// Whether `slug` or `acronym` has a word starting with the whole of `folded` (only needed past
/// [`TERM_LENGTH`] characters, where the index compared a prefix of it).
fn matches(folded: &str, slug: &str, acronym: Option<&str>) -> bool {
    let word_start = format!("-{slug}").contains(&format!("-{folded}"));
    let acronym = acronym
        .map(|a| a.trim().to_lowercase().replace(' ', "-"))
        .is_some_and(|a| a.starts_with(folded));
    word_start || acronym
}

/// An answer udata gives without a model: `X-Fields` does not apply.
fn unmasked(value: Value) -> Response {
    let mut response = Json(value).into_response();
    response.extensions_mut().insert(Unmasked);
    response
}

/// `GET /api/1/datasets/suggest/?q=&size=10`
pub async fn suggest_datasets(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let q = q_param(&query)?;
    let limit = limit_of(size_param(&query, 10)?);
    let (folded, wanted) = folded(q, limit);
    let ids = state
        .store
        .suggest_ids(SuggestKind::Datasets, &folded, wanted)
        .await?;
    let rows = state.store.public_datasets_by_ids(&ids).await?;
    let data: Vec<Value> = rows
        .iter()
        .map(|r| &r.dataset)
        .filter(|d| matches(&folded, &d.slug, d.acronym.as_deref()))
        .take(limit)
        .map(|d| {
            json!({
                "id": d.id,
                "title": d.title,
                "acronym": d.acronym,
                "slug": d.slug,
                "image_url": null,
                "page": null,
            })
        })
        .collect();
    Ok(Json(Value::Array(data)).into_response())
}

/// `GET /api/1/organizations/suggest/?q=&size=10`
pub async fn suggest_organizations(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let q = q_param(&query)?;
    let limit = limit_of(size_param(&query, 10)?);
    let (folded, wanted) = folded(q, limit);
    let ids = state
        .store
        .suggest_ids(SuggestKind::Organizations, &folded, wanted)
        .await?;
    let mut orgs = state.store.organizations_by_ids(&ids).await?;
    orgs.sort_by_key(|o| ids.iter().position(|id| *id == o.id));
    let data: Vec<Value> = orgs
        .iter()
        .filter(|o| o.deleted.is_none() && matches(&folded, &o.slug, o.acronym.as_deref()))
        .take(limit)
        .map(|o| {
            json!({
                "id": o.id,
                "name": o.name,
                "acronym": o.acronym,
                "slug": o.slug,
                "image_url": null,
                "page": null,
            })
        })
        .collect();
    Ok(Json(Value::Array(data)).into_response())
}

/// udata's `size` for users: an integer from 1 to 20.
fn user_size(query: &QueryPairs) -> Result<usize, ApiError> {
    match query.get("size") {
        None => Ok(10),
        Some(v) => match python_int(v) {
            Some(n @ 1..=20) => Ok(n as usize),
            _ => Err(param_error(
                "size",
                &format!(
                    "{SIZE_HELP} (between 1 and 20) The size must be an integer between 1 and 20."
                ),
            )),
        },
    }
}

/// The e-mail address as udata shows it in suggestions: whole to a sysadmin and to the user, else
/// only its domain.
fn visible_email(caller: &Caller, user: &User) -> String {
    let whole = caller
        .identity()
        .is_some_and(|w| w.is_sysadmin() || w.user.id == user.id);
    if whole {
        return user.email.clone();
    }
    match user.email.split_once('@') {
        Some((_, domain)) => format!("***@{domain}"),
        None => "***".to_string(),
    }
}

/// `GET /api/1/users/suggest/?q=&size=10`
pub async fn suggest_users(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let q = q_param(&query)?;
    let limit = user_size(&query)?;
    let (folded, wanted) = folded(q, limit);
    let ids = state
        .store
        .suggest_ids(SuggestKind::Users, &folded, wanted)
        .await?;
    let mut users = state.store.users_by_ids(&ids).await?;
    users.sort_by_key(|u| ids.iter().position(|id| *id == u.id));
    let data: Vec<Value> = users
        .iter()
        .filter(|u| u.deleted.is_none() && matches(&folded, &u.slug, None))
        .take(limit)
        .map(|u| {
            json!({
                "id": u.id,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "avatar_url": null,
                "email": visible_email(&caller, u),
                "slug": u.slug,
            })
        })
        .collect();
    Ok(Json(Value::Array(data)).into_response())
}

/// Sorts suggestions by length, shortest first, as udata returns `{text}` ones (stable: equal
/// lengths keep their rank).
fn texts_by_length(mut texts: Vec<String>) -> Value {
    texts.sort_by_key(|t| t.chars().count());
    Value::Array(texts.into_iter().map(|t| json!({ "text": t })).collect())
}

/// `GET /api/1/tags/suggest/?q=&size=8`
pub async fn suggest_tags(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let q = q_param(&query)?;
    let limit = limit_of(size_param(&query, 8)?);
    let (folded, wanted) = folded(q, limit);
    let tags = state.store.suggest_tags(&folded, wanted).await?;
    let tags = tags
        .into_iter()
        .filter(|t| matches(&folded, t, None))
        .take(limit)
        .collect();
    Ok(unmasked(texts_by_length(tags)))
}

/// udata's `results[:size]` on a list (Python slicing: a negative size drops from the end).
fn python_head<T>(mut items: Vec<T>, size: i64) -> Vec<T> {
    let len = items.len() as i64;
    let keep = if size >= 0 {
        size.min(len)
    } else {
        (len + size).max(0)
    };
    items.truncate(keep as usize);
    items
}

/// Entries of a fixed list containing `q` (as written: udata compares case-sensitively).
fn fixed_list(list: &[&str], query: &QueryPairs) -> Result<Response, ApiError> {
    let q = q_param(query)?;
    let size = size_param(query, 10)?;
    let found: Vec<String> = list
        .iter()
        .filter(|item| item.contains(q))
        .map(|item| item.to_string())
        .collect();
    Ok(unmasked(texts_by_length(python_head(found, size))))
}

/// `GET /api/1/datasets/suggest/formats/?q=&size=10`: the extensions udata accepts.
pub async fn suggest_formats(query: QueryPairs) -> Result<Response, ApiError> {
    let mut list: Vec<&str> = ALLOWED_EXTENSIONS.to_vec();
    list.extend(["ssim", "other"]);
    fixed_list(&list, &query)
}

/// `GET /api/1/datasets/suggest/mime/?q=&size=10`: the MIME types udata accepts.
pub async fn suggest_mimes(query: QueryPairs) -> Result<Response, ApiError> {
    fixed_list(&ALLOWED_MIMES, &query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_python_reads_them() {
        assert_eq!(python_int(" 12 "), Some(12));
        assert_eq!(python_int("+3"), Some(3));
        assert_eq!(python_int("-2"), Some(-2));
        assert_eq!(python_int("1_0"), Some(10));
        for bad in ["", "abc", "1.5", "_1", "1__0", "0x10", "1_"] {
            assert_eq!(python_int(bad), None, "{bad}");
        }
        assert_eq!(limit_of(0), MAX_SUGGESTIONS);
        assert_eq!(limit_of(-3), 3);
        assert_eq!(limit_of(5000), MAX_SUGGESTIONS);
        assert_eq!(python_head(vec![1, 2, 3], -1), vec![1, 2]);
        assert_eq!(python_head(vec![1, 2, 3], 0), Vec::<i32>::new());
        assert_eq!(python_head(vec![1, 2, 3], 9), vec![1, 2, 3]);
    }

    #[test]
    fn long_prefixes_are_checked_on_whole_words() {
        assert!(matches("primitif", "budget-primitif", None));
        assert!(!matches("rimitif", "budget-primitif", None));
        assert!(matches("bp", "budget", Some("BP 2024")));
    }
}
