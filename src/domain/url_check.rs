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
    check_url_allowing(raw, &[])
}

/// [`check_public_url`], except that addresses in `allowed` (the operator's
/// `RUDATA_CHECK_ALLOW_NETWORKS`) are accepted.
pub fn check_url_allowing(raw: &str, allowed: &[ipnet::IpNet]) -> Result<String, InvalidUrl> {
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
        Some(url::Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip), allowed)
            .map(|()| trimmed.to_string())
            .map_err(invalid),
        Some(url::Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip), allowed)
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

fn check_ip(ip: IpAddr, allowed: &[ipnet::IpNet]) -> Result<(), Option<&'static str>> {
    match ip_refusal_allowing(ip, allowed) {
        Some(reason) => Err(Some(reason)),
        None => Ok(()),
    }
}

/// [`ip_refusal`] unless the operator allowed a network holding `ip`.
pub fn ip_refusal_allowing(ip: IpAddr, allowed: &[ipnet::IpNet]) -> Option<&'static str> {
    if allowed.iter().any(|net| net.contains(&ip)) {
        return None;
    }
    ip_refusal(ip)
}

/// Why no remote URL may point to `ip`: this machine, a private or link-local network (the cloud
/// metadata address among them), multicast, or a special-purpose range (RFC 6890: shared address
/// space, documentation, benchmarking, reserved), also when written as an IPv4-mapped, NAT64 or 6to4
/// IPv6 address.
pub fn ip_refusal(ip: IpAddr) -> Option<&'static str> {
    if ip.is_multicast() {
        return Some("is a multicast URL");
    }
    let local = match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, shared address space (CGNAT)
                || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
                || (a == 192 && b == 0 && c == 2) // TEST-NET-1
                || (a == 198 && (b & 0xfe) == 18) // 198.18.0.0/15, benchmarking
                || (a == 198 && b == 51 && c == 100) // TEST-NET-2
                || (a == 203 && b == 0 && c == 113) // TEST-NET-3
                || a >= 240 // reserved
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = if let Some(v4) = v6.to_ipv4_mapped() {
                Some(v4)
            } else if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
                // 64:ff9b::/96, NAT64: the last 32 bits are an IPv4 address.
                Some(std::net::Ipv4Addr::from(
                    ((s[6] as u32) << 16) | s[7] as u32,
                ))
            } else if s[0] == 0x2002 {
                // 2002::/16, 6to4: the next 32 bits are an IPv4 address.
                Some(std::net::Ipv4Addr::from(
                    ((s[1] as u32) << 16) | s[2] as u32,
                ))
            } else if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
                // ::a.b.c.d, the deprecated IPv4-compatible form.
                Some(std::net::Ipv4Addr::from(
                    ((s[6] as u32) << 16) | s[7] as u32,
                ))
            } else {
                None
            };
            if let Some(v4) = embedded {
                return ip_refusal(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0100 && s[1..4] == [0; 3]) // 100::/64, discard
        }
    };
    local.then_some("is a local URL")
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

    #[test]
    fn refuses_special_purpose_ranges_in_any_notation() {
        for u in [
            "http://100.64.0.1/",
            "http://100.127.255.254/",
            "http://192.0.0.8/",
            "http://192.0.2.10/",
            "http://198.18.0.1/",
            "http://198.19.255.1/",
            "http://198.51.100.7/",
            "http://203.0.113.9/",
            "http://240.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::]/",
            "http://[::7f00:1]/",
            "http://[2001:db8::1]/",
            "http://[fec0::1]/",
            "http://[100::1]/",
            "http://[ff02::1]/",
        ] {
            assert!(check_public_url(u).is_err(), "{u}");
        }
        for u in [
            "http://100.128.0.1/",
            "http://198.20.0.1/",
            "http://[2606:4700::1111]/",
            "http://[64:ff9b::808:808]/",
            "http://[2002:808:808::]/",
        ] {
            assert!(check_public_url(u).is_ok(), "{u}");
        }
    }

    #[test]
    fn an_allowed_network_lifts_the_refusal_of_its_addresses_only() {
        let allowed = ["127.0.0.0/8".parse().unwrap()];
        assert!(check_url_allowing("http://127.0.0.1:8080/f.csv", &allowed).is_ok());
        assert!(check_url_allowing("http://10.0.0.1/f.csv", &allowed).is_err());
        assert!(check_url_allowing("http://[::ffff:10.0.0.1]/f.csv", &allowed).is_err());
        assert!(check_url_allowing("http://localhost/f.csv", &allowed).is_err());
        assert!(ip_refusal_allowing("169.254.169.254".parse().unwrap(), &allowed).is_some());
    }
}
