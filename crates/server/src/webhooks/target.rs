//! Where a webhook may be sent. A tenant chooses its endpoint URL, so without a guard it could
//! make the service call anything the service can reach (cloud metadata, the database, admin
//! ports on loopback). Unless `allow_private_targets` is set:
//! - an IP literal in the URL must be public;
//! - a name is resolved by [`GuardedResolver`], which drops every non-public address, and the
//!   connection goes to an address from that filtered answer (no second lookup a rebinding DNS
//!   server could answer differently);
//! - redirects are never followed (see the client in `worker.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether an address is on the public internet: not loopback, private (RFC 1918), shared
/// (100.64/10), link-local (169.254/16, cloud metadata), unspecified, broadcast, multicast,
/// documentation or benchmarking ranges, IPv6 unique-local or link-local, nor an IPv4 address
/// in IPv4-mapped or -compatible form that is one of these.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated) fec0::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b)) // NAT64 to any IPv4
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240) // reserved
}

/// Why a target was refused before any byte was sent.
#[derive(Debug, thiserror::Error)]
pub enum TargetRefused {
    #[error("the URL does not parse: {0}")]
    Url(String),
    #[error("{0} is not a public address (webhooks.allow_private_targets is off)")]
    Private(IpAddr),
}

/// Checks a URL before sending: its scheme, and its host when it is an IP literal (names are
/// checked by [`GuardedResolver`] at connection time).
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, TargetRefused> {
    let parsed = reqwest::Url::parse(url).map_err(|e| TargetRefused::Url(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetRefused::Url(format!("scheme {}", parsed.scheme())));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| TargetRefused::Url("no host".into()))?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let ip: Option<IpAddr> = literal.parse().ok();
    if let Some(ip) = ip
        && !allow_private
        && !is_public(ip)
    {
        return Err(TargetRefused::Private(ip));
    }
    Ok(parsed)
}

/// The system resolver, minus every non-public address unless private targets are allowed.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if kept.is_empty() {
                let first = all
                    .first()
                    .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), SocketAddr::ip);
                return Err(Box::new(TargetRefused::Private(first)) as _);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn literal_targets() {
        assert!(check_url("http://127.0.0.1:9/x", false).is_err());
        assert!(check_url("http://[::1]:9/x", false).is_err());
        assert!(check_url("http://169.254.169.254/latest", false).is_err());
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_url("https://hooks.example.com/x", false).is_ok());
        assert!(check_url("file:///etc/passwd", true).is_err());
    }
}
