//! The client's address: the TCP peer, or with `TODO_TRUSTED_PROXIES = n` the
//! `n`-th `X-Forwarded-For` entry from the right (the address the outermost
//! trusted proxy saw). `X-Forwarded-For` is ignored by default: any client can
//! write it, so trusting it without a proxy that overwrites it would let an
//! attacker pick a fresh address for every request and escape the per-address
//! limits.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::state::AppState;

/// The address a request came from (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client address of a request with `peer` and `headers`, trusting `proxies` hops.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, proxies: u8) -> IpAddr {
    // Without a socket (a router called in-process) every request shares one address.
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if proxies == 0 {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let n = usize::from(proxies);
    if hops.len() < n {
        // Fewer hops than trusted proxies: the nearest one we have is the best guess,
        // and the peer (a trusted proxy) if there is none.
        return hops.first().and_then(|h| h.parse().ok()).unwrap_or(peer);
    }
    hops[hops.len() - n].parse().unwrap_or(peer)
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientIp(client_ip(peer, &parts.headers, state.limits.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_ignored_unless_proxies_are_trusted() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let h = headers(&["198.51.100.1, 203.0.113.9"]);
        assert_eq!(client_ip(Some(peer), &h, 0), peer, "spoofable header ignored by default");
        assert_eq!(client_ip(Some(peer), &h, 1), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(Some(peer), &h, 2), "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(
            client_ip(Some(peer), &headers(&["198.51.100.1", "203.0.113.9"]), 1),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(Some(peer), &headers(&[]), 1), peer, "no header: the peer");
        assert_eq!(client_ip(Some(peer), &headers(&["garbage"]), 1), peer, "unparsable: the peer");
        assert_eq!(client_ip(None, &headers(&[]), 0), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
}
