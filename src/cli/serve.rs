//! `rudata serve`: its options (listening, limits, caches, purge) and the server's life, from the
//! first-start account to a graceful stop.

use super::*;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "RUDATA_BIND", default_value = "127.0.0.1:7000")]
    pub bind: String,
    /// Base of the absolute URLs rudata hands out (default: from the request's Host).
    #[arg(long, env = "RUDATA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Comma-separated origins allowed by CORS (default: any).
    #[arg(long, env = "RUDATA_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    #[command(flatten)]
    pub purge: PurgeArgs,
    /// Largest accepted file in bytes (suffixes K, M, G, T: powers of 1024); default: no limit.
    #[arg(long, env = "RUDATA_MAX_UPLOAD_SIZE")]
    pub max_upload_size: Option<String>,
    /// How long chunked-upload parts and unfinished uploads are kept (e.g. 24h).
    #[arg(long, env = "RUDATA_UPLOAD_RETENTION", default_value = "24h")]
    pub upload_retention: String,
    /// Bytes of answers kept for anonymous reads (suffixes K, M, G); 0 turns the cache off.
    #[arg(long, env = "RUDATA_CACHE_SIZE", default_value = "64M")]
    pub cache_size: String,
    /// How long a node keeps an API key resolved (e.g. 5s; 0 re-reads it on every request): the
    /// bound on how late a revocation or a role change is seen.
    #[arg(long, env = "RUDATA_IDENTITY_TTL", default_value = "5s")]
    pub identity_ttl: String,
    /// How long browsers and CDNs may reuse an anonymous read (`Cache-Control: public, max-age`),
    /// e.g. 60s, 5m; 0 makes them ask again each time.
    #[arg(long, env = "RUDATA_CACHE_MAX_AGE", default_value = "60s")]
    pub cache_max_age: String,
    /// DNS servers (`ip` or `ip:port`, comma-separated) asked where remote resources' host names
    /// point; default: the system's (`/etc/resolv.conf`).
    #[arg(long, env = "RUDATA_DNS_SERVERS", value_delimiter = ',')]
    pub dns_servers: Vec<String>,
    /// Requests a minute per client address without a valid API key (0: no limit).
    #[arg(long, env = "RUDATA_RATE_LIMIT_ANONYMOUS", default_value_t = DEFAULT_RATE_LIMIT_ANONYMOUS)]
    pub rate_limit_anonymous: u32,
    /// Requests a minute per API token (0: no limit).
    #[arg(long, env = "RUDATA_RATE_LIMIT_AUTHENTICATED", default_value_t = DEFAULT_RATE_LIMIT_AUTHENTICATED)]
    pub rate_limit_authenticated: u32,
    /// Comma-separated addresses or CIDR networks of the reverse proxies whose X-Forwarded-For
    /// gives the client's address (default: none; the header is then ignored).
    #[arg(long, env = "RUDATA_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub checks: super::CheckArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// Where `/metrics` is served, and how often views and downloads are flushed (see `metrics`).
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// The bearer token that reads `/metrics` on the API's address (default: none, no `/metrics`
    /// there).
    #[arg(long, env = "RUDATA_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A separate address serving `/metrics` to anyone, without a token (a private interface).
    #[arg(long, env = "RUDATA_METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// How often a node adds the views and downloads it counted to the database (e.g. 10s).
    #[arg(long, env = "RUDATA_COUNTER_FLUSH", default_value = "10s")]
    pub counter_flush: String,
}

/// Parses a DNS server address: `ip`, `ip:port` or `[ipv6]:port` (port 53 by default).
fn parse_dns_server(s: &str) -> anyhow::Result<std::net::SocketAddr> {
    if let Ok(addr) = s.parse() {
        return Ok(addr);
    }
    let ip: std::net::IpAddr = s
        .parse()
        .with_context(|| format!("invalid DNS server {s:?} (use ip or ip:port)"))?;
    Ok(std::net::SocketAddr::new(ip, 53))
}

/// Connection timeouts and size limits of the HTTP server (see `config::Limits`).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Time a client has to send a request's complete headers (e.g. 30s).
    #[arg(long, env = "RUDATA_HEADER_TIMEOUT", default_value = "30s")]
    pub header_timeout: String,
    /// Time a keep-alive connection may stay idle between requests.
    #[arg(long, env = "RUDATA_IDLE_TIMEOUT", default_value = "60s")]
    pub idle_timeout: String,
    /// Time a request body (an upload) may go without a byte before the request fails, and an
    /// answer may wait for the client to read some of it before the connection is closed.
    #[arg(long, env = "RUDATA_BODY_TIMEOUT", default_value = "60s")]
    pub body_timeout: String,
    /// Open connections held at most (default: from the process's open-file limit).
    #[arg(long, env = "RUDATA_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Largest JSON request body (suffixes K, M, G: powers of 1024).
    #[arg(long, env = "RUDATA_MAX_JSON_BODY", default_value = "10M")]
    pub max_json_body: String,
}

impl LimitArgs {
    fn limits(&self) -> anyhow::Result<Limits> {
        Ok(Limits {
            header_timeout: positive_duration(&self.header_timeout, "RUDATA_HEADER_TIMEOUT")?,
            idle_timeout: positive_duration(&self.idle_timeout, "RUDATA_IDLE_TIMEOUT")?,
            body_timeout: positive_duration(&self.body_timeout, "RUDATA_BODY_TIMEOUT")?,
            max_connections: match self.max_connections {
                Some(0) => bail!("RUDATA_MAX_CONNECTIONS must be at least 1"),
                Some(n) => n,
                None => crate::config::default_max_connections(),
            },
            max_json_body: parse_size(&self.max_json_body)?,
        })
    }
}

#[derive(Debug, Clone, Args)]
pub struct PurgeArgs {
    /// Time zone of the daily purge cut-off (midnight there).
    #[arg(long, env = "RUDATA_PURGE_TIMEZONE", default_value = "Europe/Paris")]
    pub purge_timezone: String,
    /// Extra time a deleted dataset stays restorable before a cut-off takes it (e.g. 0, 12h, 7d).
    #[arg(long, env = "RUDATA_PURGE_GRACE", default_value = "0")]
    pub purge_grace: String,
}

impl PurgeArgs {
    pub(super) fn config(&self) -> anyhow::Result<PurgeConfig> {
        Ok(PurgeConfig {
            timezone: self
                .purge_timezone
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown time zone {:?}", self.purge_timezone))?,
            grace: parse_duration(&self.purge_grace).map_err(anyhow::Error::msg)?,
        })
    }
}

/// `rudata serve`: first-start account, purge scheduler, HTTP server until SIGINT/SIGTERM.
pub async fn serve(global: &Global, args: ServeArgs) -> anyhow::Result<()> {
    let mut state = open(global, true).await?;
    let purge_config = args.purge.config()?;
    {
        let config = Arc::make_mut(&mut state.config);
        config.public_url = args.public_url.clone().filter(|u| !u.is_empty());
        config.cors_origins = args
            .cors_origins
            .iter()
            .filter(|o| !o.is_empty())
            .cloned()
            .collect();
        config.purge = purge_config.clone();
        config.max_upload_size = args
            .max_upload_size
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(parse_size)
            .transpose()?;
        config.upload_retention =
            parse_duration(&args.upload_retention).map_err(anyhow::Error::msg)?;
        config.cache_size = parse_size(&args.cache_size)?;
        config.identity_ttl = parse_duration(&args.identity_ttl).map_err(anyhow::Error::msg)?;
        config.cache_max_age = parse_duration(&args.cache_max_age)
            .map_err(anyhow::Error::msg)?
            .as_secs();
        config.dns_servers = args
            .dns_servers
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_dns_server(s.trim()))
            .collect::<anyhow::Result<_>>()?;
        config.rate_limits = RateLimits {
            anonymous: args.rate_limit_anonymous,
            authenticated: args.rate_limit_authenticated,
        };
        config.trusted_proxies = args
            .trusted_proxies
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| parse_trusted_proxy(p))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?;
        config.limits = args.limits.limits()?;
        config.checks = args.checks.config()?;
        config.metrics_token = args.metrics.metrics_token.clone().filter(|t| !t.is_empty());
        config.counter_flush =
            positive_duration(&args.metrics.counter_flush, "RUDATA_COUNTER_FLUSH")?;
    }
    state.cache = Arc::new(ResponseCache::new(state.config.cache_size));
    state.hosts = Arc::new(HostGuard::new(&state.config.dns_servers));
    state.identities = Arc::new(crate::auth::IdentityCache::new(state.config.identity_ttl));
    // A crash may have left half-written files in the local directory; nothing refers to them.
    let swept = state.files.sweep_local_staging().await?;
    if swept > 0 {
        tracing::info!(
            swept,
            "removed files left half-written by an interrupted upload"
        );
    }
    tracing::info!(config = ?state.config, "starting");
    if state.store.count_users().await? == 0 {
        let new = NewUser::new("admin@rudata.local", "Admin", "", true)?;
        let nobody = crate::domain::activity::Actor::none();
        let admin = crate::ops::users::create_user(&state, &nobody, new).await?;
        let (_, key) = crate::ops::tokens::issue_api_token(
            &state,
            &nobody,
            &admin.id,
            Some("first start".into()),
            None,
        )
        .await?;
        // Printed once, never logged: the operator keeps it.
        println!(
            "Created sysadmin account admin@rudata.local. Its API key (shown once): {}",
            key.expose()
        );
    }
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let addr = listener.local_addr()?;
    let metrics_server = match args
        .metrics
        .metrics_bind
        .as_deref()
        .filter(|b| !b.is_empty())
    {
        Some(bind) => Some(serve_metrics(&state, bind).await?),
        None => None,
    };
    println!("rudata listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let watcher = state.store.watch_changes();
    let scheduler = tokio::spawn(crate::jobs::purge::run_scheduler(
        state.clone(),
        purge_config,
    ));
    let cleaner = tokio::spawn(crate::jobs::uploads::run_scheduler(
        state.clone(),
        state.config.upload_retention,
    ));
    let limits = tokio::spawn(crate::jobs::rate_limits::run(state.clone()));
    let checks = state
        .config
        .checks
        .enabled
        .then(|| tokio::spawn(crate::jobs::checks::run(state.clone())));
    let flusher = tokio::spawn(crate::metrics::counters::run(
        state.clone(),
        state.config.counter_flush,
    ));
    let store = state.store.clone();
    let counted = state.clone();
    crate::app::serve(listener, state, shutdown_signal()).await?;
    // What was counted since the last flush, with the requests that just finished.
    flusher.abort();
    if let Err(e) = crate::metrics::flush(&counted).await {
        tracing::warn!(error = ?e, "cannot flush the view and download counters: they are lost");
    }
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    scheduler.abort();
    cleaner.abort();
    limits.abort();
    if let Some(checks) = checks {
        checks.abort();
    }
    watcher.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `/metrics` without a token on `bind` (`RUDATA_METRICS_BIND`), until aborted.
async fn serve_metrics(
    state: &AppState,
    bind: &str,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind} (RUDATA_METRICS_BIND)"))?;
    let addr = listener.local_addr()?;
    println!("rudata metrics on http://{addr}/metrics");
    tracing::info!(%addr, "serving metrics");
    let router = crate::api::metrics::metrics_router(state.clone());
    let service = tower::service_fn(move |req: axum::extract::Request| {
        let router = router.clone();
        async move { tower::ServiceExt::oneshot(router, req).await }
    });
    let limits = state.config.limits;
    Ok(tokio::spawn(async move {
        let stopped = crate::server::serve(listener, service, limits, std::future::pending()).await;
        if let Err(e) = stopped {
            tracing::error!(error = ?e, "the metrics address stopped");
        }
    }))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
