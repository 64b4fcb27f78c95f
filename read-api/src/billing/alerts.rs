//! `GET /api/v1/admin/quota-alerts`: the admins' notification of tenants that reached 80%
//! of their plan's AI answers in a billing period (F24), newest first.

use super::BillingState;
use super::{cursor, invalid_cursor};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::page_size;
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Filters and paging.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuotaAlertQuery {
    /// One tenant.
    pub tenant: Option<Uuid>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// One alert: a tenant and billing period.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct QuotaAlert {
    /// The tenant.
    pub tenant_id: Uuid,
    /// Its name.
    pub tenant_name: Option<String>,
    /// The period's first day.
    pub period_start: NaiveDate,
    /// The next period's first day.
    pub period_end: NaiveDate,
    /// The plan key.
    pub plan: String,
    /// The plan's monthly quota.
    pub quota: i64,
    /// AI answers when the alert was raised.
    pub ai_replies: i64,
    /// Owners e-mailed.
    pub owners_mailed: i32,
    /// The answer that reached the threshold.
    pub at: DateTime<Utc>,
}

/// A page of alerts, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaAlertPage {
    /// The alerts.
    pub items: Vec<QuotaAlert>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Lists quota alerts, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/quota-alerts",
    operation_id = "admin_list_quota_alerts",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(QuotaAlertQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "A page of quota alerts, newest first", body = QuotaAlertPage),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed cursor (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing quota alerts for an admin", skip_all)]
pub(super) async fn list(
    State(state): State<BillingState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<QuotaAlertQuery>,
) -> Result<Json<QuotaAlertPage>, ApiError> {
    let after = query
        .cursor
        .as_deref()
        .map(|c| {
            cursor::decode(c)
                .and_then(|(at, key)| {
                    let (tenant, start) = key.split_once('/')?;
                    Some((
                        at,
                        Uuid::parse_str(tenant).ok()?,
                        start.parse::<NaiveDate>().ok()?,
                    ))
                })
                .ok_or_else(invalid_cursor)
        })
        .transpose()?;
    let limit = page_size(query.limit);
    let mut items: Vec<QuotaAlert> = sqlx::query_as(
        "SELECT tenant_id, tenant_name, period_start, period_end, plan, quota, ai_replies,
                owners_mailed, at
           FROM quota_alerts
          WHERE ($1::uuid IS NULL OR tenant_id = $1)
            AND ($2::timestamptz IS NULL OR (at, tenant_id, period_start) < ($2, $3, $4))
          ORDER BY at DESC, tenant_id DESC, period_start DESC LIMIT $5",
    )
    .bind(query.tenant)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(after.map(|a| a.2))
    .bind(limit + 1)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = more
        .then(|| {
            items
                .last()
                .map(|a| cursor::encode(a.at, &format!("{}/{}", a.tenant_id, a.period_start)))
        })
        .flatten();
    Ok(Json(QuotaAlertPage { items, next_cursor }))
}
