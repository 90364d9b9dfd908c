//! Operations: one plain `async fn` per write, each one transaction, called alike by the HTTP
//! handlers (which parse, authorize and render around them), the CLI and the jobs.
//!
//! An operation takes the shared state and typed input, and returns what it wrote. Its errors are
//! the API's error type, whose variants name the outcome (not found, gone, invalid field…) and are
//! mapped to HTTP only at the edge (`error.rs`); the CLI prints them.

pub mod datasets;
pub mod extras;
pub mod organizations;
pub mod purge;
pub mod resources;
pub mod tokens;
pub mod uploads;
pub mod users;

use crate::domain::resource::Resource;
use crate::store::DatasetRow;

/// A dataset as a write left it, with its resources in order: what the API renders.
pub struct DatasetWritten {
    pub row: DatasetRow,
    pub resources: Vec<Resource>,
}
