//! `GET`/`PUT /api/v1/admin/tenants/{id}/ai-limits` (issue 18): a tenant's own AI usage
//! limits, each replacing the platform's default (`ATENDE_AI_*`) for this tenant.
//!
//! A change is the tenant's `AiLimitsChanged` event, recorded with the admin, the request id
//! and the client's address in its metadata: that event is its trace in the audit log. The
//! AI responder judges the next answer by it, without a restart.

use super::TenantsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{command_metadata, ApiJson, RequestMeta, RequireAdmin};
use aggregates::TenantCommand;
use axum::extract::{Path, State};
use axum::Json;
use schemas::events::AiLimits;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a limit in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AiLimitSource {
    /// An admin set it for this tenant.
    Tenant,
    /// The platform's default (the environment's).
    Default,
}

/// One limit: the value in force, the tenant's own and the default. `0` is unlimited.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AiLimit {
    /// In force now (`0`: unlimited).
    pub effective: f64,
    /// The tenant's own; null when it has the default.
    pub own: Option<f64>,
    /// The platform's default.
    pub default: f64,
    /// Whose value is in force.
    pub source: AiLimitSource,
}

impl AiLimit {
    fn of(own: Option<f64>, default: f64) -> Self {
        Self {
            effective: own.unwrap_or(default),
            own,
            default,
            source: if own.is_some() {
                AiLimitSource::Tenant
            } else {
                AiLimitSource::Default
            },
        }
    }
}

/// A tenant's AI limits as the responder applies them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TenantAiLimits {
    /// The tenant.
    pub tenant_id: Uuid,
    /// Model requests per UTC hour.
    pub requests_per_hour: AiLimit,
    /// Prompt plus completion tokens per UTC day.
    pub tokens_per_day: AiLimit,
    /// Estimated model cost per UTC month, in US dollars.
    pub cost_per_month_usd: AiLimit,
}

impl TenantAiLimits {
    fn of(tenant_id: Uuid, own: AiLimits, defaults: AiLimits) -> Self {
        // Counts up to the 10^10 maximum are exact as f64.
        let count = |n: Option<u64>| n.map(|n| n as f64);
        Self {
            tenant_id,
            requests_per_hour: AiLimit::of(
                count(own.requests_per_hour),
                count(defaults.requests_per_hour).unwrap_or(0.0),
            ),
            tokens_per_day: AiLimit::of(
                count(own.tokens_per_day),
                count(defaults.tokens_per_day).unwrap_or(0.0),
            ),
            cost_per_month_usd: AiLimit::of(
                own.cost_per_month_usd,
                defaults.cost_per_month_usd.unwrap_or(0.0),
            ),
        }
    }
}

/// The tenant's own limits, as a whole: a limit null or absent is back on the default,
/// `0` is unlimited.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantAiLimitsRequest {
    /// Model requests per UTC hour, 0–1,000,000.
    pub requests_per_hour: Option<i64>,
    /// Tokens per UTC day, 0–10,000,000,000.
    pub tokens_per_day: Option<i64>,
    /// Estimated model cost per UTC month in US dollars, 0–1,000,000.
    pub cost_per_month_usd: Option<f64>,
}

async fn limits_of(state: &TenantsState, id: Uuid) -> Result<TenantAiLimits, ApiError> {
    let tenant = super::registered_tenant(&state.bus, id)
        .await
        .map_err(|_| ApiError::NotFound {
            code: "tenant_not_found",
            message: "no such tenant".into(),
        })?;
    Ok(TenantAiLimits::of(id, tenant.ai_limits(), state.ai_limits))
}

/// Each AI limit in force for the tenant, and whether it is the tenant's own or the default.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tenants/{id}/ai-limits",
    operation_id = "show_tenant_ai_limits",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The limits in force", body = TenantAiLimits),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing a tenant's AI limits to an admin", skip_all, fields(tenant = %id))]
pub(super) async fn show(
    State(state): State<TenantsState>,
    _admin: RequireAdmin,
    Path(id): Path<Uuid>,
) -> Result<Json<TenantAiLimits>, ApiError> {
    Ok(Json(limits_of(&state, id).await?))
}

/// Sets the tenant's own AI limits as a whole; the limits in force record nothing.
#[utoipa::path(
    put,
    path = "/api/v1/admin/tenants/{id}/ai-limits",
    operation_id = "set_tenant_ai_limits",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    request_body = TenantAiLimitsRequest,
    responses(
        (status = 200, description = "Set; the limits as they now stand", body = TenantAiLimits),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Conflict,
        (status = 422, description = "A limit below 0, above its maximum or not a number (`invalid_ai_limit`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "setting a tenant's AI limits for an admin", skip_all, fields(tenant = %id, by = %admin.id))]
pub(super) async fn set(
    State(state): State<TenantsState>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<Uuid>,
    request: RequestMeta,
    ApiJson(body): ApiJson<TenantAiLimitsRequest>,
) -> Result<Json<TenantAiLimits>, ApiError> {
    // An unregistered tenant is a 404 before anything is recorded.
    limits_of(&state, id).await?;
    let md = command_metadata(&admin, id, request);
    let command = TenantCommand::SetAiLimits {
        requests_per_hour: body.requests_per_hour,
        tokens_per_day: body.tokens_per_day,
        cost_per_month_usd: body.cost_per_month_usd,
    };
    state
        .bus
        .tenants
        .execute(&id.to_string(), command, &md)
        .await?;
    Ok(Json(limits_of(&state, id).await?))
}
