//! Where a remote resource's host name points. `domain::url_check` refuses local and special-purpose
//! addresses written in a URL; a name can point there too (`localhost.localdomain`, wildcard DNS
//! services that answer any address written in the name). Such a URL is refused when a remote
//! resource is created or its URL changes.
//!
//! The names are resolved by hickory's resolver (the system's `/etc/resolv.conf` and `/etc/hosts`, or
//! the servers of `RUDATA_DNS_SERVERS`), before the write transaction, each name once and in
//! parallel, within `LOOKUP_TIMEOUT`. A name that does not resolve (yet) is accepted: udata accepts
//! it too, and nothing is fetched from it by this check. DNS can change after the check; whatever
//! later fetches a remote URL must check the addresses it connects to.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::future::join_all;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use crate::domain::url_check::{InvalidUrl, ip_refusal_allowing};

/// How long one name may take to resolve before it is accepted unresolved.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Resolves remote URLs' host names and judges the addresses.
pub struct HostGuard {
    /// `None` when no resolver could be configured (no `/etc/resolv.conf`): names are not checked.
    resolver: Option<TokioResolver>,
}

impl HostGuard {
    /// The system's resolver, or one asking only `servers` (`ip:port`, UDP and TCP) when given.
    pub fn new(servers: &[SocketAddr]) -> Self {
        let provider = TokioRuntimeProvider::default();
        let builder = if servers.is_empty() {
            match TokioResolver::builder(provider) {
                Ok(b) => Some(b),
                Err(e) => {
                    tracing::warn!("no DNS configuration ({e}): remote host names are not checked");
                    None
                }
            }
        } else {
            let names = servers
                .iter()
                .map(|s| {
                    let mut ns = NameServerConfig::udp_and_tcp(s.ip());
                    for c in &mut ns.connections {
                        c.port = s.port();
                    }
                    ns
                })
                .collect();
            Some(TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(names),
                provider,
            ))
        };
        let resolver = builder.and_then(|mut b| {
            b.options_mut().timeout = LOOKUP_TIMEOUT;
            b.options_mut().attempts = 1;
            // Both families: a client may connect to either, so a local AAAA behind a public A counts.
            b.options_mut().ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
            b.build()
                .inspect_err(|e| tracing::warn!("DNS resolver unavailable: {e}"))
                .ok()
        });
        HostGuard { resolver }
    }

    /// Resolves the host names of `urls` (those with a name, not an address), each once; addresses
    /// in `allowed` (`RUDATA_CHECK_ALLOW_NETWORKS`) are accepted.
    pub async fn resolve<'a>(
        &self,
        urls: impl IntoIterator<Item = &'a str>,
        allowed: &[ipnet::IpNet],
    ) -> Verdicts {
        let Some(resolver) = &self.resolver else {
            return Verdicts {
                refused: HashMap::new(),
                allowed: allowed.to_vec(),
            };
        };
        let mut names: Vec<String> = urls.into_iter().filter_map(host_name).collect();
        names.sort();
        names.dedup();
        let lookups = names.into_iter().map(|name| async move {
            // A fully qualified name: no search domain is appended to what a publisher wrote.
            let fqdn = format!("{name}.");
            let found = tokio::time::timeout(LOOKUP_TIMEOUT, resolver.lookup_ip(fqdn)).await;
            let refusal = match found {
                Ok(Ok(ips)) => ips.iter().find_map(|ip| refusal_for(ip, allowed)),
                // Unknown or unreachable: nothing to judge.
                _ => None,
            };
            (name, refusal)
        });
        let refused = join_all(lookups)
            .await
            .into_iter()
            .filter_map(|(name, refusal)| refusal.map(|r| (name, r)))
            .collect();
        Verdicts {
            refused,
            allowed: allowed.to_vec(),
        }
    }

    /// The addresses of `host` (a name), every one of them checked: what an outgoing request
    /// (`fetch`) may connect to, and to nothing else. Refused when any address is refused (a name
    /// pointing both outside and inside would otherwise let the connection pick the inside one).
    pub async fn lookup(
        &self,
        host: &str,
        allowed: &[ipnet::IpNet],
    ) -> Result<Vec<IpAddr>, LookupError> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host == "localhost" || host.ends_with(".localhost") {
            return Err(LookupError::Refused(host, "is a local URL"));
        }
        let ips: Vec<IpAddr> = match &self.resolver {
            Some(resolver) => {
                let found =
                    tokio::time::timeout(LOOKUP_TIMEOUT, resolver.lookup_ip(format!("{host}.")))
                        .await;
                match found {
                    Ok(Ok(ips)) => ips.iter().collect(),
                    _ => return Err(LookupError::Unresolved(host)),
                }
            }
            // No DNS configuration of our own: the system's resolver, checked all the same.
            None => {
                let found: Option<Vec<IpAddr>> = tokio::net::lookup_host((host.as_str(), 0))
                    .await
                    .ok()
                    .map(|addrs| addrs.map(|a| a.ip()).collect());
                match found {
                    Some(ips) => ips,
                    None => return Err(LookupError::Unresolved(host)),
                }
            }
        };
        if ips.is_empty() {
            return Err(LookupError::Unresolved(host));
        }
        if let Some(reason) = ips.iter().find_map(|ip| refusal_for(*ip, allowed)) {
            return Err(LookupError::Refused(host, reason));
        }
        Ok(ips)
    }
}

/// Why [`HostGuard::lookup`] gave no address.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LookupError {
    #[error("{0} does not resolve")]
    Unresolved(String),
    #[error("{0} {1}")]
    Refused(String, &'static str),
}

fn refusal_for(ip: IpAddr, allowed: &[ipnet::IpNet]) -> Option<&'static str> {
    ip_refusal_allowing(ip, allowed).map(|reason| match reason {
        "is a local URL" => "points to a local address",
        _ => "points to a special-purpose address",
    })
}

/// The lower-cased host name of `url`, when it has one (an address needs no resolution).
fn host_name(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    match parsed.host()? {
        url::Host::Domain(d) => Some(d.trim_end_matches('.').to_ascii_lowercase()),
        _ => None,
    }
}

/// What `HostGuard::resolve` found: the names that point where no remote URL may.
#[derive(Debug, Default)]
pub struct Verdicts {
    refused: HashMap<String, &'static str>,
    /// The networks the operator allowed, which the URL rules (`domain::resource`) also accept.
    allowed: Vec<ipnet::IpNet>,
}

impl Verdicts {
    /// The networks the operator allowed (`RUDATA_CHECK_ALLOW_NETWORKS`).
    pub fn allowed(&self) -> &[ipnet::IpNet] {
        &self.allowed
    }

    /// Why `url` is refused, if its host name resolved to a refused address.
    pub fn check(&self, url: &str) -> Result<(), InvalidUrl> {
        let Some(reason) = host_name(url).and_then(|h| self.refused.get(&h).copied()) else {
            return Ok(());
        };
        Err(InvalidUrl {
            url: url.trim().to_string(),
            reason: Some(reason),
        })
    }
}
