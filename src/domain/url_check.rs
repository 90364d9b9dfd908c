//! URL validation for resource and schema URLs: udata's rules, including the refusal of local hosts.

use std::net::IpAddr;

/// Why a URL was refused; rendered after `Invalid URL "<url>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidUrl {
    pub url: String,
    pub reason: Option<&'static str>,
}

impl std::fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.reason {
            Some(r) => write!(f, "Invalid URL \"{}\": {}", self.url, r),
            None => write!(f, "Invalid URL \"{}\"", self.url),
        }
    }
}

/// Checks a public URL (trimmed): scheme http(s)/ftp(s), a real host with a plausible TLD,
/// and no loopback, private, link-local, multicast or unspecified address.
pub fn check_public_url(raw: &str) -> Result<String, InvalidUrl> {
    let trimmed = raw.trim();
    let invalid = |reason| InvalidUrl {
        url: trimmed.to_string(),
        reason,
    };
    // The URL parser would quietly drop tabs and newlines, but the URL is stored as given and later
    // sent in a `Location` header: no control character may get that far (header injection).
    if trimmed.chars().any(|c| c.is_ascii_control()) {
        return Err(invalid(Some("contains a control character")));
    }
    let parsed = url::Url::parse(trimmed).map_err(|_| invalid(None))?;
    if !matches!(parsed.scheme(), "http" | "https" | "ftp" | "ftps") {
        return Err(invalid(None));
    }
    match parsed.host() {
        None => Err(invalid(None)),
        Some(url::Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip))
            .map(|()| trimmed.to_string())
            .map_err(invalid),
        Some(url::Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip))
            .map(|()| trimmed.to_string())
            .map_err(invalid),
        Some(url::Host::Domain(host)) => {
            let host = host.trim_end_matches('.');
            if host == "localhost" || host.ends_with(".localhost") {
                return Err(invalid(Some("is a local URL")));
            }
            let tld = host.rsplit('.').next().unwrap_or("");
            let plausible_tld = host.contains('.')
                && tld.len() >= 2
                && (tld.chars().all(|c| c.is_ascii_alphabetic()) || tld.starts_with("xn--"));
            if !plausible_tld {
                return Err(invalid(None));
            }
            Ok(trimmed.to_string())
        }
    }
}

fn check_ip(ip: IpAddr) -> Result<(), Option<&'static str>> {
    let local = match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| check_ip(IpAddr::V4(v4)).is_err())
        }
    };
    if local {
        return Err(Some("is a local URL"));
    }
    if ip.is_multicast() {
        return Err(Some("is a multicast URL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_public_urls() {
        assert!(check_public_url(" https://example.com/a.csv ").is_ok());
        assert!(check_public_url("ftp://user:pw@data.example.org/f").is_ok());
        assert!(check_public_url("http://8.8.8.8/x").is_ok());
    }

    #[test]
    fn refuses_local_and_malformed() {
        for u in [
            "test",
            "http://localhost/x",
            "http://127.0.0.1/x",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://[::1]/",
            "http://169.254.1.1/",
            "http://224.0.0.1/",
            "file:///etc/passwd",
            "http://intranet/",
        ] {
            assert!(check_public_url(u).is_err(), "{u}");
        }
        for u in [
            "https://example.com/a\r\nSet-Cookie: x=1",
            "https://example.com/a\0",
            "https://example.com/\u{1b}[0m",
            "https://exa\tmple.com/",
            "https://example.com/\u{7f}",
        ] {
            assert_eq!(
                check_public_url(u).unwrap_err().reason,
                Some("contains a control character"),
                "{u:?}"
            );
        }
        assert_eq!(
            check_public_url("test").unwrap_err().to_string(),
            "Invalid URL \"test\""
        );
    }
}
