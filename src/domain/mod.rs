//! Plain types and rules: no HTTP, no SQL, no storage.

pub mod activity;
pub mod api_token;
pub mod checks;
pub mod dataset;
pub mod dcat;
pub mod extras;
pub mod ids;
pub mod input;
pub mod organization;
pub mod permissions;
pub mod rate_limit;
pub mod reference;
pub mod resource;
pub mod search;
pub mod slug;
pub mod time;
pub mod url_check;
pub mod user;
