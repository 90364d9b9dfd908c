//! API v2 (`/api/2/`): udata's second version, beside v1 (same conventions, other shapes).

pub mod render;
pub mod search;
