//! The client's address, by the same policy everywhere: login throttling blocks by it and
//! command metadata and the audit log record it.

use super::AuthConfig;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// The client's address: the TCP peer, or the last `X-Forwarded-For` entry when the
/// server trusts its proxy (that entry is the one the proxy itself appended; earlier ones
/// are whatever the client sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let trust_proxy = AuthConfig::from_ref(state).trust_proxy();
        client_ip(peer, &parts.headers, trust_proxy)
            .map(Self)
            .ok_or_else(|| {
                // Blocking by IP is impossible without one; refusing beats letting logins
                // through unthrottled.
                ApiError::internal(std::io::Error::other(
                    "the server was started without connect info: no client address",
                ))
            })
    }
}

/// The client address, given the peer and the headers.
pub(crate) fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trust_proxy: bool,
) -> Option<IpAddr> {
    if trust_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_peer_is_the_client_unless_the_proxy_is_trusted() {
        let peer = Some(IpAddr::from([10, 0, 0, 1]));
        let headers = forwarded("203.0.113.9, 198.51.100.7");
        assert_eq!(client_ip(peer, &headers, false), peer);
        assert_eq!(
            client_ip(peer, &headers, true),
            Some(IpAddr::from([198, 51, 100, 7]))
        );
        assert_eq!(client_ip(peer, &forwarded("garbage"), true), peer);
    }

    #[test]
    fn an_ipv4_peer_seen_through_an_ipv6_socket_is_its_ipv4_address() {
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(
            client_ip(Some(mapped), &HeaderMap::new(), false),
            Some(IpAddr::from([192, 0, 2, 1]))
        );
    }
}
