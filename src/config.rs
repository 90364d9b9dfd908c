//! Configuration: built once in `main` from flags and `RUDATA_*` variables (see the README table);
//! tests build it directly. Nothing below `main` reads the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::domain::api_token::TokenKey;

#[derive(Clone)]
pub struct Config {
    /// Base of absolute URLs (`uri`, `latest`, pagination, files); `None`: from the request's Host.
    pub public_url: Option<String>,
    /// Base of stored files' URLs (a CDN or the bucket); `None`: rudata serves them under `/s/`.
    pub files_public_url: Option<String>,
    /// Origins allowed by CORS; empty means any origin.
    pub cors_origins: Vec<String>,
    /// When the purge runs and what it takes.
    pub purge: PurgeConfig,
    /// Largest accepted file, in bytes (`None`: no limit).
    pub max_upload_size: Option<u64>,
    /// How long chunked-upload parts and unfinished objects are kept.
    pub upload_retention: Duration,
    /// HMAC key of API tokens.
    pub token_key: TokenKey,
    /// Bytes of answers the response cache keeps (`0`: none).
    pub cache_size: u64,
    /// How long a node may keep an identity resolved from an API key (`auth::IdentityCache`).
    pub identity_ttl: Duration,
    /// Seconds anonymous reads may be reused by browsers and CDNs (`Cache-Control: max-age`).
    pub cache_max_age: u64,
    /// DNS servers asked where remote resources' host names point; empty: the system's.
    pub dns_servers: Vec<std::net::SocketAddr>,
    /// Requests a minute allowed to each client (see `api::rate_limit`).
    pub rate_limits: RateLimits,
    /// The reverse proxies whose `X-Forwarded-For` tells the client's address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Connection timeouts and request size limits of the HTTP server.
    pub limits: Limits,
    /// The remote resource checks (`jobs::checks`).
    pub checks: CheckConfig,
    /// The bearer token that reads `/metrics` on the API's address (`None`: not there).
    pub metrics_token: Option<String>,
    /// How often a node adds the views and downloads it counted to the store (`metrics::counters`).
    pub counter_flush: Duration,
}

/// How remote resources are checked (DESIGN §3.5; README, "Remote checks").
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// Whether `serve` runs the checks at all.
    pub enabled: bool,
    /// Networks a remote URL may point to although they are local or private (an intranet portal,
    /// the tests' loopback server): lifted both for the checks and for the URLs a write brings.
    pub allow_networks: Vec<ipnet::IpNet>,
    /// Checks running at once on a node.
    pub concurrency: usize,
    /// Time between two checks of a resource right after a change (and the first step after one).
    pub min_interval: Duration,
    /// The longest time between two checks while nothing changes.
    pub max_interval: Duration,
    /// Time one request (its answer's headers and its whole body) may take.
    pub timeout: Duration,
    /// Bytes read (and hashed) at most from a body; past it the checksum is not computed.
    pub max_size: u64,
    /// `max_size` for the resources of a format (lower-case, as `csv`), in place of the default.
    pub max_size_by_format: Vec<(String, u64)>,
    /// Time between two requests of a node to the same host.
    pub host_delay: Duration,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// How long a node holds the checks it took before another may take them.
    pub lease: Duration,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            enabled: true,
            allow_networks: Vec::new(),
            concurrency: 8,
            min_interval: Duration::from_secs(12 * 3600),
            max_interval: Duration::from_secs(30 * 86400),
            timeout: Duration::from_secs(30),
            max_size: 100 << 20,
            max_size_by_format: DEFAULT_MAX_SIZE_BY_FORMAT
                .iter()
                .map(|(f, n)| (f.to_string(), *n))
                .collect(),
            // udata-hydra's politeness: 180 requests per 360 s per domain.
            host_delay: Duration::from_secs(2),
            max_redirects: 5,
            lease: Duration::from_secs(300),
        }
    }
}

/// udata-hydra's download limits per format (its `MAX_FILESIZE_ALLOWED`): 100 MB for CSV, less for
/// the formats that take more work per byte, 1 MB for the OGC services' answers.
pub const DEFAULT_MAX_SIZE_BY_FORMAT: &[(&str, u64)] = &[
    ("csv", 100 << 20),
    ("csvgz", 100 << 20),
    ("xls", 50 << 20),
    ("xlsx", 12_800 << 10),
    ("ods", 10 << 20),
    ("geojson", 100 << 20),
    ("parquet", 50 << 20),
    ("wms", 1 << 20),
    ("wfs", 1 << 20),
];

impl CheckConfig {
    /// Bytes read at most from a resource of `format` (its `format` field: `CSV`, `.csv` and `csv`
    /// alike): the format's own limit, or `max_size`.
    pub fn max_size_for(&self, format: Option<&str>) -> u64 {
        let format = format
            .unwrap_or_default()
            .trim()
            .trim_start_matches('.')
            .to_ascii_lowercase();
        self.max_size_by_format
            .iter()
            .find(|(f, _)| *f == format)
            .map_or(self.max_size, |(_, n)| *n)
    }
}

/// Requests a minute allowed to each client; `0` turns a limit off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Per client address, for requests without a valid API key.
    pub anonymous: u32,
    /// Per API token.
    pub authenticated: u32,
}

/// Default requests a minute per client address without an API key (see the README).
pub const DEFAULT_RATE_LIMIT_ANONYMOUS: u32 = 600;
/// Default requests a minute per API token (see the README).
pub const DEFAULT_RATE_LIMIT_AUTHENTICATED: u32 = 3000;

/// A trusted proxy: an address (`10.0.0.7`, `::1`) or a network (`10.0.0.0/8`, `fd00::/8`).
pub fn parse_trusted_proxy(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("invalid trusted proxy {s:?} (expected an address or a CIDR network)"))
}

/// How long the server waits on a client, how many clients it holds, how much JSON it reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a client has to send a request's complete headers, from its first byte (or from the
    /// connection's opening); trickled bytes do not extend it.
    pub header_timeout: Duration,
    /// Time a keep-alive connection may sit idle between two requests.
    pub idle_timeout: Duration,
    /// Time a request body (an upload) may go without a byte before the request fails, and an
    /// answer may wait for the client to read any of it before the connection is closed.
    pub body_timeout: Duration,
    /// Open connections held at most; past it, idle ones are closed first to make room.
    pub max_connections: usize,
    /// Largest body read by the JSON endpoints, in bytes (uploads have `max_upload_size`).
    pub max_json_body: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
            max_connections: default_max_connections(),
            max_json_body: DEFAULT_MAX_JSON_BODY,
        }
    }
}

/// The JSON body limit's default: 10 MiB.
pub const DEFAULT_MAX_JSON_BODY: u64 = 10 << 20;
/// How long a request waits on the database or the file storage before answering 503.
pub const DEFAULT_DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(5);
/// Descriptors kept for everything but client connections: database connections, the listener,
/// logs, files being staged.
const DESCRIPTOR_RESERVE: u64 = 128;

/// The connection cap when none is configured: half of the descriptors left under the process's
/// limit (`RLIMIT_NOFILE`) once a reserve is set aside, because a connection that downloads a local
/// file holds a second descriptor. 1,024 descriptors (a common default) give 448 connections.
pub fn default_max_connections() -> usize {
    let limit = open_files_limit().unwrap_or(1024);
    let usable = limit.saturating_sub(DESCRIPTOR_RESERVE) / 2;
    usize::try_from(usable).unwrap_or(usize::MAX).max(16)
}

/// The process's soft limit on open descriptors, where the platform says.
#[cfg(unix)]
fn open_files_limit() -> Option<u64> {
    use nix::sys::resource::{Resource, getrlimit};
    let (soft, _hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    // RLIM_INFINITY is u64::MAX: no limit of our own to respect.
    Some(soft.min(1 << 20))
}

#[cfg(not(unix))]
fn open_files_limit() -> Option<u64> {
    None
}

#[derive(Debug, Clone)]
pub struct PurgeConfig {
    /// Time zone of the daily cut-off (midnight there).
    pub timezone: chrono_tz::Tz,
    /// A dataset is purged at the first cut-off at least this long after its deletion.
    pub grace: Duration,
}

impl Default for PurgeConfig {
    fn default() -> Self {
        PurgeConfig {
            timezone: chrono_tz::Europe::Paris,
            grace: Duration::ZERO,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("public_url", &self.public_url)
            .field("files_public_url", &self.files_public_url)
            .field("cors_origins", &self.cors_origins)
            .field("purge", &self.purge)
            .field("max_upload_size", &self.max_upload_size)
            .field("upload_retention", &self.upload_retention)
            .field("cache_size", &self.cache_size)
            .field("identity_ttl", &self.identity_ttl)
            .field("cache_max_age", &self.cache_max_age)
            .field("dns_servers", &self.dns_servers)
            .field("rate_limits", &self.rate_limits)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("limits", &self.limits)
            .field("checks", &self.checks)
            .field("token_key", &"<redacted>")
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("counter_flush", &self.counter_flush)
            .finish()
    }
}

impl Config {
    /// A configuration for tests and embedding: any origin, purge defaults, no rate limits, the given
    /// token key.
    pub fn new(token_key: TokenKey) -> Self {
        Config {
            public_url: None,
            files_public_url: None,
            cors_origins: Vec::new(),
            purge: PurgeConfig::default(),
            max_upload_size: None,
            upload_retention: Duration::from_secs(24 * 3600),
            token_key,
            cache_size: DEFAULT_CACHE_SIZE,
            identity_ttl: Duration::from_secs(5),
            cache_max_age: DEFAULT_CACHE_MAX_AGE,
            dns_servers: Vec::new(),
            rate_limits: RateLimits::default(),
            trusted_proxies: Vec::new(),
            limits: Limits::default(),
            checks: CheckConfig::default(),
            metrics_token: None,
            counter_flush: DEFAULT_COUNTER_FLUSH,
        }
    }
}

/// How often a node flushes its view and download counts by default.
pub const DEFAULT_COUNTER_FLUSH: Duration = Duration::from_secs(10);

/// The response cache's default size: 64 MiB.
pub const DEFAULT_CACHE_SIZE: u64 = 64 << 20;

/// How long browsers and CDNs may reuse an anonymous read without asking again, in seconds: a
/// minute, the staleness a re-user may see after a write (README, "Caching and CDNs").
pub const DEFAULT_CACHE_MAX_AGE: u64 = 60;

/// Parses a duration such as `90s`, `15m`, `2h`, `1d` or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("invalid duration unit in {s:?} (use s, m, h or d)")),
    };
    Ok(Duration::from_secs(secs))
}

/// The server secret (HMAC key of API tokens): read from `secret.key` in the data dir,
/// generated there (mode 0600) on first start.
pub fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<TokenKey> {
    use rand::RngCore;
    let path: PathBuf = data_dir.join("secret.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = hex::decode(existing.trim()).context("secret.key is not hex")?;
        anyhow::ensure!(key.len() >= 32, "secret.key is too short");
        return Ok(TokenKey::new(key));
    }
    std::fs::create_dir_all(data_dir)?;
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let tmp = data_dir.join("secret.key.tmp");
    std::fs::write(&tmp, hex::encode(&key))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    // Two processes starting at once: the first rename wins and both read the same key.
    if std::fs::hard_link(&tmp, &path).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return load_or_create_secret(data_dir);
    }
    let _ = std::fs::remove_file(&tmp);
    Ok(TokenKey::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("2w").is_err());
    }

    #[test]
    fn trusted_proxies() {
        assert_eq!(
            parse_trusted_proxy("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(parse_trusted_proxy(" ::1 ").unwrap().to_string(), "::1/128");
        assert!(parse_trusted_proxy("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxy("proxy.local").is_err());
    }
}
