//! Tenants and subscriptions by status.

use super::ReportsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use serde::Serialize;

/// How many are in one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StatusCount {
    /// The status.
    pub status: String,
    /// How many.
    pub count: i64,
}

/// Tenants by status (`active`, `suspended`) and subscriptions by status (`trialing`,
/// `active`, `past_due`, `suspended`, `cancelled`), only statuses with at least one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusReport {
    /// Tenants, by their own status.
    pub tenants: Vec<StatusCount>,
    /// Subscriptions, by status.
    pub subscriptions: Vec<StatusCount>,
    /// Of the subscriptions, the complimentary ones (no payment expected), by status.
    pub complimentary_subscriptions: Vec<StatusCount>,
    /// Tenants that never subscribed.
    pub tenants_without_subscription: i64,
}

/// Tenants and subscriptions counted by status.
#[utoipa::path(
    get,
    operation_id = "report_status",
    path = "/api/v1/admin/reports/status",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Tenants and subscriptions by status", body = StatusReport),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "counting tenants and subscriptions by status", skip_all)]
pub(crate) async fn status(
    State(state): State<ReportsState>,
    _admin: RequireAdmin,
) -> Result<Json<StatusReport>, ApiError> {
    let count = |sql: &'static str| {
        let pool = state.pool.clone();
        async move {
            sqlx::query_as::<_, StatusCount>(sql)
                .fetch_all(&pool)
                .await
                .map_err(ApiError::internal)
        }
    };
    let tenants = count(
        "SELECT status, count(*) AS count FROM report_tenants GROUP BY status ORDER BY status",
    )
    .await?;
    let subscriptions = count(
        "SELECT status, count(*) AS count FROM report_subscriptions
          GROUP BY status ORDER BY status",
    )
    .await?;
    let complimentary_subscriptions = count(
        "SELECT status, count(*) AS count FROM report_subscriptions WHERE complimentary
          GROUP BY status ORDER BY status",
    )
    .await?;
    let tenants_without_subscription: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM report_tenants t
          WHERE NOT EXISTS (SELECT 1 FROM report_subscriptions s WHERE s.tenant_id = t.tenant_id)",
    )
    .fetch_one(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(StatusReport {
        tenants,
        subscriptions,
        complimentary_subscriptions,
        tenants_without_subscription,
    }))
}
