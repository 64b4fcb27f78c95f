//! What command metadata and the audit log need to know about the HTTP request itself.

use super::request_id_of;
use crate::auth::{AuthConfig, ClientIp};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::Request;
use axum::Extension;
use std::convert::Infallible;
use std::net::IpAddr;
use tower_http::request_id::RequestId;
use uuid::Uuid;

/// The request's id and its client's address (same policy as login throttling:
/// `X-Forwarded-For` only when the proxy is trusted). Never rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestMeta {
    /// The request id the HTTP layer assigned (echoed as `x-request-id`).
    pub request_id: Option<Uuid>,
    /// The client's address, when the server knows it.
    pub client_ip: Option<IpAddr>,
}

impl<S> FromRequestParts<S> for RequestMeta
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .and_then(|s| Uuid::parse_str(s).ok());
        let client_ip = ClientIp::from_request_parts(parts, state)
            .await
            .ok()
            .map(|ClientIp(ip)| ip);
        Ok(Self {
            request_id,
            client_ip,
        })
    }
}

impl RequestMeta {
    /// The same, from a whole request (middleware has no `Parts`).
    pub fn of<B>(request: &Request<B>, auth: &AuthConfig) -> Self {
        let peer = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|axum::extract::ConnectInfo(addr)| addr.ip());
        Self {
            request_id: Some(request_id_of(request)),
            client_ip: crate::auth::throttle::client_ip(
                peer,
                request.headers(),
                auth.trust_proxy(),
            ),
        }
    }
}

/// Handlers written before the client address was kept pass the request id alone.
impl From<Option<Extension<RequestId>>> for RequestMeta {
    fn from(id: Option<Extension<RequestId>>) -> Self {
        Self {
            request_id: id
                .and_then(|Extension(id)| id.header_value().to_str().ok().map(str::to_owned))
                .and_then(|s| Uuid::parse_str(&s).ok()),
            client_ip: None,
        }
    }
}
