//! Error responses shared by many operations, each with the [`ErrorBody`] schema. Use them in
//! `responses(...)` next to the operation's own tuples:
//!
//! ```ignore
//! responses((status = 200, body = Thing), Unauthorized, Forbidden, Internal)
//! ```

use crate::error::ErrorBody;
use utoipa::IntoResponses;

/// 400: the request (body, query or path) could not be read.
#[derive(Debug, IntoResponses)]
#[response(status = 400, description = "The request could not be read")]
pub struct BadRequest(pub ErrorBody);

/// 401: no valid access token (`WWW-Authenticate: Bearer`).
#[derive(Debug, IntoResponses)]
#[response(
    status = 401,
    description = "No valid access token: missing, malformed, forged or expired"
)]
pub struct Unauthorized(pub ErrorBody);

/// 403: the token is valid but its role (or tenant) may not do this.
#[derive(Debug, IntoResponses)]
#[response(
    status = 403,
    description = "The caller's role or tenant may not do this"
)]
pub struct Forbidden(pub ErrorBody);

/// 404: no such thing, or not visible to the caller.
#[derive(Debug, IntoResponses)]
#[response(
    status = 404,
    description = "No such thing, or not the caller's to see"
)]
pub struct NotFound(pub ErrorBody);

/// 409: conflicts with the current state.
#[derive(Debug, IntoResponses)]
#[response(status = 409, description = "Conflicts with the current state")]
pub struct Conflict(pub ErrorBody);

/// 422: understood, but breaks a rule (`details` may say which field).
#[derive(Debug, IntoResponses)]
#[response(status = 422, description = "Understood but breaks a rule")]
pub struct Unprocessable(pub ErrorBody);

/// 429: too many attempts; see `Retry-After`.
#[derive(Debug, IntoResponses)]
#[response(
    status = 429,
    description = "Too many attempts; retry after `Retry-After` seconds"
)]
pub struct TooManyRequests(pub ErrorBody);

/// 500: an unexpected failure; the cause is logged, never sent.
#[derive(Debug, IntoResponses)]
#[response(
    status = 500,
    description = "Unexpected failure; the cause is logged, not sent"
)]
pub struct Internal(pub ErrorBody);

/// 503: a dependency is down.
#[derive(Debug, IntoResponses)]
#[response(status = 503, description = "A dependency is unavailable")]
pub struct Unavailable(pub ErrorBody);
