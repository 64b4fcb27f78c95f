//! The admin-set monthly AI spend thresholds (issue 18, the usage monitor): read them, set
//! and clear the global one and each tenant's.
//!
//! Writing goes through the `ai_spend_threshold` aggregate, so every change is an event
//! with the admin as actor (in the hash chain and the audit log); reads come from the
//! `ai_spend_watch` consumer's `ai_spend_thresholds`, which also raises the notification
//! (see [`projections::spend`]). A change answers once that table shows it.

use super::UsageState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{request_metadata, ApiJson, RequestMeta, RequireAdmin};
use aggregates::AiSpendCommand;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use schemas::events::GLOBAL_AI_SPEND_SCOPE;
use schemas::CommandMetadata;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A threshold in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AiSpendThreshold {
    /// The tenant it watches; null for the global threshold.
    pub tenant_id: Option<Uuid>,
    /// The tenant's name, as the directory has it.
    pub tenant_name: Option<String>,
    /// US cents per UTC month.
    pub monthly_usd_cents: i64,
    /// The admin who set it.
    pub set_by: Uuid,
    /// That admin's e-mail.
    pub set_by_email: Option<String>,
    /// When.
    pub set_at: DateTime<Utc>,
}

/// Every threshold in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AiSpendThresholds {
    /// The threshold of every tenant without its own; null when none is set.
    pub global: Option<AiSpendThreshold>,
    /// The tenants' own thresholds, which override the global one, by tenant name.
    pub tenants: Vec<AiSpendThreshold>,
}

/// A threshold to set.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AiSpendThresholdInput {
    /// US cents per UTC month, 0 to 100000000 (US$ 1,000,000). A tenant whose estimated AI
    /// cost in a month reaches it (equal counts) raises one admin notification that month.
    pub monthly_usd_cents: i64,
}

/// Every threshold in force, as the consumer has applied them.
pub(crate) async fn thresholds(pool: &sqlx::PgPool) -> Result<AiSpendThresholds, ApiError> {
    let rows: Vec<(String, AiSpendThreshold)> = sqlx::query_as::<_, AiSpendThresholdRow>(
        "SELECT t.scope, t.tenant_id, d.name AS tenant_name, t.monthly_usd_cents,
                t.admin_id AS set_by, u.email AS set_by_email, t.at AS set_at
           FROM ai_spend_thresholds t
           LEFT JOIN tenant_directory d ON d.tenant_id = t.tenant_id
           LEFT JOIN users u ON u.id = t.admin_id
          WHERE t.monthly_usd_cents IS NOT NULL
          ORDER BY lower(d.name), t.tenant_id",
    )
    .fetch_all(pool)
    .await
    .map_err(ApiError::internal)?
    .into_iter()
    .map(AiSpendThresholdRow::split)
    .collect();
    let mut global = None;
    let mut tenants = Vec::new();
    for (scope, threshold) in rows {
        if scope == GLOBAL_AI_SPEND_SCOPE {
            global = Some(threshold);
        } else {
            tenants.push(threshold);
        }
    }
    Ok(AiSpendThresholds { global, tenants })
}

#[derive(sqlx::FromRow)]
struct AiSpendThresholdRow {
    scope: String,
    #[sqlx(flatten)]
    threshold: AiSpendThreshold,
}

impl AiSpendThresholdRow {
    fn split(self) -> (String, AiSpendThreshold) {
        (self.scope, self.threshold)
    }
}

/// Runs `command` on `scope`, waits for the consumer to apply it, and answers every
/// threshold in force.
async fn run(
    state: &UsageState,
    admin: &crate::request::AuthUser,
    request: RequestMeta,
    scope: &str,
    tenant: Option<Uuid>,
    command: AiSpendCommand,
) -> Result<Json<AiSpendThresholds>, ApiError> {
    let md = request_metadata(CommandMetadata::new(admin.actor(), tenant), request);
    state.bus.ai_spend.execute(scope, command, &md).await?;
    let (_, version) = state.bus.ai_spend.load(scope).await?;
    if version > 0 {
        for _ in 0..100 {
            let seen: Option<i64> = sqlx::query_scalar(
                "SELECT last_sequence FROM ai_spend_thresholds WHERE scope = $1",
            )
            .bind(scope)
            .fetch_optional(&state.pool)
            .await
            .map_err(ApiError::internal)?;
            if seen.is_some_and(|s| s >= version as i64) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    Ok(Json(thresholds(&state.pool).await?))
}

/// 404 `tenant_not_found` unless `tenant` is registered.
async fn registered(state: &UsageState, tenant: Uuid) -> Result<(), ApiError> {
    crate::tenants::registered_tenant(&state.bus, tenant)
        .await
        .map(|_| ())
        .map_err(|_| ApiError::NotFound {
            code: "tenant_not_found",
            message: "no such tenant".into(),
        })
}

/// The global AI spend threshold and every tenant's own.
#[utoipa::path(
    get,
    path = "/api/v1/admin/ai-spend-thresholds",
    operation_id = "admin_ai_spend_thresholds",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every threshold in force", body = AiSpendThresholds),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing the AI spend thresholds for an admin", skip_all)]
pub(super) async fn list(
    State(state): State<UsageState>,
    _admin: RequireAdmin,
) -> Result<Json<AiSpendThresholds>, ApiError> {
    Ok(Json(thresholds(&state.pool).await?))
}

/// Sets the global monthly AI spend threshold: every tenant without its own is watched
/// against it.
#[utoipa::path(
    put,
    path = "/api/v1/admin/ai-spend-thresholds/global",
    operation_id = "set_global_ai_spend_threshold",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = AiSpendThresholdInput,
    responses(
        (status = 200, description = "Set (the same amount again changes nothing); every threshold in force", body = AiSpendThresholds),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A negative or too large amount (`invalid_threshold`), or a body of another shape", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin sets the global AI spend threshold", skip_all, fields(by = %admin.id))]
pub(super) async fn set_global(
    State(state): State<UsageState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    ApiJson(body): ApiJson<AiSpendThresholdInput>,
) -> Result<Json<AiSpendThresholds>, ApiError> {
    let command = AiSpendCommand::Set {
        tenant_id: None,
        monthly_usd_cents: body.monthly_usd_cents,
        admin_id: admin.id,
    };
    run(
        &state,
        &admin,
        request,
        GLOBAL_AI_SPEND_SCOPE,
        None,
        command,
    )
    .await
}

/// Clears the global threshold: only tenants with their own are watched.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/ai-spend-thresholds/global",
    operation_id = "clear_global_ai_spend_threshold",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cleared (clearing none changes nothing); every threshold in force", body = AiSpendThresholds),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin clears the global AI spend threshold", skip_all, fields(by = %admin.id))]
pub(super) async fn clear_global(
    State(state): State<UsageState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
) -> Result<Json<AiSpendThresholds>, ApiError> {
    let command = AiSpendCommand::Clear {
        tenant_id: None,
        admin_id: admin.id,
    };
    run(
        &state,
        &admin,
        request,
        GLOBAL_AI_SPEND_SCOPE,
        None,
        command,
    )
    .await
}

/// Sets a tenant's own monthly AI spend threshold, which overrides the global one.
#[utoipa::path(
    put,
    path = "/api/v1/admin/tenants/{id}/ai-spend-threshold",
    operation_id = "set_tenant_ai_spend_threshold",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    request_body = AiSpendThresholdInput,
    responses(
        (status = 200, description = "Set (the same amount again changes nothing); every threshold in force", body = AiSpendThresholds),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 422, description = "A negative or too large amount (`invalid_threshold`), or a body of another shape", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin sets a tenant's AI spend threshold", skip_all,
    fields(by = %admin.id, tenant = %id))]
pub(super) async fn set_tenant(
    State(state): State<UsageState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<AiSpendThresholdInput>,
) -> Result<Json<AiSpendThresholds>, ApiError> {
    registered(&state, id).await?;
    let command = AiSpendCommand::Set {
        tenant_id: Some(id),
        monthly_usd_cents: body.monthly_usd_cents,
        admin_id: admin.id,
    };
    run(&state, &admin, request, &id.to_string(), Some(id), command).await
}

/// Clears a tenant's own threshold: the global one watches it again.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/tenants/{id}/ai-spend-threshold",
    operation_id = "clear_tenant_ai_spend_threshold",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    responses(
        (status = 200, description = "Cleared (clearing none changes nothing); every threshold in force", body = AiSpendThresholds),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin clears a tenant's AI spend threshold", skip_all,
    fields(by = %admin.id, tenant = %id))]
pub(super) async fn clear_tenant(
    State(state): State<UsageState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<Json<AiSpendThresholds>, ApiError> {
    registered(&state, id).await?;
    let command = AiSpendCommand::Clear {
        tenant_id: Some(id),
        admin_id: admin.id,
    };
    run(&state, &admin, request, &id.to_string(), Some(id), command).await
}
