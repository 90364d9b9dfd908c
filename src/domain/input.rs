//! Reading untyped JSON request bodies field by field, the way udata's forms do:
//! absent keys keep the current value, `null` clears, wrong types become field errors.

use serde_json::{Map, Value};

/// Field errors as udata returns them: `{"field": ["message", ...]}`, nested for sub-forms.
pub type FieldErrors = Map<String, Value>;

/// Why a request body was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum InputError {
    /// 400 `{"errors": {...}}`.
    Fields(FieldErrors),
    /// 400 `{"message": "..."}`.
    Message(String),
}

pub const REQUIRED: &str = "This field is required.";

pub fn push_error(errors: &mut FieldErrors, field: &str, msg: impl Into<String>) {
    let entry = errors
        .entry(field.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        list.push(Value::String(msg.into()));
    }
}

/// What a body says about one key.
pub enum Given<T> {
    Absent,
    Null,
    Value(T),
}

/// An optional string field with a maximum length (in characters).
pub fn string_field(
    body: &Map<String, Value>,
    key: &str,
    max: usize,
    errors: &mut FieldErrors,
) -> Given<String> {
    match body.get(key) {
        None => Given::Absent,
        Some(Value::Null) => Given::Null,
        Some(Value::String(s)) => {
            if s.chars().count() > max {
                push_error(
                    errors,
                    key,
                    format!("Field cannot be longer than {max} characters."),
                );
                Given::Absent
            } else {
                Given::Value(s.clone())
            }
        }
        Some(Value::Number(n)) => Given::Value(n.to_string()),
        Some(_) => {
            push_error(errors, key, "Not a valid string.");
            Given::Absent
        }
    }
}

/// A required string: on creation it must be present, and it can never be set to null or empty.
pub fn required_string(
    body: &Map<String, Value>,
    key: &str,
    max: usize,
    creating: bool,
    errors: &mut FieldErrors,
) -> Option<String> {
    match string_field(body, key, max, errors) {
        Given::Value(s) if !s.trim().is_empty() => Some(s),
        Given::Absent if !creating => None,
        Given::Absent if errors.contains_key(key) => None,
        _ => {
            push_error(errors, key, REQUIRED);
            None
        }
    }
}

/// Applies an optional nullable string field to `target`.
pub fn apply_opt_string(
    body: &Map<String, Value>,
    key: &str,
    max: usize,
    target: &mut Option<String>,
    errors: &mut FieldErrors,
) {
    match string_field(body, key, max, errors) {
        Given::Absent => {}
        Given::Null => *target = None,
        Given::Value(s) if s.is_empty() => *target = None,
        Given::Value(s) => *target = Some(s),
    }
}

/// A boolean field; `null` means false (WTForms' BooleanField).
pub fn bool_field(body: &Map<String, Value>, key: &str, errors: &mut FieldErrors) -> Option<bool> {
    match body.get(key) {
        None => None,
        Some(Value::Null) => Some(false),
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" | "" => Some(false),
            _ => {
                push_error(errors, key, "Not a valid boolean.");
                None
            }
        },
        Some(_) => {
            push_error(errors, key, "Not a valid boolean.");
            None
        }
    }
}

/// An object field: `null` clears it (empty map).
pub fn object_field(
    body: &Map<String, Value>,
    key: &str,
    errors: &mut FieldErrors,
) -> Option<Map<String, Value>> {
    match body.get(key) {
        None => None,
        Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            push_error(errors, key, "This field must be an object.");
            None
        }
    }
}

/// A datetime field: `Given::Value` holds the parsed time.
pub fn datetime_field(
    body: &Map<String, Value>,
    key: &str,
    errors: &mut FieldErrors,
) -> Given<chrono::DateTime<chrono::Utc>> {
    match body.get(key) {
        None => Given::Absent,
        Some(Value::Null) => Given::Null,
        Some(Value::String(s)) if s.is_empty() => Given::Null,
        Some(Value::String(s)) => match super::time::parse_client(s) {
            Some(t) => Given::Value(t),
            None => {
                push_error(errors, key, "Not a valid datetime value.");
                Given::Absent
            }
        },
        Some(_) => {
            push_error(errors, key, "Not a valid datetime value.");
            Given::Absent
        }
    }
}

/// Finishes validation: no errors, or all of them.
pub fn finish(errors: FieldErrors) -> Result<(), InputError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(InputError::Fields(errors))
    }
}
