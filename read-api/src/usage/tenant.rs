//! `GET /api/v1/usage`: the caller's tenant's usage in one billing period.

use super::period::BillingPeriod;
use super::report::{billed, usage_of, Billed, TenantUsage};
use super::UsageState;
use crate::error::ApiError;
use crate::metrics::dates::{parse_day, today};
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireTenantUser;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

/// Which billing period.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// A day of the period, `YYYY-MM-DD`, usually its first (default: today, UTC): the
    /// period containing it is reported.
    pub period: Option<String>,
}

/// The caller's tenant's usage, estimated cost and quota in one billing period.
#[utoipa::path(
    get,
    operation_id = "tenant_usage",
    path = "/api/v1/usage",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(UsageQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "The tenant's usage in the billing period, with its estimated cost and quota", body = TenantUsage),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed period (`invalid_date`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "reading a tenant's usage", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn usage(
    State(state): State<UsageState>,
    user: RequireTenantUser,
    ApiQuery(query): ApiQuery<UsageQuery>,
) -> Result<Json<TenantUsage>, ApiError> {
    let date = parse_day("period", query.period.as_deref())?.unwrap_or_else(today);
    let mut tenants = billed(&state.pool, Some(user.tenant_id), date)
        .await
        .map_err(ApiError::internal)?;
    if tenants.is_empty() {
        // Nothing recorded yet: an empty calendar-month period.
        tenants.push(Billed {
            tenant_id: user.tenant_id,
            plan: None,
            plan_since: None,
            period: BillingPeriod::containing(None, date),
        });
    }
    usage_of(&state.pool, &state.pricing, &tenants)
        .await
        .map_err(ApiError::internal)?
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::internal(sqlx::Error::RowNotFound))
}
