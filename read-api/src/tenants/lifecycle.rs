//! Suspending, reactivating and resetting the owner's password.

use super::TenantsState;
use crate::auth::{password, refresh};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireAdmin};
use crate::users;
use aggregates::TenantCommand;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a tenant is suspended.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SuspendRequest {
    /// Kept in the event; not blank.
    pub reason: String,
}

/// A new owner password, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasswordReset {
    /// The owner's id.
    pub user_id: Uuid,
    /// The owner's e-mail (their login).
    pub email: String,
    /// The new password; only its hash is kept.
    pub password: String,
}

/// `POST /api/v1/admin/tenants/{id}/suspend`: 204; suspending twice is harmless.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tenants/{id}/suspend",
    operation_id = "suspend_tenant",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    request_body = SuspendRequest,
    responses(
        (status = 204, description = "Suspended"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Conflict,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "suspending a tenant for an admin", skip_all, fields(tenant = %id))]
pub(super) async fn suspend(
    State(state): State<TenantsState>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<Uuid>,
    request: RequestMeta,
    ApiJson(body): ApiJson<SuspendRequest>,
) -> Result<StatusCode, ApiError> {
    if body.reason.trim().is_empty() {
        return Err(ApiError::Unprocessable {
            code: "reason_required",
            message: "a suspension must say why".into(),
            details: None,
        });
    }
    let md = command_metadata(&admin, id, request);
    let command = TenantCommand::Suspend {
        reason: body.reason.trim().to_owned(),
    };
    state
        .bus
        .tenants
        .execute(&id.to_string(), command, &md)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/tenants/{id}/reactivate`: 204; reactivating an active tenant is
/// harmless.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tenants/{id}/reactivate",
    operation_id = "reactivate_tenant",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    responses(
        (status = 204, description = "Active"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Conflict,
        r::Internal,
    )
)]
#[tracing::instrument(name = "reactivating a tenant for an admin", skip_all, fields(tenant = %id))]
pub(super) async fn reactivate(
    State(state): State<TenantsState>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<Uuid>,
    request: RequestMeta,
) -> Result<StatusCode, ApiError> {
    let md = command_metadata(&admin, id, request);
    state
        .bus
        .tenants
        .execute(&id.to_string(), TenantCommand::Reactivate, &md)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/tenants/{id}/reset-password`: a new generated password for the
/// tenant's (first) owner; every session they had ends with it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tenants/{id}/reset-password",
    operation_id = "reset_owner_password",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The new password, shown this once", body = PasswordReset),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "The tenant has no owner (`owner_not_found`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "resetting a tenant owner's password for an admin", skip_all, fields(tenant = %id))]
pub(super) async fn reset_password(
    State(state): State<TenantsState>,
    _admin: RequireAdmin,
    Path(id): Path<Uuid>,
) -> Result<Json<PasswordReset>, ApiError> {
    let owner: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, email FROM users WHERE tenant_id = $1 AND role = 'owner'
          ORDER BY created_at, id LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let (user_id, email) = owner.ok_or_else(|| ApiError::NotFound {
        code: "owner_not_found",
        message: "this tenant has no owner".into(),
    })?;
    let new_password = password::generate();
    let hash = password::hash(new_password.clone())
        .await
        .map_err(ApiError::internal)?;
    // One transaction: a new password must never coexist with the old sessions.
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    users::set_password_hash(&mut tx, user_id, &hash)
        .await
        .map_err(ApiError::internal)?;
    refresh::revoke_user(&mut tx, user_id)
        .await
        .map_err(ApiError::internal)?;
    tx.commit().await.map_err(ApiError::internal)?;
    tracing::info!(%user_id, "a tenant owner's password was reset");
    Ok(Json(PasswordReset {
        user_id,
        email,
        password: new_password,
    }))
}
