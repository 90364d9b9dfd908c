//! Outgoing HTTP requests of the remote resource checks: the only module that fetches a URL a
//! publisher wrote. Every request is guarded against server-side request forgery: the host name is
//! resolved by `hosts::HostGuard`, every address checked (`domain::url_check`), and the connection
//! made to one of those checked addresses (reqwest's resolver is replaced, so nothing resolves the
//! name a second time); an address written in the URL is checked the same way. Redirects are followed
//! here, one hop at a time, each hop checked again, up to a limit. Requests are bounded in time, and
//! a body is read (and hashed) up to a size limit.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use sha1::{Digest, Sha1};

use crate::config::CheckConfig;
use crate::domain::checks::{Observed, Validators};
use crate::domain::url_check::ip_refusal_allowing;
use crate::hosts::HostGuard;

/// Why a check could not get an answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// The URL points where no request may go (a local or private address, a non-HTTP scheme).
    #[error("refused: {0}")]
    Refused(String),
    #[error("timed out")]
    Timeout,
    #[error("too many redirects")]
    TooManyRedirects,
    /// Anything else: the name does not resolve, the connection or TLS failed, a bad redirect.
    #[error("{0}")]
    Failed(String),
}

/// The HTTP client of the checks.
pub struct Fetcher {
    client: reqwest::Client,
    allowed: Arc<[ipnet::IpNet]>,
    max_redirects: usize,
    timeout: Duration,
}

/// reqwest's resolver, replaced: names resolve through the guard, to checked addresses only.
struct GuardedResolver {
    hosts: Arc<HostGuard>,
    allowed: Arc<[ipnet::IpNet]>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let hosts = Arc::clone(&self.hosts);
        let allowed = Arc::clone(&self.allowed);
        let name = name.as_str().to_string();
        Box::pin(async move {
            let ips = hosts.lookup(&name, &allowed).await?;
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

impl Fetcher {
    /// A client whose requests name rudata and the portal (`public_url`) in their `User-Agent`.
    pub fn new(
        hosts: Arc<HostGuard>,
        config: &CheckConfig,
        public_url: Option<&str>,
    ) -> anyhow::Result<Fetcher> {
        let allowed: Arc<[ipnet::IpNet]> = config.allow_networks.clone().into();
        let agent = match public_url {
            Some(url) => format!("rudata/{} (+{url})", env!("CARGO_PKG_VERSION")),
            None => format!("rudata/{}", env!("CARGO_PKG_VERSION")),
        };
        let client = reqwest::Client::builder()
            .user_agent(agent)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                hosts,
                allowed: Arc::clone(&allowed),
            }))
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .pool_max_idle_per_host(2)
            .build()?;
        Ok(Fetcher {
            client,
            allowed,
            max_redirects: config.max_redirects,
            timeout: config.timeout,
        })
    }

    /// Checks `url`: a `HEAD` (conditional on `previous`), then a `GET` when the `HEAD` says
    /// nothing useful or the content may have changed, reading (and hashing) at most `max_size`
    /// bytes of its body.
    pub async fn check(
        &self,
        url: &str,
        previous: &Validators,
        max_size: u64,
    ) -> Result<Observed, FetchError> {
        // The whole check, redirects included, within twice the time of one request.
        let checked = self.check_inner(url, previous, max_size);
        match tokio::time::timeout(self.timeout * 2, checked).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout),
        }
    }

    async fn check_inner(
        &self,
        url: &str,
        previous: &Validators,
        max_size: u64,
    ) -> Result<Observed, FetchError> {
        let head = self.follow(reqwest::Method::HEAD, url, previous).await;
        let (final_url, head) = match head {
            Ok(h) => h,
            // Some servers refuse or mishandle HEAD: the GET decides.
            Err(FetchError::Failed(_)) => (url.to_string(), None),
            Err(e) => return Err(e),
        };
        if let Some(h) = &head {
            let status = h.status().as_u16();
            if status == 304 || matches!(status, 404 | 410 | 429 | 503) {
                return Ok(observe(h, None));
            }
            if h.status().is_success() && previous.unchanged_by(&validators_of(h.headers())) {
                return Ok(observe(h, None));
            }
        }
        let (_, got) = self
            .follow(reqwest::Method::GET, &final_url, previous)
            .await?;
        let Some(mut response) = got else {
            return Err(FetchError::Failed("no answer".into()));
        };
        let mut observed = observe(&response, None);
        if response.status().is_success() {
            observed.body = Some(digest(&mut response, max_size).await?);
        }
        Ok(observed)
    }

    /// Sends `method` to `url`, following redirects hop by hop; returns the last URL and answer.
    async fn follow(
        &self,
        method: reqwest::Method,
        url: &str,
        previous: &Validators,
    ) -> Result<(String, Option<reqwest::Response>), FetchError> {
        let mut current = url::Url::parse(url).map_err(|e| FetchError::Failed(e.to_string()))?;
        for _ in 0..=self.max_redirects {
            self.check_target(&current)?;
            let mut request = self.client.request(method.clone(), current.clone());
            request = request.headers(conditional(previous));
            let response = request.send().await.map_err(|e| request_error(&e))?;
            if !response.status().is_redirection() || response.status().as_u16() == 304 {
                return Ok((current.to_string(), Some(response)));
            }
            let Some(location) = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
            else {
                return Ok((current.to_string(), Some(response)));
            };
            current = current
                .join(location)
                .map_err(|_| FetchError::Failed(format!("bad redirect to {location:?}")))?;
        }
        Err(FetchError::TooManyRedirects)
    }

    /// Refuses a hop the resolver would not see: a scheme other than HTTP(S), an address written
    /// in the URL that is local or private.
    fn check_target(&self, url: &url::Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Refused(format!(
                "{} is not an HTTP URL",
                url.scheme()
            )));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(FetchError::Refused("no host".into())),
        };
        match ip_refusal_allowing(ip, &self.allowed) {
            Some(reason) => Err(FetchError::Refused(format!("{ip} {reason}"))),
            None => Ok(()),
        }
    }
}

/// Reads the body up to `max_size` bytes, hashing it (sha1, as uploads are).
async fn digest(
    response: &mut reqwest::Response,
    max_size: u64,
) -> Result<crate::domain::checks::Body, FetchError> {
    let mut hasher = Sha1::new();
    let mut size: u64 = 0;
    while let Some(chunk) = response.chunk().await.map_err(|e| request_error(&e))? {
        size += chunk.len() as u64;
        if size > max_size {
            return Ok(crate::domain::checks::Body {
                size,
                sha1: None,
                truncated: true,
            });
        }
        hasher.update(&chunk);
    }
    Ok(crate::domain::checks::Body {
        size,
        sha1: Some(hex::encode(hasher.finalize())),
        truncated: false,
    })
}

/// `If-None-Match` / `If-Modified-Since` from what the previous check saw.
fn conditional(previous: &Validators) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(v) = previous
        .etag
        .as_deref()
        .and_then(|e| HeaderValue::from_str(e).ok())
    {
        headers.insert(header::IF_NONE_MATCH, v);
    }
    if let Some(v) = previous
        .last_modified
        .as_deref()
        .and_then(|e| HeaderValue::from_str(e).ok())
    {
        headers.insert(header::IF_MODIFIED_SINCE, v);
    }
    headers
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn validators_of(headers: &HeaderMap) -> Validators {
    Validators {
        etag: header_text(headers, header::ETAG),
        last_modified: header_text(headers, header::LAST_MODIFIED),
        content_length: header_text(headers, header::CONTENT_LENGTH).and_then(|l| l.parse().ok()),
    }
}

fn observe(response: &reqwest::Response, body: Option<crate::domain::checks::Body>) -> Observed {
    let headers = response.headers();
    Observed {
        status: response.status().as_u16(),
        content_type: header_text(headers, header::CONTENT_TYPE),
        validators: validators_of(headers),
        retry_after: header_text(headers, header::RETRY_AFTER),
        body,
    }
}

/// What a failed request says, without the URL (reqwest's message repeats it).
fn request_error(e: &reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    // The guard's refusal travels as the connection error's source.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<crate::hosts::LookupError>() {
            return match refused {
                crate::hosts::LookupError::Refused(..) => FetchError::Refused(refused.to_string()),
                crate::hosts::LookupError::Unresolved(_) => FetchError::Failed(refused.to_string()),
            };
        }
        source = s.source();
    }
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body could not be read"
    } else {
        "request failed"
    };
    FetchError::Failed(kind.into())
}
