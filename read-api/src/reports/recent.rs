//! The latest registered tenants.

use super::ReportsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Paging.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentTenantsQuery {
    /// How many, 1..=100 (10 by default).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A tenant, as the reports see it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RecentTenant {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The business's name.
    pub name: String,
    /// Its plan now (its subscription's, else the one it registered with).
    pub plan: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Its subscription's status; null when it never subscribed.
    pub subscription_status: Option<String>,
    /// Whether that subscription is complimentary.
    pub complimentary: Option<bool>,
    /// When it registered.
    pub registered_at: DateTime<Utc>,
}

/// Newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecentTenantsPage {
    /// The tenants.
    pub items: Vec<RecentTenant>,
    /// Pass as `cursor` for older ones; absent on the last page.
    pub next_cursor: Option<String>,
}

fn encode(t: &RecentTenant) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        t.registered_at.timestamp_micros(),
        t.tenant_id
    ))
}

fn decode(s: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    let (micros, tenant) = text.split_once('|')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        Uuid::parse_str(tenant).ok()?,
    ))
}

/// The latest registered tenants, newest first.
#[utoipa::path(
    get,
    operation_id = "report_recent_tenants",
    path = "/api/v1/admin/reports/recent-tenants",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(RecentTenantsQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "The latest registered tenants, newest first", body = RecentTenantsPage),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed cursor (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing recent tenants", skip_all)]
pub(super) async fn recent(
    State(state): State<ReportsState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<RecentTenantsQuery>,
) -> Result<Json<RecentTenantsPage>, ApiError> {
    let limit = i64::from(query.limit.unwrap_or(10).clamp(1, 100));
    let after = query
        .cursor
        .as_deref()
        .map(|c| {
            decode(c).ok_or_else(|| ApiError::Unprocessable {
                code: "invalid_cursor",
                message: "cursor is not a next_cursor this API returned".into(),
                details: None,
            })
        })
        .transpose()?;
    let mut items: Vec<RecentTenant> = sqlx::query_as(
        "SELECT t.tenant_id, t.name, COALESCE(s.plan, t.plan) AS plan, t.status,
                s.status AS subscription_status, s.complimentary, t.registered_at
           FROM report_tenants t
           LEFT JOIN report_subscriptions s ON s.tenant_id = t.tenant_id
          WHERE ($1::timestamptz IS NULL OR (t.registered_at, t.tenant_id) < ($1, $2))
          ORDER BY t.registered_at DESC, t.tenant_id DESC
          LIMIT $3",
    )
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    // One more than asked tells whether another page follows.
    .bind(limit + 1)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more.then(|| items.last().map(encode)).flatten();
    Ok(Json(RecentTenantsPage { items, next_cursor }))
}
