//! Suspending, reactivating and sending the owner a password-reset link.

use super::TenantsState;
use crate::auth::reset;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::revocations::Subject;
use crate::request::{ApiJson, RequireAdmin};
use crate::request::{AuthConfig, RequestMeta};
use crate::trail::{Action, Trail};
use aggregates::TenantCommand;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use integrations::mailer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a tenant is suspended.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SuspendRequest {
    /// Kept in the event; not blank.
    pub reason: String,
}

/// Where the owner's reset link went. No password: the owner chooses it from the link.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnerResetLinkSent {
    /// The owner's id.
    pub user_id: Uuid,
    /// The owner's e-mail (their login), where the link is sent.
    pub email: String,
    /// How long the link works, in minutes.
    pub valid_minutes: u32,
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
    State(auth): State<AuthConfig>,
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
    // Its users' access tokens are refused from the next request, not when they expire.
    auth.revocations().mark(Subject::Tenant(id), true);
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
    State(auth): State<AuthConfig>,
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
    auth.revocations().mark(Subject::Tenant(id), false);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/tenants/{id}/reset-password`: e-mails the tenant's (first enabled)
/// owner a single-use link to choose a new password — the self-service reset's link and
/// mail, in the tenant's language. Nothing secret is answered: the admin never learns the
/// password, and the owner's sessions end when they set it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tenants/{id}/reset-password",
    operation_id = "reset_owner_password",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    responses(
        (status = 202, description = "The link is queued for the owner's e-mail", body = OwnerResetLinkSent),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "The tenant has no enabled owner (`owner_not_found`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "e-mailing a tenant owner a reset link for an admin", skip_all, fields(tenant = %id))]
pub(super) async fn reset_password(
    State(state): State<TenantsState>,
    _admin: RequireAdmin,
    trail: Trail,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<OwnerResetLinkSent>), ApiError> {
    let result = send_reset_link(&state, id).await;
    let entry = Action::ResetOwnerPassword.on("user", "").tenant(id);
    let entry = match &result {
        Ok(sent) => entry.target_id(sent.user_id).note("link e-mailed"),
        Err(_) => entry,
    };
    let sent = trail.record(entry, result).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

async fn send_reset_link(state: &TenantsState, id: Uuid) -> Result<OwnerResetLinkSent, ApiError> {
    let owner: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, email FROM users
          WHERE tenant_id = $1 AND role = 'owner' AND disabled_at IS NULL
          ORDER BY created_at, id LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let (user_id, email) = owner.ok_or_else(|| ApiError::NotFound {
        code: "owner_not_found",
        message: "this tenant has no enabled owner".into(),
    })?;
    let locale = {
        let mut conn = state.pool.acquire().await.map_err(ApiError::internal)?;
        mailer::tenant_locale(&mut conn, id)
            .await
            .map_err(ApiError::internal)?
    };
    reset::issue(&state.pool, &state.public_url, user_id, &email, locale).await?;
    tracing::info!(%user_id, "a reset link was queued for a tenant owner");
    Ok(OwnerResetLinkSent {
        user_id,
        email,
        valid_minutes: u32::try_from(reset::TOKEN_TTL.as_secs() / 60).unwrap_or(60),
    })
}
