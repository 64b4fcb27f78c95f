//! What command metadata and the audit log need to know about the HTTP request itself.

use super::client_ip::client_ip;
use super::{request_id_of, AuthConfig, AuthUser, ClientIp};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::Request;
use axum::Extension;
use schemas::CommandMetadata;
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
            client_ip: client_ip(peer, request.headers(), auth.trust_proxy()),
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

/// Metadata for a command `user` runs on `tenant`, carrying the request's id and client
/// address so the events can be traced back to the HTTP request that caused them (F46).
/// Take a [`RequestMeta`] in the handler and pass it here.
pub(crate) fn command_metadata(
    user: &AuthUser,
    tenant: Uuid,
    request: impl Into<RequestMeta>,
) -> CommandMetadata {
    request_metadata(
        CommandMetadata::new(user.actor(), Some(tenant)),
        request.into(),
    )
}

/// `md` with the request's id and client address, when known.
pub(crate) fn request_metadata(mut md: CommandMetadata, request: RequestMeta) -> CommandMetadata {
    if let Some(id) = request.request_id {
        md = md.with_request_id(id);
    }
    if let Some(ip) = request.client_ip {
        md = md.with_client_ip(ip);
    }
    md
}
