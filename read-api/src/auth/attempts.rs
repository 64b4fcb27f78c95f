//! `GET /api/v1/admin/sign-in-attempts` (F33): who tried to sign in, from where, and what
//! became of it, for the admins' security page.

use super::AuthState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{page_size, ApiQuery, RequireAdmin};
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use commands::users::{sign_in_attempts, SignInAttempt, SignInFilter, SignInOutcome};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::IpAddr;

/// Filters and paging; all optional.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttemptQuery {
    /// From this IP address only.
    pub ip: Option<String>,
    /// E-mails containing this (case-insensitive).
    pub email: Option<String>,
    /// `succeeded`, `failed` or `refused` (the IP was blocked).
    pub outcome: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// One sign-in attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    /// A stable id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The client's address.
    pub ip: String,
    /// The e-mail as typed (lowercased), whether or not such an account exists.
    pub email: String,
    /// `succeeded`, `failed` or `refused` (unchecked: the IP was blocked).
    pub outcome: String,
    /// An admin lifted the block this failure counted towards.
    pub cleared: bool,
}

impl From<SignInAttempt> for AttemptView {
    fn from(a: SignInAttempt) -> Self {
        Self {
            id: a.id,
            at: a.at,
            ip: a.ip,
            email: a.email,
            outcome: a.outcome.as_str().to_owned(),
            cleared: a.cleared,
        }
    }
}

/// A page of attempts, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptPage {
    /// The attempts.
    pub items: Vec<AttemptView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

fn invalid(code: &'static str, field: &str, message: String) -> ApiError {
    ApiError::Unprocessable {
        code,
        message,
        details: Some(json!({"field": field})),
    }
}

/// Lists sign-in attempts, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/sign-in-attempts",
    operation_id = "admin_list_sign_in_attempts",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(AttemptQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "A page of sign-in attempts, newest first", body = AttemptPage),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "Not an IP address (`invalid_ip`), an unknown outcome (`invalid_outcome`) or a malformed cursor (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing sign-in attempts for an admin", skip_all)]
pub(crate) async fn list(
    State(state): State<AuthState>,
    _: RequireAdmin,
    ApiQuery(query): ApiQuery<AttemptQuery>,
) -> Result<Json<AttemptPage>, ApiError> {
    let ip = query
        .ip
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>()
                .map(|ip| ip.to_canonical())
                .map_err(|_| invalid("invalid_ip", "ip", format!("{s:?} is not an IP address")))
        })
        .transpose()?;
    let outcome = query
        .outcome
        .as_deref()
        .map(|o| {
            SignInOutcome::parse(o).ok_or_else(|| {
                invalid(
                    "invalid_outcome",
                    "outcome",
                    "outcome must be succeeded, failed or refused".into(),
                )
            })
        })
        .transpose()?;
    let before_id = query
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                invalid(
                    "invalid_cursor",
                    "cursor",
                    "cursor is not a next_cursor this API returned".into(),
                )
            })
        })
        .transpose()?;
    let limit = page_size(query.limit);
    let filter = SignInFilter {
        ip,
        email: query.email.filter(|e| !e.trim().is_empty()),
        outcome,
        before_id,
    };
    let mut items = sign_in_attempts(&state.pool, &filter, limit + 1)
        .await
        .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = more
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(Json(AttemptPage {
        items: items.into_iter().map(AttemptView::from).collect(),
        next_cursor,
    }))
}
