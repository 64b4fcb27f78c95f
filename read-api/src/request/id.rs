//! Request ids: one per request, echoed back, on every log line of it.

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;
use uuid::Uuid;

/// Generates time-ordered UUIDv7 request ids, so the same id can serve as the command
/// metadata's request id.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// The request's id as a UUID; a client-supplied id that is not a UUID gets a fresh one.
pub fn request_id_of<B>(request: &Request<B>) -> Uuid {
    request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(Uuid::now_v7)
}

/// The span every request's log lines belong to, named by its id.
pub fn make_span<B>(request: &Request<B>) -> Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "handling an HTTP request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}
