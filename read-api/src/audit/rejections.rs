//! Recording rejected attempts (F46): every response with 401, 403 or 429 becomes a row of
//! `rejected_attempts`, with who (when the token was valid), the tenant, the request id,
//! the client address, the method, the path and the error's code and message. Rate-limit
//! refusals (`rate_limited`) are the exception: they are counted, not recorded.
//!
//! It is a middleware rather than a call in each guard so that no refusal can be missed:
//! role guards, handlers' own 403s (a wrong current password), failed sign-ins and blocked
//! IPs all end as such a response.

use super::AuditState;
use crate::request::RequestMeta;
use crate::request::{bearer_token, AuthUser};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use sqlx::PgPool;

/// Error bodies are small; anything larger is not one of ours and is not read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The statuses recorded.
fn is_rejection(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
    )
}

/// One refused request, as recorded.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// Request id and client address.
    pub request: RequestMeta,
    /// The HTTP method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// 401, 403 or 429.
    pub status: StatusCode,
    /// The error's code.
    pub code: String,
    /// The error's message.
    pub reason: String,
    /// The caller, when the request carried a valid access token.
    pub actor: Option<AuthUser>,
}

#[derive(Deserialize)]
struct ErrorShape {
    code: String,
    message: String,
}

/// The middleware: passes every request on and records the refused ones.
pub async fn record(State(state): State<AuditState>, request: Request, next: Next) -> Response {
    let meta = RequestMeta::of(&request, &state.auth);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // Kept aside and checked only if the request is refused: accepted requests pay nothing.
    let token = bearer_token(request.headers()).map(str::to_owned);
    let response = next.run(request).await;
    // A spent rate limit is counted in the metrics, not written row by row: recording every
    // request of a flood would hand the flood to the database (issue 19).
    let throttled = response
        .extensions()
        .get::<crate::error::RateLimitedResponse>()
        .is_some();
    if !is_rejection(response.status()) || throttled {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(error = %e, "a refusal's body could not be read; not recorded");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let (code, reason) = match serde_json::from_slice::<ErrorShape>(&bytes) {
        Ok(e) => (e.code, e.message),
        Err(_) => (
            parts
                .status
                .canonical_reason()
                .unwrap_or("refused")
                .to_lowercase(),
            String::new(),
        ),
    };
    let actor = token.and_then(|token| state.auth.verify_access_token(&token).ok());
    let rejection = Rejection {
        request: meta,
        method,
        path,
        status: parts.status,
        code,
        reason,
        actor,
    };
    // A refusal that cannot be recorded is still refused; the log line keeps the evidence.
    if let Err(e) = insert(&state.pool, &rejection).await {
        tracing::error!(error = %e, status = %rejection.status, path = %rejection.path,
            "a rejected attempt could not be recorded");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Writes one row.
#[tracing::instrument(name = "recording a rejected attempt", skip_all, fields(status = %r.status))]
pub async fn insert(pool: &PgPool, r: &Rejection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rejected_attempts
            (request_id, client_ip, method, path, status, code, reason, actor_id, actor_role,
             tenant_id)
         VALUES ($1, $2::inet, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(r.request.request_id.unwrap_or_else(uuid::Uuid::now_v7))
    .bind(r.request.client_ip.map(|ip| ip.to_string()))
    .bind(r.method.as_str())
    .bind(&r.path)
    .bind(i16::try_from(r.status.as_u16()).unwrap_or(i16::MAX))
    .bind(&r.code)
    .bind(&r.reason)
    .bind(r.actor.map(|a| a.id))
    .bind(r.actor.map(|a| a.role.as_str()))
    .bind(r.actor.and_then(|a| a.tenant_id))
    .execute(pool)
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;

    #[test]
    fn the_error_body_every_refusal_is_sent_with_is_the_shape_recorded() {
        let sent = ErrorBody {
            code: "forbidden",
            message: "your role may not do this".into(),
            details: None,
        };
        let read = serde_json::to_vec(&sent)
            .ok()
            .and_then(|b| serde_json::from_slice::<ErrorShape>(&b).ok())
            .map(|e| (e.code, e.message));
        assert_eq!(
            read,
            Some(("forbidden".into(), "your role may not do this".into()))
        );
    }
}
