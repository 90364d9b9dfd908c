//! The query parameters of dataset lists and searches (v1 and v2), parsed and refused as udata's
//! parsers do: the filter, the search words, the tags, the sort.

use super::{QueryPairs, param_error};
use crate::domain::ids::is_object_id;
use crate::domain::permissions::Identity;
use crate::domain::search::{
    ACCESS_TYPES, DATASET_BADGES, MAX_WORDS, ORGANIZATION_BADGES, SearchQuery, TooManyWords,
    parse_date_range,
};
use crate::error::ApiError;
use crate::store::{DatasetFilter, SortKey, TemporalFilter, Visibility};

/// Most `tag` filters in one list request.
const MAX_TERMS: usize = 32;

/// Who sees what in `GET /api/1/datasets/`: anonymous callers the public datasets, users theirs
/// too, sysadmins everything.
fn visibility_of(who: Option<&Identity>) -> Visibility {
    match who {
        None => Visibility::Public,
        Some(w) if w.is_sysadmin() => Visibility::All,
        Some(w) => Visibility::User {
            user_id: w.user.id.clone(),
            org_ids: w.org_ids(),
        },
    }
}

/// A non-empty parameter (udata ignores empty ones).
pub(crate) fn given<'q>(q: &'q QueryPairs, key: &str) -> Option<&'q str> {
    q.get(key).filter(|v| !v.is_empty())
}

/// A parameter restricted to `choices`: 400 with udata's parser message otherwise.
pub(crate) fn choice(
    q: &QueryPairs,
    key: &str,
    choices: &[&str],
) -> Result<Option<String>, ApiError> {
    match given(q, key) {
        None => Ok(None),
        Some(v) if choices.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(param_error(
            key,
            &format!("The value '{v}' is not a valid choice for '{key}'."),
        )),
    }
}

/// A parameter that must be an object id: udata's 400 `"<Label> arg must be an identifier"`.
pub(crate) fn object_id(
    q: &QueryPairs,
    key: &str,
    label: &str,
) -> Result<Option<String>, ApiError> {
    match given(q, key) {
        None => Ok(None),
        Some(v) if is_object_id(v) => Ok(Some(v.to_string())),
        Some(_) => Err(ApiError::BadRequest(format!(
            "{label} arg must be an identifier"
        ))),
    }
}

/// `q`, folded and split into words (at most [`MAX_WORDS`]).
pub(crate) fn search_query(q: &QueryPairs) -> Result<Option<SearchQuery>, ApiError> {
    SearchQuery::parse(q.get("q").unwrap_or("")).map_err(|TooManyWords| {
        param_error(
            "q",
            &format!("At most {MAX_WORDS} distinct values are allowed"),
        )
    })
}

/// `tag` values (all must match), slugified as tags are stored.
pub(crate) fn tags(q: &QueryPairs) -> Result<Vec<String>, ApiError> {
    let mut tags: Vec<String> = q
        .all("tag")
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| crate::domain::slug::slugify(t, false))
        .collect();
    // Each tag is one condition: bound them (the database limits an expression's depth).
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TERMS {
        return Err(param_error(
            "tag",
            &format!("At most {MAX_TERMS} distinct values are allowed"),
        ));
    }
    Ok(tags)
}

/// `sort` among `keys` (each also with `-`), as a sort key and a direction. Metrics rudata does
/// not count (`reuses`, `followers`, `views`: 0 everywhere) order by creation.
pub(crate) fn sort(
    q: &QueryPairs,
    keys: &[&str],
    message_prefix: &str,
) -> Result<Option<(SortKey, bool)>, ApiError> {
    let Some(sort) = given(q, "sort") else {
        return Ok(None);
    };
    let (descending, key) = match sort.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, sort),
    };
    let sort_key = match key {
        "created" | "reuses" | "followers" | "views" => SortKey::Created,
        "last_update" => SortKey::LastUpdate,
        "title" => SortKey::Title,
        _ => SortKey::Created,
    };
    if !keys.contains(&key) {
        return Err(param_error(
            "sort",
            &format!("{message_prefix}The value '{sort}' is not a valid choice for 'sort'."),
        ));
    }
    Ok(Some((sort_key, descending)))
}

/// v1's sort keys.
pub(crate) const SORTS: [&str; 6] = [
    "title",
    "created",
    "last_update",
    "reuses",
    "followers",
    "views",
];

/// The filters of `GET /api/1/datasets/`, parsed and checked in udata's order: the parser's
/// types and choices (400 `errors`), then identifiers (400 `message`), then the filters that
/// need a caller (401).
pub(crate) fn dataset_filter(
    who: Option<&Identity>,
    q: &QueryPairs,
) -> Result<DatasetFilter, ApiError> {
    let mut f = DatasetFilter::new(visibility_of(who));
    let hidden = [q.bool("archived")?, q.bool("deleted")?, q.bool("private")?];
    f.featured = q.bool("featured")?;
    f.available = q.bool("available")?;
    f.access_type = choice(q, "access_type", &ACCESS_TYPES)?;
    f.badge = choice(q, "badge", &DATASET_BADGES)?;
    // rudata records no organization badges: a valid one matches no dataset.
    f.nothing |= choice(q, "organization_badge", &ORGANIZATION_BADGES)?.is_some();
    if let Some((key, descending)) = sort(q, &SORTS, "")? {
        f.sort = key;
        f.descending = descending;
    }
    f.search = search_query(q)?;
    f.tags = tags(q)?;
    f.license = given(q, "license").map(str::to_string);
    f.formats = given(q, "format")
        .map(|s| s.trim().to_lowercase())
        .into_iter()
        .collect();
    f.schemas = given(q, "schema").map(str::to_string).into_iter().collect();
    f.schema_version = given(q, "schema_version").map(str::to_string);
    f.geozone = given(q, "geozone").map(str::to_string);
    f.granularities = given(q, "granularity")
        .map(str::to_string)
        .into_iter()
        .collect();
    if let Some(range) = given(q, "temporal_coverage") {
        // udata's v1 list does not check the value: one that is not a date range matches nothing.
        match parse_date_range(range) {
            Some((from, to)) => f.temporal = Some(TemporalFilter::StartsWithin(from, to)),
            None => f.nothing = true,
        }
    }
    f.organization = object_id(q, "organization", "Organization")?;
    f.owner = object_id(q, "owner", "Owner")?;
    // rudata records no follows: a user follows nothing.
    f.nothing |= object_id(q, "followed_by", "`followed_by`")?.is_some();
    // Topics, dataservices and reuses do not exist in rudata: udata ignores an unknown one.
    for (key, label) in [
        ("topic", "Topic"),
        ("dataservice", "Dataservice"),
        ("reuse", "Reuse"),
    ] {
        object_id(q, key, label)?;
    }
    if who.is_none() && hidden.iter().any(Option::is_some) {
        return Err(ApiError::unauthorized());
    }
    [f.archived, f.deleted, f.private] = hidden;
    Ok(f)
}
