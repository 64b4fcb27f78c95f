//! Who may read `/metrics`: local clients, and with `ATENDE_METRICS_TOKEN` set anyone who
//! presents it as a bearer token.
//!
//! A local client is a loopback peer whose request carries no forwarding header: a reverse
//! proxy on the same machine connects from loopback too, and the client it forwards is not
//! local.

use crate::error::ApiError;
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Headers a proxy adds for the client it forwards.
const FORWARDING: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// The token that opens `/metrics` to other clients; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    /// The token `text` (surrounding blanks dropped); none when blank.
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty()).then(|| Self(Sha256::digest(text.as_bytes()).into()))
    }

    /// Whether `presented` is the token, in time that does not depend on where they differ.
    fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        digest
            .iter()
            .zip(self.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

impl FromStr for MetricsToken {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s).ok_or("the metrics token is blank")
    }
}

fn local(peer: IpAddr, headers: &HeaderMap) -> bool {
    peer.to_canonical().is_loopback() && !FORWARDING.iter().any(|h| headers.contains_key(*h))
}

/// Lets the request through, or says why not: 401 without a token where one is needed,
/// 403 with a wrong one or, with none configured, from a client that is not local.
pub(super) fn check(
    token: Option<&MetricsToken>,
    peer: IpAddr,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let bearer = crate::request::bearer_token(headers);
    match (token, bearer) {
        (Some(token), Some(presented)) if token.matches(presented) => Ok(()),
        (Some(_), Some(_)) => Err(ApiError::Forbidden {
            code: "metrics_token_invalid",
            message: "the metrics token is not the one configured".into(),
        }),
        _ if local(peer, headers) => Ok(()),
        (Some(_), None) => Err(ApiError::Unauthorized(
            "/metrics needs the metrics token as a bearer token from this client".into(),
        )),
        (None, _) => Err(ApiError::Forbidden {
            code: "metrics_local_only",
            message: "/metrics answers local clients only (no ATENDE_METRICS_TOKEN is set)".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const REMOTE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));

    #[test]
    fn without_a_token_only_local_clients_are_answered() {
        assert!(check(None, LOOPBACK, &HeaderMap::new()).is_ok());
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap_or(REMOTE);
        assert!(check(None, mapped, &HeaderMap::new()).is_ok());
        assert_eq!(
            check(None, REMOTE, &HeaderMap::new()).map_err(|e| e.status().as_u16()),
            Err(403)
        );
        let proxied = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert!(check(None, LOOPBACK, &proxied).is_err());
    }

    #[test]
    fn with_a_token_other_clients_need_it_and_a_wrong_one_is_refused() {
        let token = MetricsToken::new("s3cret-metrics").expect("a token");
        let status = |h: &HeaderMap| check(Some(&token), REMOTE, h).map_err(|e| e.status());
        assert_eq!(status(&HeaderMap::new()).map_err(|s| s.as_u16()), Err(401));
        let wrong = headers(&[("authorization", "Bearer nope")]);
        assert_eq!(status(&wrong).map_err(|s| s.as_u16()), Err(403));
        let right = headers(&[("authorization", "Bearer s3cret-metrics")]);
        assert!(status(&right).is_ok());
        // The scheme name is case-insensitive (RFC 9110), as on every other route.
        let lower = headers(&[("authorization", "bearer s3cret-metrics")]);
        assert!(status(&lower).is_ok());
        assert!(MetricsToken::new("  ").is_none());
        assert_eq!(format!("{token:?}"), "MetricsToken(***)");
    }
}
