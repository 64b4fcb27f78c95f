//! `GET /api/v1/admin/ip-blocks` and `DELETE /api/v1/admin/ip-blocks/{ip}` (F33).

use super::throttle::{self, IpBlock};
use super::RequireAdmin;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use std::net::IpAddr;

/// Every IP currently blocked from signing in, and until when.
pub(super) async fn list(
    State(state): State<AppState>,
    _: RequireAdmin,
) -> Result<Json<Vec<IpBlock>>, ApiError> {
    throttle::blocked_ips(&state.pool)
        .await
        .map(Json)
        .map_err(ApiError::internal)
}

/// Unblocks an IP: its failures so far stop counting. Idempotent.
#[tracing::instrument(name = "unblocking an IP for an admin", skip_all, fields(by = %admin.id, %ip))]
pub(super) async fn unblock(
    State(state): State<AppState>,
    RequireAdmin(admin): RequireAdmin,
    Path(ip): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ip: IpAddr = ip.parse().map_err(|_| ApiError::BadRequest {
        code: "invalid_ip",
        message: format!("{ip:?} is not an IP address"),
    })?;
    let cleared = throttle::unblock(&state.pool, ip.to_canonical())
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(cleared, "an admin unblocked an IP");
    Ok(StatusCode::NO_CONTENT)
}
