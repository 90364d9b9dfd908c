//! The handles every request, command and job shares. Its own module, so that `app`, `auth`, the
//! handlers and the operations all depend on it and none of them on each other.

use std::sync::Arc;

use crate::api::cache::ResponseCache;
use crate::auth::IdentityCache;
use crate::config::Config;
use crate::domain::rate_limit::Counters;
use crate::files::Files;
use crate::hosts::HostGuard;
use crate::metrics::Metrics;
use crate::store::Store;

/// Handles shared by every request, the CLI and the jobs.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub files: Files,
    pub config: Arc<Config>,
    /// Answers kept for anonymous reads (`api::cache`), sized by `config.cache_size`.
    pub cache: Arc<ResponseCache>,
    /// Identities resolved from API keys (`auth`), kept at most `config.identity_ttl`.
    pub identities: Arc<IdentityCache>,
    /// Judges where remote resources' host names point (`hosts`).
    pub hosts: Arc<HostGuard>,
    /// This node's rate-limit counts (`api::rate_limit`), shared with the others by
    /// `jobs::rate_limits`.
    pub rate_limits: Arc<Counters>,
    /// This node's operational metrics (`/metrics`) and its views and downloads not yet flushed.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(store: Store, files: Files, config: Config) -> Self {
        let cache = Arc::new(ResponseCache::new(config.cache_size));
        let identities = Arc::new(IdentityCache::new(config.identity_ttl));
        let hosts = Arc::new(HostGuard::new(&config.dns_servers));
        AppState {
            store,
            files,
            config: Arc::new(config),
            cache,
            identities,
            hosts,
            rate_limits: Arc::default(),
            metrics: Arc::default(),
        }
    }
}
