//! API v2 (`/api/2/`): udata's second API, for clients that page through what v1 embeds (a dataset's
//! resources), for the extras endpoints platform services write to, and for search.

pub mod datasets;
pub mod extras;
pub mod render;
pub mod search;
