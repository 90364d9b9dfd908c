//! Extras: the free key-value pairs of datasets, resources and organizations, and udata's rules for
//! changing them through the API v2 extras endpoints. A `PUT` merges an object (a `null` value
//! removes its key), a `DELETE` names keys to remove; keys written by platform services (checks,
//! analyses, harvesting) are reserved to them; a few keys hold typed values; an organization's
//! `custom` key describes custom fields. Errors carry udata's messages and shapes.

use serde_json::{Map, Value};

use super::time::parse_client;
use super::url_check::check_public_url;

/// Whose extras: the rules differ for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtrasOwner {
    Dataset,
    Resource,
    Organization,
}

/// What a typed key's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueType {
    Bool,
    Int,
    DateTime,
    Url,
}

impl ExtrasOwner {
    /// Keys written by platform services, as udata's glob patterns (`*` at the end, or exact). The
    /// lists differ: hydra, validata and the CSV exports write on resources; transport, the
    /// recommendations job and the DCAT harvester on datasets.
    fn reserved_patterns(self) -> &'static [&'static str] {
        match self {
            ExtrasOwner::Resource => &[
                "analysis:*",
                "check:*",
                "csv-export:*",
                "validation-report:*",
                "dcat",
            ],
            ExtrasOwner::Dataset => &["transport:*", "recommendations*", "dcat"],
            ExtrasOwner::Organization => &[],
        }
    }

    /// The type a key's value must have, if the key is typed. URLs are typed because clients render
    /// them as links (a `javascript:` value would be stored XSS).
    fn value_type(self, key: &str) -> Option<ValueType> {
        match (self, key) {
            (ExtrasOwner::Resource, "check:available") => Some(ValueType::Bool),
            (ExtrasOwner::Resource, "check:status") => Some(ValueType::Int),
            (ExtrasOwner::Resource, "check:date") => Some(ValueType::DateTime),
            (
                ExtrasOwner::Resource,
                "analysis:parsing:parquet_url"
                | "analysis:parsing:geojson_url"
                | "analysis:parsing:pmtiles_url"
                | "apidocUrl"
                | "datafairOrigin",
            ) => Some(ValueType::Url),
            (ExtrasOwner::Dataset, "datafairOrigin" | "transport:url") => Some(ValueType::Url),
            _ => None,
        }
    }

    fn class(self) -> &'static str {
        match self {
            ExtrasOwner::Dataset => "Dataset",
            ExtrasOwner::Resource => "Resource",
            ExtrasOwner::Organization => "Organization",
        }
    }
}

/// The keys among `keys` that are reserved to platform services on `owner`, in the given order.
pub fn reserved_keys<'a>(owner: ExtrasOwner, keys: &[&'a str]) -> Vec<&'a str> {
    let reserved = |key: &str| {
        owner
            .reserved_patterns()
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => key.starts_with(prefix),
                None => key == *p,
            })
    };
    keys.iter().copied().filter(|k| reserved(k)).collect()
}

/// udata's answer when a caller who is not a sysadmin names reserved keys.
pub fn reserved_message(keys: &[&str]) -> String {
    format!(
        "Extras keys reserved to platform services: {}",
        keys.join(", ")
    )
}

/// A change asked of a set of extras.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtrasChange {
    /// Each key set to its value, or removed when the value is `null`, in the request's order.
    Merge(Vec<(String, Value)>),
    /// Keys to remove.
    Remove(Vec<String>),
}

impl ExtrasChange {
    /// The keys the change names, in the request's order.
    pub fn keys(&self) -> Vec<&str> {
        match self {
            ExtrasChange::Merge(pairs) => pairs.iter().map(|(k, _)| k.as_str()).collect(),
            ExtrasChange::Remove(keys) => keys.iter().map(String::as_str).collect(),
        }
    }

    /// Applies the change. With `strict`, removing an absent key fails (udata's resource extras:
    /// then nothing is changed); otherwise absent keys are skipped.
    pub fn apply(&self, extras: &mut Map<String, Value>, strict: bool) -> Result<(), MissingKey> {
        match self {
            ExtrasChange::Merge(pairs) => {
                for (key, value) in pairs {
                    if value.is_null() {
                        extras.remove(key);
                    } else {
                        extras.insert(key.clone(), value.clone());
                    }
                }
            }
            ExtrasChange::Remove(keys) => {
                if strict && keys.iter().any(|k| !extras.contains_key(k)) {
                    return Err(MissingKey);
                }
                for key in keys {
                    extras.remove(key);
                }
            }
        }
        Ok(())
    }
}

/// A key to remove was not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingKey;

pub const MISSING_KEY_MESSAGE: &str = "Key not found in existing extras";

const DOLLAR_KEY: &str = "Invalid dictionary key name - keys may not startswith \"$\" characters";
const CUSTOM_MANDATORY: &str =
    "The dictionary does not contain the mandatory keys: 'title', 'description', 'type'.";
const CUSTOM_EXTRA_KEYS: &str = "The dictionary does contains extra keys than allowed ones.";
const CUSTOM_CHOICES: &str = "The 'choices' key must be an non empty list and can only be present when type 'choice' is selected.";
const CUSTOM_TYPES: [&str; 7] = ["str", "int", "float", "bool", "datetime", "date", "choice"];

/// Why a set of extras was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtrasError {
    /// A key of an object (at any depth of nested objects) starts with `$`.
    DollarKey,
    /// Values that do not fit their key's type: `(key, message)` in key order.
    Values(Vec<(String, String)>),
    /// An organization's `custom` definitions: `(field, message)` in udata's order.
    Custom(Vec<(&'static str, String)>),
    /// `custom` is not a list of objects: the error udata reports then.
    CustomShape(String),
}

/// Checks a whole set of extras (as it would be after a change), as udata does before saving.
pub fn validate(owner: ExtrasOwner, extras: &Map<String, Value>) -> Result<(), ExtrasError> {
    if has_dollar_key(extras) {
        return Err(ExtrasError::DollarKey);
    }
    if owner == ExtrasOwner::Organization {
        return extras.get("custom").map_or(Ok(()), check_custom);
    }
    let errors: Vec<(String, String)> = extras
        .iter()
        .filter_map(|(key, value)| {
            let kind = owner.value_type(key)?;
            check_value(kind, value)
                .err()
                .map(|message| (key.clone(), message))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ExtrasError::Values(errors))
    }
}

fn has_dollar_key(map: &Map<String, Value>) -> bool {
    map.iter().any(|(k, v)| {
        k.starts_with('$') || matches!(v, Value::Object(inner) if has_dollar_key(inner))
    })
}

fn check_value(kind: ValueType, value: &Value) -> Result<(), String> {
    match (kind, value) {
        (ValueType::Bool, Value::Bool(_)) => Ok(()),
        (ValueType::Bool, _) => Err("BooleanField only accepts boolean values".into()),
        (ValueType::Int, Value::Bool(_) | Value::Number(_)) => Ok(()),
        (ValueType::Int, Value::String(s)) if is_python_int(s) => Ok(()),
        (ValueType::Int, other) => Err(format!("{} could not be converted to int", py_str(other))),
        (ValueType::DateTime, Value::String(s)) if parse_client(s).is_some() => Ok(()),
        (ValueType::DateTime, other) => Err(format!("cannot parse date \"{}\"", py_str(other))),
        (ValueType::Url, Value::String(s)) => {
            check_public_url(s).map(drop).map_err(|e| e.to_string())
        }
        (ValueType::Url, _) => Err("StringField only accepts string values".into()),
    }
}

/// Does Python's `int()` read this text (spaces around, a sign, digits with single underscores)?
fn is_python_int(s: &str) -> bool {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// udata's checks of an organization's custom field definitions.
fn check_custom(custom: &Value) -> Result<(), ExtrasError> {
    let elems: Vec<&Value> = match custom {
        Value::Array(list) => list.iter().collect(),
        // Python iterates a string's characters and a dict's keys, then fails on the first one.
        Value::String(s) if s.is_empty() => return Ok(()),
        Value::Object(m) if m.is_empty() => return Ok(()),
        Value::String(_) | Value::Object(_) => return Err(no_get("str")),
        other => {
            return Err(ExtrasError::CustomShape(format!(
                "'{}' object is not iterable",
                py_type(other)
            )));
        }
    };
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let mut set =
        |field: &'static str, message: String| match errors.iter_mut().find(|(f, _)| *f == field) {
            Some(e) => e.1 = message,
            None => errors.push((field, message)),
        };
    for elem in elems {
        let m = match elem {
            Value::Object(m) => m,
            Value::String(_) | Value::Array(_) => return Err(no_get(py_type(elem))),
            other => {
                return Err(ExtrasError::CustomShape(format!(
                    "argument of type '{}' is not iterable",
                    py_type(other)
                )));
            }
        };
        if !["title", "description", "type"]
            .iter()
            .all(|k| m.contains_key(*k))
        {
            set("custom", CUSTOM_MANDATORY.into());
        }
        if !m
            .keys()
            .all(|k| ["title", "description", "type", "choices"].contains(&k.as_str()))
        {
            set("custom", CUSTOM_EXTRA_KEYS.into());
        }
        let kind = m.get("type");
        if !kind
            .and_then(Value::as_str)
            .is_some_and(|t| CUSTOM_TYPES.contains(&t))
        {
            set(
                "type",
                format!(
                    "Type '{}' of '{}' should be one of: ['str', 'int', 'float', 'bool', 'datetime', 'date', 'choice']",
                    kind.map_or("None".into(), py_str),
                    m.get("title").map_or("None".into(), py_str),
                ),
            );
        }
        let choices_ok = if kind.and_then(Value::as_str) == Some("choice") {
            m.get("choices")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty())
        } else {
            !m.contains_key("choices")
        };
        if !choices_ok {
            set("choices", CUSTOM_CHOICES.into());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ExtrasError::Custom(errors))
    }
}

fn no_get(type_name: &str) -> ExtrasError {
    ExtrasError::CustomShape(format!("'{type_name}' object has no attribute 'get'"))
}

impl ExtrasError {
    /// udata's 400 body for this error on `owner` `id`: `(errors, message)`. A resource reports its
    /// own fields; a dataset or an organization reports them under `extras`, in a document error.
    pub fn to_errors(&self, owner: ExtrasOwner, id: &str) -> (Map<String, Value>, String) {
        let mut errors = Map::new();
        if owner == ExtrasOwner::Resource {
            let message = match self {
                ExtrasError::Values(values) => {
                    for (k, m) in values {
                        errors.insert(k.clone(), Value::String(m.clone()));
                    }
                    format!("Unsupported types({})", group_by_message(values))
                }
                _ => DOLLAR_KEY.to_string(),
            };
            return (errors, message);
        }
        let (detail, text) = match self {
            ExtrasError::DollarKey => (Value::String(DOLLAR_KEY.into()), DOLLAR_KEY.to_string()),
            ExtrasError::CustomShape(m) => (Value::String(m.clone()), m.clone()),
            ExtrasError::Values(values) => {
                field_errors(values.iter().map(|(k, m)| (k.as_str(), m)))
            }
            ExtrasError::Custom(values) => field_errors(values.iter().map(|(k, m)| (*k, m))),
        };
        errors.insert("extras".into(), detail);
        let message = format!(
            "ValidationError ({}:{id}) ({text}: ['extras'])",
            owner.class()
        );
        (errors, message)
    }
}

/// Nested field errors, and their text as mongoengine words it (`key.message key.message`).
fn field_errors<'a>(values: impl Iterator<Item = (&'a str, &'a String)>) -> (Value, String) {
    let mut map = Map::new();
    let mut parts = Vec::new();
    for (k, m) in values {
        map.insert(k.to_string(), Value::String(m.clone()));
        parts.push(format!("{k}.{m}"));
    }
    (Value::Object(map), parts.join(" "))
}

/// mongoengine's summary of field errors: each message once, with the keys that have it.
fn group_by_message(values: &[(String, String)]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (key, message) in values {
        match groups.iter_mut().find(|(m, _)| m == message) {
            Some((_, keys)) => keys.push(key),
            None => groups.push((message, vec![key])),
        }
    }
    groups
        .iter()
        .map(|(m, keys)| {
            let list: Vec<String> = keys.iter().map(|k| py_repr_str(k)).collect();
            format!("{m}: [{}]", list.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JSON value as Python's `str()` shows it (udata's messages quote client values this way).
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_repr_str(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr_str(k), py_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `repr()` of a string: single quotes unless the text holds one and no double quote.
fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reserved_keys_follow_each_owner_list() {
        let keys = [
            "check:available",
            "analysis:x",
            "csv-export:model",
            "validation-report:x",
            "dcat",
            "dcat:x",
            "transport:url",
            "recommendations-x",
            "mine",
        ];
        assert_eq!(
            reserved_keys(ExtrasOwner::Resource, &keys),
            [
                "check:available",
                "analysis:x",
                "csv-export:model",
                "validation-report:x",
                "dcat"
            ]
        );
        assert_eq!(
            reserved_keys(ExtrasOwner::Dataset, &keys),
            ["dcat", "transport:url", "recommendations-x"]
        );
        assert!(reserved_keys(ExtrasOwner::Organization, &keys).is_empty());
        assert_eq!(
            reserved_message(&["dcat", "check:x"]),
            "Extras keys reserved to platform services: dcat, check:x"
        );
    }

    #[test]
    fn merge_sets_and_null_removes_and_strict_remove_needs_every_key() {
        let mut extras = map(json!({"a": 1, "b": 2}));
        ExtrasChange::Merge(vec![("a".into(), Value::Null), ("c".into(), json!([1]))])
            .apply(&mut extras, true)
            .unwrap();
        assert_eq!(Value::Object(extras.clone()), json!({"b": 2, "c": [1]}));
        let remove = ExtrasChange::Remove(vec!["b".into(), "zz".into()]);
        assert_eq!(remove.apply(&mut extras, true), Err(MissingKey));
        assert_eq!(Value::Object(extras.clone()), json!({"b": 2, "c": [1]}));
        remove.apply(&mut extras, false).unwrap();
        assert_eq!(Value::Object(extras), json!({"c": [1]}));
    }

    #[test]
    fn typed_resource_values_are_checked_with_udata_messages() {
        let bad = map(json!({
            "check:status": "x", "check:available": "y", "apidocUrl": "nope",
            "datafairOrigin": 5, "check:date": 5, "free": {"any": [1]}
        }));
        let err = validate(ExtrasOwner::Resource, &bad).unwrap_err();
        let (errors, message) = err.to_errors(ExtrasOwner::Resource, "r");
        assert_eq!(
            Value::Object(errors),
            json!({
                "apidocUrl": "Invalid URL \"nope\"",
                "check:available": "BooleanField only accepts boolean values",
                "check:date": "cannot parse date \"5\"",
                "check:status": "x could not be converted to int",
                "datafairOrigin": "StringField only accepts string values",
            })
        );
        assert_eq!(
            message,
            "Unsupported types(Invalid URL \"nope\": ['apidocUrl'] BooleanField only accepts boolean values: ['check:available'] cannot parse date \"5\": ['check:date'] x could not be converted to int: ['check:status'] StringField only accepts string values: ['datafairOrigin'])"
        );
        let good = map(json!({
            "check:status": " 1_0 ", "check:available": false, "check:date": "2024-01-05",
            "apidocUrl": "https://example.com/doc", "check:x": "anything"
        }));
        assert_eq!(validate(ExtrasOwner::Resource, &good), Ok(()));
        let err = validate(
            ExtrasOwner::Resource,
            &map(json!({"check:status": [1, {"a": "b"}]})),
        );
        assert_eq!(
            err.unwrap_err().to_errors(ExtrasOwner::Resource, "r").1,
            "Unsupported types([1, {'a': 'b'}] could not be converted to int: ['check:status'])"
        );
    }

    #[test]
    fn same_messages_are_grouped_and_keys_quoted_as_python_does() {
        let values = vec![
            ("a".to_string(), "m".to_string()),
            ("it's".to_string(), "m".to_string()),
        ];
        assert_eq!(group_by_message(&values), "m: ['a', \"it's\"]");
    }

    #[test]
    fn dataset_errors_nest_under_extras_with_a_document_message() {
        let err = validate(
            ExtrasOwner::Dataset,
            &map(json!({"datafairOrigin": "nope", "transport:url": "nope", "check:status": "x"})),
        )
        .unwrap_err();
        let (errors, message) = err.to_errors(ExtrasOwner::Dataset, "d1");
        assert_eq!(
            Value::Object(errors),
            json!({"extras": {"datafairOrigin": "Invalid URL \"nope\"", "transport:url": "Invalid URL \"nope\""}})
        );
        assert_eq!(
            message,
            "ValidationError (Dataset:d1) (datafairOrigin.Invalid URL \"nope\" transport:url.Invalid URL \"nope\": ['extras'])"
        );
    }

    #[test]
    fn dollar_keys_are_refused_in_nested_objects_only() {
        for owner in [
            ExtrasOwner::Dataset,
            ExtrasOwner::Resource,
            ExtrasOwner::Organization,
        ] {
            assert_eq!(
                validate(owner, &map(json!({"n": {"$a": 1}}))),
                Err(ExtrasError::DollarKey)
            );
            assert_eq!(
                validate(owner, &map(json!({"n": [{"$a": 1}], "a.b": 1}))),
                Ok(())
            );
        }
        let (errors, message) = ExtrasError::DollarKey.to_errors(ExtrasOwner::Resource, "r");
        assert!(errors.is_empty());
        assert_eq!(message, DOLLAR_KEY);
        let (errors, message) = ExtrasError::DollarKey.to_errors(ExtrasOwner::Organization, "o");
        assert_eq!(Value::Object(errors), json!({"extras": DOLLAR_KEY}));
        assert_eq!(
            message,
            format!("ValidationError (Organization:o) ({DOLLAR_KEY}: ['extras'])")
        );
    }

    #[test]
    fn organization_custom_definitions_are_checked() {
        let check = |v: Value| validate(ExtrasOwner::Organization, &map(json!({"custom": v})));
        assert_eq!(
            check(json!([{"title": "t", "description": "d", "type": "choice", "choices": ["a"]}])),
            Ok(())
        );
        for ok in [json!([]), json!(""), json!({})] {
            assert_eq!(check(ok), Ok(()));
        }
        assert_eq!(
            check(json!([{"title": "t", "description": "d", "type": "x"}, {"title": "u"}])),
            Err(ExtrasError::Custom(vec![
                (
                    "type",
                    "Type 'None' of 'u' should be one of: ['str', 'int', 'float', 'bool', 'datetime', 'date', 'choice']".into()
                ),
                ("custom", CUSTOM_MANDATORY.into()),
            ]))
        );
        assert_eq!(
            check(json!([{"title": "t", "description": "d", "type": "str", "choices": []}])),
            Err(ExtrasError::Custom(vec![(
                "choices",
                CUSTOM_CHOICES.into()
            )]))
        );
        assert_eq!(check(json!("abc")), Err(no_get("str")));
        assert_eq!(check(json!([[1]])), Err(no_get("list")));
        assert!(matches!(check(json!(5)), Err(ExtrasError::CustomShape(_))));
        assert!(matches!(
            check(json!([1])),
            Err(ExtrasError::CustomShape(_))
        ));
        // Other keys are free on organizations.
        assert_eq!(
            validate(
                ExtrasOwner::Organization,
                &map(json!({"check:status": "x", "dcat": 1}))
            ),
            Ok(())
        );
    }
}
