//! `GET /api/v1/admin/ip-blocks` and `DELETE /api/v1/admin/ip-blocks/{ip}` (F33).

use super::throttle::{self, IpBlock};
use super::AuthState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequireAdmin;
use crate::trail::{Action, Trail};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use std::net::IpAddr;

/// Every IP currently blocked from signing in, and until when.
#[utoipa::path(
    get,
    path = "/api/v1/admin/ip-blocks",
    operation_id = "list_ip_blocks",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The blocked IPs", body = Vec<IpBlock>),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
pub(crate) async fn list(
    State(state): State<AuthState>,
    _: RequireAdmin,
) -> Result<Json<Vec<IpBlock>>, ApiError> {
    throttle::blocked_ips(&state.pool)
        .await
        .map(Json)
        .map_err(ApiError::internal)
}

/// Unblocks an IP: its failures so far stop counting. Idempotent.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/ip-blocks/{ip}",
    operation_id = "unblock_ip",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("ip" = String, Path, description = "The blocked IP address")),
    responses(
        (status = 204, description = "Unblocked (also when it was not blocked)"),
        (status = 400, description = "Not an IP address (`invalid_ip`)", body = crate::error::ErrorBody),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "unblocking an IP for an admin", skip_all, fields(by = %admin.id, %ip))]
pub(super) async fn unblock(
    State(state): State<AuthState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    Path(ip): Path<String>,
) -> Result<StatusCode, ApiError> {
    let result = async {
        let ip: IpAddr = ip.parse().map_err(|_| ApiError::BadRequest {
            code: "invalid_ip",
            message: format!("{ip:?} is not an IP address"),
        })?;
        let cleared = throttle::unblock(&state.pool, ip.to_canonical())
            .await
            .map_err(ApiError::internal)?;
        tracing::info!(cleared, "an admin unblocked an IP");
        Ok(cleared)
    }
    .await;
    let entry = Action::UnblockIp.on("ip", ip.trim());
    let entry = match &result {
        Ok(cleared) => entry.note(format!("{cleared} failures cleared")),
        Err(_) => entry,
    };
    trail
        .record(entry, result)
        .await
        .map(|_| StatusCode::NO_CONTENT)
}
