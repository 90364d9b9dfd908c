//! The in-process API suite: the real router on a temporary SQLite database and a temporary
//! files directory, driven through `tower::ServiceExt::oneshot`. One binary for all API tests.

#[path = "../common/mod.rs"]
mod common;
mod dataset_helpers;
mod health;
mod helpers;
mod resource_helpers;
mod v2_helpers;

mod auth;
mod authorization_matrix;
mod cache;
mod compression;
mod datasets_create;
mod datasets_delete;
mod datasets_filters;
mod datasets_list;
mod datasets_read;
mod datasets_slugs;
mod datasets_stream;
mod datasets_update;
mod datasets_update_resources;
mod error_shapes;
mod exports;
mod hardening;
mod hardening_files;
mod hardening_hosts;
mod http_caching;
mod masks;
mod openapi;
mod organizations;
mod organizations_datasets;
mod organizations_invitations;
mod properties;
mod rate_limits;
mod reference_lists;
mod request_ids;
mod resources_delete;
mod resources_files;
mod resources_remote;
mod resources_update;
mod resources_upload;
mod search_filters;
mod search_text;
mod search_upgrade;
mod search_v2;
mod server;
mod suggest;
mod tokens_scopes;
mod uploads;
mod uploads_field_order;
mod v2_datasets;
mod v2_extras;
mod v2_organization_extras;
mod v2_resources;
mod writes;
