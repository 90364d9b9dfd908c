//! The handles every request, command and job shares. Its own module, so that `app`, `auth`, the
//! handlers and the operations all depend on it and none of them on each other.

use std::sync::Arc;

use crate::config::Config;
use crate::files::Files;
use crate::store::Store;

/// Handles shared by every request, the CLI and the jobs.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub files: Files,
    pub config: Arc<Config>,
}
