//! Datasets: metadata rules, udata's form semantics for create and update, and the quality score.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::input::{
    FieldErrors, Given, InputError, apply_opt_string, bool_field, datetime_field, finish,
    object_field, push_error, required_string, string_field,
};
use super::reference::{DEFAULT_LICENSE, frequency_delta_secs, is_license, parse_frequency};
use super::resource::Resource;
use super::slug::slugify;
use super::url_check::check_public_url;

pub const TAG_MIN_LENGTH: usize = 3;
pub const TAG_MAX_LENGTH: usize = 96;
const ACCESS_TYPES: [&str; 3] = ["open", "open_with_account", "restricted"];
const AUDIENCE_ROLES: [&str; 3] = [
    "local_authority_and_administration",
    "company_and_association",
    "private",
];
const AUDIENCE_CONDITIONS: [&str; 3] = ["yes", "no", "under_condition"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporalCoverage {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// A dataset as stored, without its resources.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dataset {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub acronym: Option<String>,
    pub description: String,
    pub description_short: Option<String>,
    pub license: Option<String>,
    pub frequency: String,
    #[serde(with = "super::time::api_format_opt", default)]
    pub frequency_date: Option<DateTime<Utc>>,
    pub temporal_coverage: Option<TemporalCoverage>,
    pub spatial: Option<Value>,
    pub tags: Vec<String>,
    pub private: bool,
    pub featured: bool,
    pub owner_id: Option<String>,
    pub organization_id: Option<String>,
    #[serde(default)]
    pub extras: Map<String, Value>,
    pub access_type: String,
    #[serde(default)]
    pub access_audiences: Vec<Value>,
    pub authorization_request_url: Option<String>,
    pub access_type_reason_category: Option<String>,
    pub access_type_reason: Option<String>,
    #[serde(with = "super::time::api_format_opt", default)]
    pub archived: Option<DateTime<Utc>>,
    #[serde(with = "super::time::api_format_opt", default)]
    pub deleted: Option<DateTime<Utc>>,
    #[serde(with = "super::time::api_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::time::api_format")]
    pub last_modified: DateTime<Utc>,
}

impl Dataset {
    /// A dataset with udata's defaults, to be filled by [`apply_dataset_input`].
    pub fn blank(id: String, now: DateTime<Utc>) -> Self {
        Dataset {
            id,
            slug: String::new(),
            title: String::new(),
            acronym: None,
            description: String::new(),
            description_short: None,
            license: None,
            frequency: "unknown".to_string(),
            frequency_date: None,
            temporal_coverage: None,
            spatial: None,
            tags: Vec::new(),
            private: false,
            featured: false,
            owner_id: None,
            organization_id: None,
            extras: Map::new(),
            access_type: "open".to_string(),
            access_audiences: Vec::new(),
            authorization_request_url: None,
            access_type_reason_category: None,
            access_type_reason: None,
            archived: None,
            deleted: None,
            created_at: now,
            last_modified: now,
        }
    }

    /// Words searched by `q`: title and acronym, transliterated and lowercased.
    pub fn search_text(&self) -> String {
        let mut s = deunicode::deunicode(&self.title).to_lowercase();
        if let Some(a) = &self.acronym {
            s.push(' ');
            s.push_str(&deunicode::deunicode(a).to_lowercase());
        }
        s
    }
}

/// What a create/update body asks for beyond plain fields: the handler resolves these against the store.
#[derive(Debug, Default)]
pub struct DatasetRequests {
    /// `Some(None)`: explicitly no organization; `Some(Some(id))`: that organization.
    pub organization: Option<Option<String>>,
    pub owner: Option<Option<String>>,
    /// The `resources` array, when given.
    pub resources: Option<Vec<Map<String, Value>>>,
}

/// Applies a dataset JSON body to `ds` with udata's form rules.
pub fn apply_dataset_input(
    ds: &mut Dataset,
    body: &Map<String, Value>,
    creating: bool,
) -> Result<DatasetRequests, InputError> {
    // A bad frequency is a ValueError in udata: a plain message, reported before form errors.
    match body.get("frequency") {
        None => {}
        Some(Value::Null) => ds.frequency = "unknown".to_string(),
        Some(v) => {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match parse_frequency(&text) {
                Some(f) => ds.frequency = f.to_string(),
                None => {
                    return Err(InputError::Message(format!(
                        "'{text}' is not a valid UpdateFrequency"
                    )));
                }
            }
        }
    }
    let mut errors = FieldErrors::new();
    if let Some(title) = required_string(body, "title", 350, creating, &mut errors) {
        ds.title = title;
    }
    if let Some(description) = required_string(body, "description", 100_000, creating, &mut errors)
    {
        ds.description = description;
    }
    apply_opt_string(body, "acronym", 128, &mut ds.acronym, &mut errors);
    apply_opt_string(
        body,
        "description_short",
        200,
        &mut ds.description_short,
        &mut errors,
    );
    match string_field(body, "license", 64, &mut errors) {
        Given::Value(l) if l.is_empty() => ds.license = None,
        Given::Value(l) if is_license(&l) => ds.license = Some(l),
        // udata silently ignores an unknown license id (the dataset then has none).
        Given::Value(_) => ds.license = None,
        Given::Null => ds.license = None,
        Given::Absent => {}
    }
    match datetime_field(body, "frequency_date", &mut errors) {
        Given::Value(t) => ds.frequency_date = Some(t),
        Given::Null => ds.frequency_date = None,
        Given::Absent => {}
    }
    apply_temporal_coverage(ds, body, &mut errors);
    apply_spatial(ds, body, &mut errors);
    apply_tags(ds, body, &mut errors);
    if let Some(p) = bool_field(body, "private", &mut errors) {
        ds.private = p;
    }
    if let Some(extras) = object_field(body, "extras", &mut errors) {
        ds.extras = extras;
    }
    apply_access(ds, body, &mut errors);
    for (key, target) in [("archived", &mut ds.archived), ("deleted", &mut ds.deleted)] {
        match datetime_field(body, key, &mut errors) {
            Given::Value(t) => *target = Some(t),
            Given::Null => *target = None,
            Given::Absent => {}
        }
    }
    check_contact_points(body, &mut errors);
    let requests = DatasetRequests {
        organization: reference_field(body, "organization", &mut errors),
        owner: reference_field(body, "owner", &mut errors),
        resources: resources_field(body, &mut errors),
    };
    finish(errors)?;
    Ok(requests)
}

fn apply_temporal_coverage(ds: &mut Dataset, body: &Map<String, Value>, errors: &mut FieldErrors) {
    let parse = |v: Option<&Value>, errors: &mut FieldErrors| -> Option<Option<NaiveDate>> {
        match v {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => match super::time::parse_client(s) {
                Some(t) => Some(Some(t.date_naive())),
                None => {
                    push_error(errors, "temporal_coverage", "Invalid date");
                    None
                }
            },
            Some(_) => {
                push_error(errors, "temporal_coverage", "Date must be a string");
                None
            }
        }
    };
    match body.get("temporal_coverage") {
        None => {}
        Some(Value::Null) => ds.temporal_coverage = None,
        Some(Value::Object(tc)) => {
            let (Some(start), Some(end)) =
                (parse(tc.get("start"), errors), parse(tc.get("end"), errors))
            else {
                return;
            };
            match (start, end) {
                (None, None) => ds.temporal_coverage = None,
                (Some(s), Some(e)) if e < s => {
                    ds.temporal_coverage = Some(TemporalCoverage {
                        start: e,
                        end: Some(s),
                    })
                }
                (Some(start), end) => ds.temporal_coverage = Some(TemporalCoverage { start, end }),
                (None, Some(_)) => {
                    push_error(errors, "temporal_coverage", "A start date is required")
                }
            }
        }
        Some(_) => push_error(errors, "temporal_coverage", "This field must be an object."),
    }
}

fn apply_spatial(ds: &mut Dataset, body: &Map<String, Value>, errors: &mut FieldErrors) {
    match body.get("spatial") {
        None => {}
        Some(Value::Null) => ds.spatial = None,
        Some(Value::Object(sp)) => {
            let zones = match sp.get("zones") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(z)) if z.iter().all(Value::is_string) => z.clone(),
                Some(_) => {
                    push_error(errors, "spatial", "zones must be a list of zone ids");
                    return;
                }
            };
            let geom = match sp.get("geom") {
                None | Some(Value::Null) => Value::Null,
                Some(g) if is_multipolygon(g) => g.clone(),
                Some(_) => {
                    push_error(
                        errors,
                        "spatial",
                        "geom must be a valid GeoJSON MultiPolygon",
                    );
                    return;
                }
            };
            let granularity = match sp.get("granularity") {
                Some(Value::String(g)) if !g.is_empty() => g.clone(),
                _ => "other".to_string(),
            };
            ds.spatial = Some(json!({"zones": zones, "geom": geom, "granularity": granularity}));
        }
        Some(_) => push_error(errors, "spatial", "This field must be an object."),
    }
}

/// A GeoJSON MultiPolygon: polygons of rings of positions of at least two numbers.
fn is_multipolygon(g: &Value) -> bool {
    let position = |p: &Value| {
        p.as_array()
            .is_some_and(|c| c.len() >= 2 && c.iter().all(Value::is_number))
    };
    let ring = |r: &Value| {
        r.as_array()
            .is_some_and(|r| r.len() >= 4 && r.iter().all(position))
    };
    let polygon = |p: &Value| {
        p.as_array()
            .is_some_and(|p| !p.is_empty() && p.iter().all(ring))
    };
    g.get("type").and_then(Value::as_str) == Some("MultiPolygon")
        && g.get("coordinates")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().all(polygon))
}

fn apply_tags(ds: &mut Dataset, body: &Map<String, Value>, errors: &mut FieldErrors) {
    let raw: Vec<String> = match body.get("tags") {
        None => return,
        Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            push_error(errors, "tags", "Tags must be a list of strings");
            return;
        }
    };
    match normalize_tags(&raw) {
        Ok(tags) => ds.tags = tags,
        Err(msg) => push_error(errors, "tags", msg),
    }
}

/// Slugifies, de-duplicates and sorts tags; each must be 3 to 96 characters long.
pub fn normalize_tags(raw: &[String]) -> Result<Vec<String>, String> {
    let mut tags = Vec::new();
    for t in raw {
        if t.trim().is_empty() {
            continue;
        }
        let tag = slugify(t, false);
        if !(TAG_MIN_LENGTH..=TAG_MAX_LENGTH).contains(&tag.chars().count()) {
            return Err(format!(
                "Tag \"{tag}\" must be between {TAG_MIN_LENGTH} and {TAG_MAX_LENGTH} characters long."
            ));
        }
        tags.push(tag);
    }
    tags.sort();
    tags.dedup();
    Ok(tags)
}

fn apply_access(ds: &mut Dataset, body: &Map<String, Value>, errors: &mut FieldErrors) {
    match string_field(body, "access_type", 32, errors) {
        Given::Value(a) if ACCESS_TYPES.contains(&a.as_str()) => ds.access_type = a,
        Given::Value(_) => push_error(errors, "access_type", "Not a valid choice"),
        Given::Null => ds.access_type = "open".to_string(),
        Given::Absent => {}
    }
    match body.get("access_audiences") {
        None => {}
        Some(Value::Null) => ds.access_audiences.clear(),
        Some(Value::Array(list)) => {
            let mut roles = Vec::new();
            for a in list {
                let role = a.get("role").and_then(Value::as_str).unwrap_or("");
                let condition = a.get("condition").and_then(Value::as_str).unwrap_or("");
                if !AUDIENCE_ROLES.contains(&role) || !AUDIENCE_CONDITIONS.contains(&condition) {
                    push_error(errors, "access_audiences", "Not a valid choice");
                    return;
                }
                if roles.contains(&role) {
                    push_error(
                        errors,
                        "access_audiences",
                        "You can only set one condition for a given access audience role",
                    );
                    return;
                }
                roles.push(role);
            }
            ds.access_audiences = list
                .iter()
                .map(|a| json!({"role": a["role"], "condition": a["condition"]}))
                .collect();
        }
        Some(_) => push_error(errors, "access_audiences", "This field must be a list."),
    }
    match string_field(body, "authorization_request_url", 2048, errors) {
        Given::Value(u) if !u.is_empty() => match check_public_url(&u) {
            Ok(u) => ds.authorization_request_url = Some(u),
            Err(e) => push_error(errors, "authorization_request_url", e.to_string()),
        },
        Given::Value(_) | Given::Null => ds.authorization_request_url = None,
        Given::Absent => {}
    }
    apply_opt_string(
        body,
        "access_type_reason_category",
        255,
        &mut ds.access_type_reason_category,
        errors,
    );
    apply_opt_string(
        body,
        "access_type_reason",
        10_000,
        &mut ds.access_type_reason,
        errors,
    );
    if ds.access_type != "open" {
        ds.license = None;
    }
}

/// rudata has no contact points yet, so any id given cannot belong to the dataset's owner.
fn check_contact_points(body: &Map<String, Value>, errors: &mut FieldErrors) {
    match body.get("contact_points") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) if list.is_empty() => {}
        Some(Value::Array(_)) => {
            errors.insert(
                "contact_points".into(),
                json!(["Wrong contact point id or contact point ownership mismatch"]),
            );
        }
        Some(_) => push_error(errors, "contact_points", "This field must be a list."),
    }
}

/// `organization`/`owner`: an id string or `{"id": ...}`.
fn reference_field(
    body: &Map<String, Value>,
    key: &str,
    errors: &mut FieldErrors,
) -> Option<Option<String>> {
    match body.get(key) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.is_empty() => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(Value::Object(o)) => match o.get("id") {
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(Value::Null) | None => Some(None),
            Some(_) => {
                push_error(errors, key, "Not a valid identifier");
                None
            }
        },
        Some(_) => {
            push_error(errors, key, "Not a valid identifier");
            None
        }
    }
}

fn resources_field(
    body: &Map<String, Value>,
    errors: &mut FieldErrors,
) -> Option<Vec<Map<String, Value>>> {
    match body.get("resources") {
        None => None,
        Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(list)) => {
            if list.iter().all(Value::is_object) {
                Some(list.iter().filter_map(|v| v.as_object().cloned()).collect())
            } else {
                push_error(errors, "resources", "Each resource must be an object");
                None
            }
        }
        Some(_) => {
            push_error(errors, "resources", "This field must be a list.");
            None
        }
    }
}

/// The license as emitted: `notspecified` when there is none.
pub fn license_or_default(ds: &Dataset) -> &str {
    ds.license.as_deref().unwrap_or(DEFAULT_LICENSE)
}

/// `last_update`: the newest resource change, or the dataset's own `last_modified` without resources.
pub fn last_update(ds: &Dataset, resources: &[Resource]) -> DateTime<Utc> {
    resources
        .iter()
        .map(|r| r.last_modified)
        .max()
        .unwrap_or(ds.last_modified)
}

/// udata's quality indicators (keys in udata's order, which is alphabetical). The `Option`s appear
/// only when they apply: the resource ones with resources, `update_fulfilled_in_time` with a frequency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_resources_available: Option<bool>,
    pub dataset_description_quality: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_open_format: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_resources: Option<bool>,
    pub license: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources_documentation: Option<bool>,
    /// Points out of 9, whatever applies.
    pub score: f64,
    pub spatial: bool,
    pub temporal_coverage: bool,
    pub update_frequency: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_fulfilled_in_time: Option<bool>,
}

/// udata's quality indicators and score.
/// What a dataset's quality needs from its resources, over all of them: computed in memory from a
/// list, or by the store from the per-resource facts it keeps in columns (see `Resource::has_open_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceSummary {
    pub count: i64,
    pub any_open_format: bool,
    pub any_documented: bool,
    pub any_unavailable: bool,
}

impl ResourceSummary {
    pub fn of(resources: &[Resource]) -> Self {
        ResourceSummary {
            count: resources.len() as i64,
            any_open_format: resources.iter().any(Resource::has_open_format),
            any_documented: resources.iter().any(Resource::is_documented),
            any_unavailable: resources.iter().any(Resource::is_reported_unavailable),
        }
    }
}

pub fn quality(ds: &Dataset, resources: &[Resource], now: DateTime<Utc>) -> Quality {
    quality_of(
        ds,
        &ResourceSummary::of(resources),
        last_update(ds, resources),
        now,
    )
}

/// udata's quality of a dataset whose resources are summed up in `resources` and whose newest
/// resource change is `last_update`.
pub fn quality_of(
    ds: &Dataset,
    resources: &ResourceSummary,
    last_update: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Quality {
    let has_frequency = ds.frequency != "unknown";
    // Up to one day late still counts as on time; frequencies without a cadence always are.
    let update_fulfilled_in_time = has_frequency.then(|| {
        frequency_delta_secs(&ds.frequency).is_none_or(|delta| {
            let next = last_update + chrono::Duration::seconds(delta);
            next - now >= -chrono::Duration::days(1)
        })
    });
    let with_resources = |v: bool| (resources.count > 0).then_some(v);
    let has_open_format = with_resources(resources.any_open_format);
    let all_resources_available = with_resources(!resources.any_unavailable);
    let resources_documentation = with_resources(resources.any_documented);
    let mut q = Quality {
        all_resources_available,
        dataset_description_quality: ds.description.chars().count() > 100,
        has_open_format,
        has_resources: with_resources(true),
        // Any license counts, even an explicit `notspecified`; none at all does not.
        license: ds.license.is_some(),
        resources_documentation,
        score: 0.0,
        spatial: ds.spatial.is_some(),
        temporal_coverage: ds.temporal_coverage.is_some(),
        update_frequency: has_frequency,
        update_fulfilled_in_time,
    };
    let points = [
        q.license,
        q.temporal_coverage,
        q.spatial,
        q.update_frequency,
        q.dataset_description_quality,
        q.update_fulfilled_in_time == Some(true),
        q.has_open_format == Some(true),
        q.all_resources_available == Some(true),
        q.resources_documentation == Some(true),
    ]
    .iter()
    .filter(|ok| **ok)
    .count();
    q.score = points as f64 / 9.0;
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn tags_are_slugified_sorted_and_bounded() {
        assert_eq!(
            normalize_tags(&[" Aaa bBB $$ $$-µ  ".into()]).unwrap(),
            vec!["aaa-bbb-u"]
        );
        assert_eq!(
            normalize_tags(&["b-tag".into(), "a-tag".into(), "b-tag".into()]).unwrap(),
            vec!["a-tag", "b-tag"]
        );
        assert!(normalize_tags(&["ab".into()]).is_err());
        assert!(normalize_tags(&["a".repeat(97)]).is_err());
    }

    #[test]
    fn frequencies_report_a_message() {
        let mut ds = Dataset::blank("x".into(), Utc::now());
        let err = apply_dataset_input(&mut ds, &body(json!({"frequency": 1})), false).unwrap_err();
        assert_eq!(
            err,
            InputError::Message("'1' is not a valid UpdateFrequency".into())
        );
    }

    #[test]
    fn temporal_coverage_swaps_reversed_dates() {
        let mut ds = Dataset::blank("x".into(), Utc::now());
        let b = json!({"temporal_coverage": {"start": "2024-02-01", "end": "2024-01-01"}});
        apply_dataset_input(&mut ds, &body(b), false).unwrap();
        let tc = ds.temporal_coverage.unwrap();
        assert!(tc.start < tc.end.unwrap());
    }

    #[test]
    fn restricted_access_clears_license() {
        let mut ds = Dataset::blank("x".into(), Utc::now());
        ds.license = Some("lov2".into());
        apply_dataset_input(&mut ds, &body(json!({"access_type": "restricted"})), false).unwrap();
        assert_eq!(ds.license, None);
    }

    #[test]
    fn quality_without_resources_matches_udata() {
        let mut ds = Dataset::blank("x".into(), Utc::now());
        ds.license = Some("lov2".into());
        ds.frequency = "monthly".into();
        let q = quality(&ds, &[], Utc::now());
        assert_eq!(q.score, 3.0 / 9.0);
        assert_eq!(q.update_fulfilled_in_time, Some(true));
        assert_eq!(q.has_resources, None);
    }
}
