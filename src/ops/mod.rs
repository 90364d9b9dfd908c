//! Operations: one plain `async fn` per write, each one transaction, called alike by the HTTP
//! handlers (which parse, authorize and render around them), the CLI and the jobs.
//!
//! An operation takes the shared state and typed input, and returns what it wrote. Its errors are
//! the API's error type, whose variants name the outcome (not found, gone, invalid field…) and are
//! mapped to HTTP only at the edge (`error.rs`); the CLI prints them.

pub mod checks;
pub mod datasets;
pub mod extras;
pub mod organizations;
pub mod purge;
pub mod resources;
pub mod tokens;
pub mod uploads;
pub mod users;

use serde_json::{Map, Value};

use crate::domain::resource::{FILETYPE_REMOTE, Resource};
use crate::hosts::Verdicts;
use crate::store::DatasetRow;

/// A dataset as a write left it, with its resources in order: what the API renders.
pub struct DatasetWritten {
    pub row: DatasetRow,
    pub resources: Vec<Resource>,
}

/// The `url` a resource form carries, if any: what `HostGuard::resolve` looks up before the write.
fn form_url(form: &Map<String, Value>) -> Option<&str> {
    form.get("url").and_then(Value::as_str)
}

/// Why remote resource `r` may not point where its URL's host name resolves (`hosts`), when that URL
/// is new (`before`: the URL it had).
fn host_refusal(verdicts: &Verdicts, r: &Resource, before: Option<&str>) -> Option<String> {
    if r.filetype != FILETYPE_REMOTE || before == Some(r.url.as_str()) {
        return None;
    }
    verdicts.check(&r.url).err().map(|e| e.to_string())
}
