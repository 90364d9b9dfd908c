//! `X-Fields` field masks, as flask-restx reads and applies them in udata: `id,title,resources{id,url}`,
//! `*` for every other field, `{…}` for the fields of a nested object or of each object of a list.
//!
//! udata masks the model before marshalling; rudata masks the JSON of the answer, which holds the
//! model's fields, so the result is the same: a masked field the object lacks is left out, a nested
//! mask on `null` gives `null`, a nested mask on a string, number or boolean is an error. A
//! paginated answer is masked as udata masks it: on the envelope (`data{id},total`).
//!
//! [`reshape`] applies the mask to the successful JSON answers of `GET` requests, whichever handler
//! made them (v1 and v2 reads alike). Without the header it only looks the header up.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The request header carrying the mask (udata's `RESTX_MASK_HEADER`).
pub const HEADER: &str = "x-fields";

/// Marks an answer that udata does not marshal through a model, so that it ignores masks
/// (tag, format and MIME type suggestions): put it in the response's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Unmasked;

/// What a masked field keeps.
#[derive(Debug, Clone, PartialEq)]
enum Keep {
    /// The whole value.
    All,
    /// The fields of the nested object (or of each object of the list) that this mask keeps.
    Nested(Mask),
}

/// A parsed mask: field names in the order written (a repeated name keeps its first place and its
/// last meaning, as in flask-restx's ordered dict).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mask {
    fields: Vec<(String, Keep)>,
}

/// Why a mask was refused; both are 400 in udata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaskError {
    Parse(&'static str),
    Inconsistent,
}

impl MaskError {
    /// udata's message.
    pub fn message(&self) -> String {
        match self {
            MaskError::Parse(why) => format!("Mask parse error: {why}"),
            MaskError::Inconsistent => "Mask error: Mask is inconsistent with model".to_string(),
        }
    }
}

/// A token of flask-restx's lexer: `{`, `}`, `,` or a run of word characters, `:`, `-` and `*`.
/// Every other character is skipped (`id title` is two fields).
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Comma,
    Name(String),
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut name = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '*') {
            name.push(c);
            continue;
        }
        if !name.is_empty() {
            out.push(Token::Name(std::mem::take(&mut name)));
        }
        match c {
            '{' => out.push(Token::Open),
            '}' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            _ => {}
        }
    }
    if !name.is_empty() {
        out.push(Token::Name(name));
    }
    out
}

impl Mask {
    /// Parses a mask with flask-restx's rules and messages. Outer braces are optional.
    pub fn parse(text: &str) -> Result<Mask, MaskError> {
        let text = text.replace('\n', "");
        let mut text = text.trim();
        if text.starts_with('{') {
            if !text.ends_with('}') || text.len() < 2 {
                return Err(MaskError::Parse("Missing closing bracket"));
            }
            text = &text[1..text.len() - 1];
        }
        let mut current = Mask::default();
        // The masks being filled, each with the name its nested mask will take.
        let mut stack: Vec<(Mask, String)> = Vec::new();
        let mut previous: Option<Token> = None;
        for token in tokens(text) {
            match &token {
                Token::Open => match &previous {
                    Some(Token::Name(name)) if current.has(name) => {
                        stack.push((std::mem::take(&mut current), name.clone()));
                    }
                    _ => return Err(MaskError::Parse("Unexpected opening bracket")),
                },
                Token::Close => match stack.pop() {
                    Some((mut parent, name)) => {
                        parent.set(&name, Keep::Nested(std::mem::take(&mut current)));
                        current = parent;
                    }
                    None => return Err(MaskError::Parse("Unexpected closing bracket")),
                },
                Token::Comma => {
                    if matches!(previous, None | Some(Token::Comma | Token::Open)) {
                        return Err(MaskError::Parse("Unexpected comma"));
                    }
                }
                Token::Name(name) => current.set(name, Keep::All),
            }
            previous = Some(token);
        }
        if !stack.is_empty() {
            return Err(MaskError::Parse("Missing closing bracket"));
        }
        Ok(current)
    }

    fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    fn set(&mut self, name: &str, keep: Keep) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = keep,
            None => self.fields.push((name.to_string(), keep)),
        }
    }

    /// Masks an answer: an object, or each object of a list (other values pass unchanged: udata
    /// answers them without a model).
    pub fn apply_to_answer(&self, answer: Value) -> Result<Value, MaskError> {
        match answer {
            Value::Object(map) => Ok(Value::Object(self.filter(map)?)),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::Object(map) => Ok(Value::Object(self.filter(map)?)),
                    other => Ok(other),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => Ok(other),
        }
    }

    /// Masks the value of a field that has a nested mask.
    fn apply_nested(&self, value: Value) -> Result<Value, MaskError> {
        match value {
            Value::Null => Ok(Value::Null),
            Value::Object(map) => Ok(Value::Object(self.filter(map)?)),
            Value::Array(items) => items
                .into_iter()
                .map(|item| self.apply_nested(item))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Err(MaskError::Inconsistent),
        }
    }

    fn filter(&self, mut map: Map<String, Value>) -> Result<Map<String, Value>, MaskError> {
        let mut out = Map::new();
        for (name, keep) in &self.fields {
            if name == "*" {
                continue;
            }
            let Some(value) = map.remove(name) else {
                continue;
            };
            let value = match keep {
                Keep::All => value,
                Keep::Nested(mask) => mask.apply_nested(value)?,
            };
            out.insert(name.clone(), value);
        }
        if self.has("*") {
            for (name, value) in map {
                out.entry(name).or_insert(value);
            }
        }
        Ok(out)
    }
}

/// The mask layer: reshapes the successful JSON answer of a `GET` carrying `X-Fields`.
/// A malformed mask is reported only on such an answer, as udata reports it while marshalling.
pub async fn reshape(req: Request, next: Next) -> Response {
    let wanted = (req.method() == Method::GET)
        .then(|| req.headers().get(HEADER))
        .flatten()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .filter(|v| !v.is_empty());
    let Some(text) = wanted else {
        return next.run(req).await;
    };
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !response.status().is_success()
        || !is_json
        || response.extensions().get::<Unmasked>().is_some()
    {
        return response;
    }
    let mask = match Mask::parse(&text) {
        Ok(mask) => mask,
        Err(e) => return ApiError::BadRequest(e.message()).into_response(),
    };
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => return ApiError::Internal(anyhow::Error::new(e)).into_response(),
    };
    let Ok(answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    match mask.apply_to_answer(answer) {
        Ok(masked) => match serde_json::to_vec(&masked) {
            Ok(body) => {
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(body))
            }
            Err(e) => ApiError::Internal(e.into()).into_response(),
        },
        Err(e) => ApiError::BadRequest(e.message()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn apply(mask: &str, value: Value) -> Result<Value, MaskError> {
        Mask::parse(mask)?.apply_to_answer(value)
    }

    #[test]
    fn parse_errors_are_flask_restx_ones() {
        for (mask, why) in [
            ("id,{", "Unexpected opening bracket"),
            ("{id", "Missing closing bracket"),
            ("{", "Missing closing bracket"),
            ("id}", "Unexpected closing bracket"),
            (",id", "Unexpected comma"),
            ("id,,title", "Unexpected comma"),
            ("a{,b}", "Unexpected comma"),
            ("a{b}{c}", "Unexpected opening bracket"),
            ("a{b", "Missing closing bracket"),
        ] {
            assert_eq!(Mask::parse(mask), Err(MaskError::Parse(why)), "{mask}");
        }
        for ok in [
            "id",
            "{id,title}",
            "id title",
            "id,",
            "a{b{c}},d",
            "*",
            "{}",
            "id,$%^",
        ] {
            assert!(Mask::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn masks_keep_what_they_name() {
        let doc = json!({"id": "d", "title": "T", "tags": ["a"], "owner": null,
            "resources": [{"id": "r", "url": "u", "title": "x"}], "organization": {"name": "O", "id": "o"}});
        assert_eq!(
            apply("id,resources{id,url},nope", doc.clone()),
            Ok(json!({"id": "d", "resources": [{"id": "r", "url": "u"}]}))
        );
        assert_eq!(
            apply("owner{id},organization{name}", doc.clone()),
            Ok(json!({"owner": null, "organization": {"name": "O"}}))
        );
        assert_eq!(apply("*", doc.clone()), Ok(doc.clone()));
        assert_eq!(
            apply("*,resources{id}", doc.clone())
                .unwrap()
                .get("resources")
                .cloned(),
            Some(json!([{"id": "r"}]))
        );
        assert_eq!(apply("{}", doc.clone()), Ok(json!({})));
        assert_eq!(apply("title{x}", doc.clone()), Err(MaskError::Inconsistent));
        assert_eq!(apply("tags{x}", doc.clone()), Err(MaskError::Inconsistent));
        assert_eq!(
            apply("id", json!([{"id": 1, "x": 2}, "plain"])),
            Ok(json!([{"id": 1}, "plain"]))
        );
    }
}
