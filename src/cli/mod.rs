//! The `rudata` command line: the server and the operator commands. Commands print only what a
//! script needs on stdout; errors go to stderr with a non-zero exit.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::api::cache::ResponseCache;
use crate::config::{
    Config, DEFAULT_RATE_LIMIT_ANONYMOUS, DEFAULT_RATE_LIMIT_AUTHENTICATED, Limits, PurgeConfig,
    RateLimits, load_or_create_secret, parse_duration, parse_trusted_proxy,
};
use crate::domain::activity::Actor;
use crate::domain::api_token::TokenKey;
use crate::domain::organization::Role;
use crate::domain::permissions::Scope;
use crate::domain::user::User;
use crate::files::{Files, S3Settings};
use crate::hosts::HostGuard;
use crate::ops::organizations::NewOrganization;
use crate::ops::users::NewUser;
use crate::state::AppState;
use crate::store::Store;

mod checks;
mod progress;
mod serve;

pub use checks::{CheckArgs, ChecksCommand};
pub use serve::{LimitArgs, PurgeArgs, ServeArgs, serve};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "rudata",
    version,
    about = "An open-data catalog server, compatible with the udata API v1"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Where rudata keeps its database (by default), files and secret key.
    #[arg(long, env = "RUDATA_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// sqlite://path (default: rudata.db in the data dir) or postgres://user@host/db.
    #[arg(long, env = "RUDATA_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// The HMAC key of API tokens (at least 32 characters). Every node of a portal must share it.
    /// Default: `secret.key` in the data dir, generated on first start.
    #[arg(long, env = "RUDATA_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// How long a request waits on the database or the file storage before answering 503 (e.g. 5s).
    #[arg(
        long,
        env = "RUDATA_DEPENDENCY_TIMEOUT",
        default_value = "5s",
        global = true
    )]
    pub dependency_timeout: String,
    /// The e-mail address of the operator's account, recorded as the author of the command's writes
    /// in the activity log (default: none).
    #[arg(long, env = "RUDATA_ACTOR", global = true)]
    pub actor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StorageKind {
    /// Files under `<data-dir>/files`.
    Local,
    /// Files in an S3-compatible bucket.
    S3,
}

/// Where stored files live.
#[derive(Debug, Args)]
pub struct StorageArgs {
    #[arg(
        long,
        env = "RUDATA_STORAGE",
        value_enum,
        default_value = "local",
        global = true
    )]
    pub storage: StorageKind,
    #[arg(long, env = "RUDATA_S3_BUCKET", global = true)]
    pub s3_bucket: Option<String>,
    /// Custom endpoint (path-style requests; `http://` allowed), e.g. http://127.0.0.1:9000.
    #[arg(long, env = "RUDATA_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,
    #[arg(
        long,
        env = "RUDATA_S3_REGION",
        default_value = "us-east-1",
        global = true
    )]
    pub s3_region: String,
    #[arg(
        long,
        env = "RUDATA_S3_ACCESS_KEY_ID",
        global = true,
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,
    #[arg(
        long,
        env = "RUDATA_S3_SECRET_ACCESS_KEY",
        global = true,
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,
    /// Public base URL of stored files (a CDN or the bucket); default: rudata serves them itself.
    #[arg(long, env = "RUDATA_FILES_PUBLIC_URL", global = true)]
    pub files_public_url: Option<String>,
}

impl StorageArgs {
    fn files(&self, data_dir: &std::path::Path, timeout: Duration) -> anyhow::Result<Files> {
        let files = match self.storage {
            StorageKind::Local => Files::local(&data_dir.join("files")),
            StorageKind::S3 => {
                let need = |v: &Option<String>, name: &str| {
                    v.clone()
                        .filter(|v| !v.is_empty())
                        .with_context(|| format!("RUDATA_STORAGE=s3 needs {name}"))
                };
                let settings = S3Settings {
                    bucket: need(&self.s3_bucket, "RUDATA_S3_BUCKET")?,
                    region: self.s3_region.clone(),
                    endpoint: self.s3_endpoint.clone().filter(|e| !e.is_empty()),
                    access_key_id: need(&self.s3_access_key_id, "RUDATA_S3_ACCESS_KEY_ID")?,
                    secret_access_key: need(
                        &self.s3_secret_access_key,
                        "RUDATA_S3_SECRET_ACCESS_KEY",
                    )?,
                };
                Files::s3_with_timeout(&settings, None, timeout)
            }
        }?;
        Ok(files.with_timeout(timeout))
    }
}

#[derive(Debug, Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once at start: the size of `serve`'s options costs nothing"
)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Purge soft-deleted datasets deleted before the last cut-off (or all with --now).
    Purge {
        /// Purge every soft-deleted dataset, whatever its deletion time.
        #[arg(long)]
        now: bool,
        #[command(flatten)]
        purge: PurgeArgs,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Soft-delete, restore or archive a dataset (by id or slug), as an operator.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Remote resource checks: the queue's status, a run by hand.
    #[command(subcommand)]
    Checks(ChecksCommand),
    /// Load a synthetic catalog (for benchmarks); prints what it made.
    Generate {
        #[arg(long, default_value_t = 1000)]
        datasets: usize,
        /// Resources spread over the datasets.
        #[arg(long, default_value_t = 5000)]
        resources: usize,
        /// Resources of one more, large dataset (0: none).
        #[arg(long, default_value_t = 0)]
        big_dataset: usize,
        #[arg(long, default_value_t = 50)]
        organizations: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Soft-delete a dataset (purged at the next cut-off).
    Delete { dataset: String },
    /// Bring back a soft-deleted dataset, until it is purged.
    Restore { dataset: String },
    /// Archive a dataset: out of the public lists, still readable at its URL.
    Archive {
        dataset: String,
        /// Un-archive it instead.
        #[arg(long)]
        undo: bool,
    },
}

/// A duration setting that must not be zero (a zero timeout would refuse everything).
fn positive_duration(value: &str, name: &str) -> anyhow::Result<Duration> {
    let d = parse_duration(value).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    anyhow::ensure!(!d.is_zero(), "{name} must be more than 0");
    Ok(d)
}

/// A token's expiry: a date, or a duration from now; it must be in the future.
fn parse_expiry(s: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    let at = match crate::domain::time::parse_client(s) {
        Some(at) => at,
        None => {
            let d = parse_duration(s).map_err(|e| {
                anyhow::anyhow!("{e}: --expires takes a date (2027-01-31) or a duration (90d)")
            })?;
            chrono::Duration::from_std(d)
                .ok()
                .and_then(|d| crate::domain::time::now().checked_add_signed(d))
                .context("--expires is too far in the future")?
        }
    };
    anyhow::ensure!(
        at > crate::domain::time::now(),
        "--expires must be in the future"
    );
    Ok(at)
}

/// Parses a size such as `1048576`, `500M` or `2G` (powers of 1024).
pub fn parse_size(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().with_context(|| format!("invalid size {s:?}"))?;
    let factor: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => bail!("invalid size unit in {s:?}"),
    };
    n.checked_mul(factor)
        .with_context(|| format!("size {s:?} is too large"))
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints its id.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        #[arg(long)]
        sysadmin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; prints the token (shown once).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// What the token allows: admin (default), read, organization:<id>, dataset:<id>.
        /// Repeat for several (the token allows their union).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// When the token stops working: a date (2027-01-31, 2027-01-31T12:00:00Z) or a duration
        /// from now (90d, 12h). Default: never.
        #[arg(long)]
        expires: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization administered by a user; prints its id.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Add a user to an organization (or change their role).
    AddMember {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "editor", "partial_editor"])]
        role: String,
    },
}

/// Opens the data dir: database (migrated), files and secret. With `check_key`, refuses a token key
/// other than the one the database's tokens were made with (recording it on the first start);
/// `migrate` alone skips it, so that a migration job without the secret records no key of its own.
pub async fn open(global: &Global, check_key: bool) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&global.data_dir)
        .with_context(|| format!("creating the data dir {}", global.data_dir.display()))?;
    let url = match &global.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            global.data_dir.join("rudata.db").display()
        ),
    };
    let dependency_timeout =
        positive_duration(&global.dependency_timeout, "RUDATA_DEPENDENCY_TIMEOUT")?;
    let store = Store::connect_with(&url, dependency_timeout).await?;
    store.migrate().await?;
    let files = global.storage.files(&global.data_dir, dependency_timeout)?;
    let token_key = match global.secret_key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => {
            anyhow::ensure!(
                key.len() >= 32,
                "RUDATA_SECRET_KEY must be at least 32 characters long"
            );
            TokenKey::new(key.as_bytes().to_vec())
        }
        None => load_or_create_secret(&global.data_dir)?,
    };
    if check_key {
        check_token_key(&store, &token_key).await?;
    }
    let mut config = Config::new(token_key);
    config.files_public_url = global
        .storage
        .files_public_url
        .clone()
        .filter(|u| !u.is_empty());
    Ok(AppState::new(store, files, config))
}

/// Refuses to go on with a token key that is not the database's: every token would be refused (401)
/// and new ones could not be checked by the other nodes.
/// `rudata purge`: the purge, with a progress bar (or lines) for the datasets, then the files.
async fn purge_with_progress(
    state: &AppState,
    actor: &Actor,
    before: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<crate::ops::purge::PurgeReport> {
    use crate::ops::purge::PurgeStep;
    let mut shown: Option<(bool, progress::Progress)> = None;
    let report = crate::ops::purge::purge_with_progress(state, actor, before, |step| {
        let (files, done, total, what) = match step {
            PurgeStep::Datasets { done, total } => (false, done, total, "datasets purged"),
            PurgeStep::Files { done, total } => (true, done, total, "files deleted"),
        };
        if shown.as_ref().is_none_or(|(f, _)| *f != files) {
            if let Some((_, previous)) = shown.take() {
                previous.finish();
            }
            shown = Some((files, progress::Progress::new(what, total as u64)));
        }
        if let Some((_, p)) = shown.as_mut() {
            p.set(done as u64);
        }
    })
    .await?;
    if let Some((_, p)) = shown {
        p.finish();
    }
    Ok(report)
}

async fn check_token_key(store: &Store, key: &TokenKey) -> anyhow::Result<()> {
    let recorded = store
        .adopt_token_key_fingerprint(&key.fingerprint())
        .await?;
    anyhow::ensure!(
        recorded == key.fingerprint(),
        "the token key (RUDATA_SECRET_KEY, or <data-dir>/secret.key when it is unset) is not the one \
         this database's tokens were made with; start every node with the same key"
    );
    Ok(())
}

async fn user_by_email(state: &AppState, email: &str) -> anyhow::Result<User> {
    state
        .store
        .find_user_by_email(email)
        .await?
        .with_context(|| format!("no user with e-mail {email}"))
}

/// Runs an operator command (everything but `serve`).
/// `actor`: the e-mail address of the account the writes are recorded as made by (`--actor`).
pub async fn run_command(
    state: &AppState,
    actor: Option<&str>,
    command: Command,
) -> anyhow::Result<()> {
    let actor = match actor.filter(|a| !a.is_empty()) {
        Some(email) => Actor::user(&user_by_email(state, email).await?.id),
        None => Actor::none(),
    };
    match command {
        Command::Serve(_) => unreachable!("serve is handled by main"),
        Command::Migrate => println!("migrations applied"),
        Command::Checks(command) => checks::run_checks_command(state, command).await?,
        Command::Purge { now, purge } => {
            let config = purge.config()?;
            let before =
                (!now).then(|| crate::jobs::purge::current_threshold(&config, chrono::Utc::now()));
            let report = purge_with_progress(state, &actor, before).await?;
            println!(
                "purged {} dataset(s), {} file(s)",
                report.datasets, report.files
            );
        }
        Command::User(UserCommand::Create {
            email,
            first_name,
            last_name,
            sysadmin,
        }) => {
            let new = NewUser::new(&email, &first_name, &last_name, sysadmin)?;
            let user = crate::ops::users::create_user(state, &actor, new).await?;
            println!("{}", user.id);
        }
        Command::Token(TokenCommand::Create {
            email,
            name,
            scopes,
            expires,
        }) => {
            let user = user_by_email(state, &email).await?;
            let expires_at = expires.as_deref().map(parse_expiry).transpose()?;
            let memberships = state.store.memberships_of(&user.id).await?;
            let who = crate::domain::permissions::Identity {
                user,
                memberships,
                scopes: Vec::new(),
                token_id: None,
            };
            let mut parsed = Vec::new();
            for text in &scopes {
                let scope = Scope::parse(text).with_context(|| {
                    format!(
                        "invalid scope {text:?}: use admin, read, organization:<id> or dataset:<id>"
                    )
                })?;
                if let Some(why) = crate::ops::tokens::check_scope(state, &who, &scope).await? {
                    anyhow::bail!(why);
                }
                parsed.push(scope);
            }
            let (_, plain) = crate::ops::tokens::issue_scoped_api_token(
                state,
                &actor,
                &who.user.id,
                name,
                parsed,
                expires_at,
            )
            .await?;
            println!("{}", plain.expose());
        }
        Command::Org(OrgCommand::Create {
            name,
            admin_email,
            description,
        }) => {
            let user = user_by_email(state, &admin_email).await?;
            // udata requires a description; the operator may leave it to the name.
            let description = if description.is_empty() {
                &name
            } else {
                &description
            };
            let new = NewOrganization::new(&name, description)?;
            let (org, _) =
                crate::ops::organizations::create_organization(state, &actor, &user.id, new)
                    .await?;
            println!("{}", org.id);
        }
        Command::Org(OrgCommand::AddMember { org, email, role }) => {
            let user = user_by_email(state, &email).await?;
            let org = match state.store.find_organization(&org).await? {
                crate::store::Lookup::Found(o) => o,
                _ => bail!("no organization {org}"),
            };
            let role = Role::parse(&role).context("invalid role")?;
            crate::ops::organizations::add_member(state, &actor, &org.id, &user.id, role).await?;
        }
        Command::Generate {
            datasets,
            resources,
            big_dataset,
            organizations,
            seed,
        } => {
            let spec = crate::generate::Spec {
                datasets,
                resources,
                big_dataset,
                organizations,
                seed,
            };
            let started = std::time::Instant::now();
            let mut progress = progress::Progress::new("datasets generated", datasets as u64);
            let report =
                crate::generate::generate(state, &spec, |n| progress.set(n as u64)).await?;
            progress.finish();
            println!(
                "{} datasets, {} resources in {:.1} s{}",
                report.datasets,
                report.resources,
                started.elapsed().as_secs_f64(),
                report
                    .big_dataset
                    .map(|id| format!("; large dataset {id}"))
                    .unwrap_or_default()
            );
        }
        Command::Dataset(command) => {
            let (key, op) = match &command {
                DatasetCommand::Delete { dataset } => (dataset, "delete"),
                DatasetCommand::Restore { dataset } => (dataset, "restore"),
                DatasetCommand::Archive { dataset, .. } => (dataset, "archive"),
            };
            let id = match state.store.find_dataset(key).await? {
                crate::store::Lookup::Found(row) => row.dataset.id,
                _ => bail!("no dataset {key}"),
            };
            let done = match command {
                DatasetCommand::Delete { .. } => {
                    crate::ops::datasets::delete_dataset(state, &actor, &id).await
                }
                DatasetCommand::Restore { .. } => {
                    crate::ops::datasets::restore_dataset(state, &actor, &id).await
                }
                DatasetCommand::Archive { undo, .. } => {
                    crate::ops::datasets::archive_dataset(state, &actor, &id, !undo).await
                }
            };
            done.map_err(|e| anyhow::anyhow!("cannot {op} dataset {key}: {e}"))?;
        }
    }
    Ok(())
}
