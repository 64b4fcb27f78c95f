//! `GET /api/v1/admin/usage`: every tenant's usage in its billing period containing a day
//! (or, for the usage monitor, in one UTC calendar month), top spenders first.

use super::report::{billed, usage_of, TenantUsage};
use super::UsageState;
use crate::error::ApiError;
use crate::metrics::dates::{parse_day, today};
use crate::openapi::{responses as r, tags};
use crate::request::page_size;
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashMap;
use uuid::Uuid;

/// Which periods, and paging.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminUsageQuery {
    /// A day, `YYYY-MM-DD` (default: today, UTC): each tenant is reported for its own
    /// billing period containing it.
    pub period: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
    /// `calendar` reports every tenant for the UTC calendar month containing the day
    /// instead of its billing period: the months the AI spend thresholds watch.
    #[param(inline)]
    pub basis: Option<UsageBasis>,
}

/// Which period each tenant is reported for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageBasis {
    /// Its own billing period (the default).
    #[default]
    Billing,
    /// The UTC calendar month.
    Calendar,
}

/// One tenant's usage, as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AdminTenantUsage {
    /// The usage.
    #[serde(flatten)]
    pub usage: TenantUsage,
    /// The tenant's name, as the directory has it.
    pub tenant_name: Option<String>,
    /// The monthly AI spend threshold that watches it (its own, else the global one), in
    /// US cents; null when none does.
    pub ai_spend_threshold_usd_cents: Option<i64>,
}

/// A page of tenants' usage, by estimated cost (highest first), then tenant id.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminUsagePage {
    /// The day whose periods are reported.
    pub period: NaiveDate,
    /// The tenants.
    pub items: Vec<AdminTenantUsage>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Where a page ends: the last row's cost and tenant.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cursor {
    cost: f64,
    tenant: Uuid,
}

impl Cursor {
    fn encode(&self) -> String {
        // `f64`'s Display is the shortest text that parses back to the same value.
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.cost, self.tenant))
    }

    fn decode(s: &str) -> Option<Self> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
        let (cost, tenant) = text.split_once('|')?;
        Some(Self {
            cost: cost.parse().ok().filter(|c: &f64| c.is_finite())?,
            tenant: Uuid::parse_str(tenant).ok()?,
        })
    }

    fn of(u: &TenantUsage) -> Self {
        Self {
            cost: u.estimated_cost_usd,
            tenant: u.tenant_id,
        }
    }
}

/// Highest cost first, then tenant id.
fn order(a: &Cursor, b: &Cursor) -> Ordering {
    b.cost.total_cmp(&a.cost).then(a.tenant.cmp(&b.tenant))
}

/// Every tenant's usage in its billing period containing a day, top spenders first.
#[utoipa::path(
    get,
    operation_id = "admin_usage",
    path = "/api/v1/admin/usage",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(AdminUsageQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "A page of tenants' usage, top spenders first", body = AdminUsagePage),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed period (`invalid_date`) or cursor (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing every tenant's usage for an admin", skip_all)]
pub(crate) async fn usage(
    State(state): State<UsageState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<AdminUsageQuery>,
) -> Result<Json<AdminUsagePage>, ApiError> {
    let date = parse_day("period", query.period.as_deref())?.unwrap_or_else(today);
    let after = query
        .cursor
        .as_deref()
        .map(|c| {
            Cursor::decode(c).ok_or_else(|| ApiError::Unprocessable {
                code: "invalid_cursor",
                message: "cursor is not a next_cursor this API returned".into(),
                details: None,
            })
        })
        .transpose()?;
    let limit = usize::try_from(page_size(query.limit)).unwrap_or(50);
    let mut tenants = billed(&state.pool, None, date)
        .await
        .map_err(ApiError::internal)?;
    if query.basis.unwrap_or_default() == UsageBasis::Calendar {
        for t in &mut tenants {
            t.period = super::BillingPeriod::containing(None, date);
        }
    }
    // Costs come from the price table in force, so the ranking is computed here; the
    // number of tenants keeps this small.
    let mut items = usage_of(&state.pool, &state.pricing, &tenants)
        .await
        .map_err(ApiError::internal)?;
    items.sort_by(|a, b| order(&Cursor::of(a), &Cursor::of(b)));
    if let Some(after) = after {
        items.retain(|u| order(&Cursor::of(u), &after) == Ordering::Greater);
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = more
        .then(|| items.last().map(|u| Cursor::of(u).encode()))
        .flatten();
    let ids: Vec<Uuid> = items.iter().map(|u| u.tenant_id).collect();
    let names: HashMap<Uuid, String> =
        sqlx::query_as("SELECT tenant_id, name FROM tenant_directory WHERE tenant_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&state.pool)
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .collect::<Vec<(Uuid, String)>>()
            .into_iter()
            .collect();
    let thresholds = super::spend::thresholds(&state.pool).await?;
    let global = thresholds.global.as_ref().map(|g| g.monthly_usd_cents);
    let own: HashMap<Uuid, i64> = thresholds
        .tenants
        .iter()
        .filter_map(|t| t.tenant_id.map(|id| (id, t.monthly_usd_cents)))
        .collect();
    let items = items
        .into_iter()
        .map(|usage| AdminTenantUsage {
            tenant_name: names.get(&usage.tenant_id).cloned(),
            ai_spend_threshold_usd_cents: own.get(&usage.tenant_id).copied().or(global),
            usage,
        })
        .collect();
    Ok(Json(AdminUsagePage {
        period: date,
        items,
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_the_same_cost_and_tenant() {
        let c = Cursor {
            cost: 0.000_123_456_789,
            tenant: Uuid::from_u128(42),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("not a cursor"), None);
    }
}
