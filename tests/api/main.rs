//! The in-process API suite: the real router on a temporary SQLite database and a temporary
//! files directory, driven through `tower::ServiceExt::oneshot`. One binary for all API tests.

#[path = "../common/mod.rs"]
mod common;
mod helpers;

mod auth;
mod datasets;
mod hardening;
mod organizations;
mod resources;
mod uploads;
