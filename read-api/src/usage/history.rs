//! `GET /api/v1/admin/tenants/{id}/usage-history` (issue 18, the usage monitor): a tenant's
//! AI answers, tokens and estimated cost per UTC month and per day of one month, read from
//! the `tenant_usage` projection's daily counts and priced with the price table in force,
//! with the AI spend threshold that watches it.

use super::spend::thresholds;
use super::UsageState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiQuery, RequireAdmin};
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use schemas::plans::Pricing;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Which month's days, and how many months.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageHistoryQuery {
    /// The month whose days are listed, `YYYY-MM` (default: this UTC month).
    pub month: Option<String>,
    /// How many months to list, ending with that one, 1..=24 (12 by default); none from
    /// before the tenant registered.
    pub months: Option<u32>,
}

/// What a tenant's AI did in a month or a day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsagePoint {
    /// The month's first day, or the day.
    pub date: NaiveDate,
    /// AI answers.
    pub ai_replies: i64,
    /// Prompt tokens.
    pub tokens_in: i64,
    /// Completion tokens.
    pub tokens_out: i64,
    /// Estimated cost in USD of the models the price table knows.
    pub estimated_cost_usd: f64,
}

/// Which threshold watches the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdSource {
    /// Its own.
    Tenant,
    /// The global one.
    Global,
}

/// A tenant's AI usage over time.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsageHistory {
    /// The tenant.
    pub tenant_id: Uuid,
    /// Its name.
    pub tenant_name: String,
    /// The month whose days are listed (its first day).
    pub month: NaiveDate,
    /// The months, oldest first, each `date` its first day; months without answers are 0.
    /// None from before the month the tenant registered.
    pub months: Vec<UsagePoint>,
    /// Every day of `month` up to today (all of a past month), oldest first.
    pub days: Vec<UsagePoint>,
    /// The monthly AI spend threshold that watches it, in US cents; null when none does.
    pub threshold_usd_cents: Option<i64>,
    /// Whether that threshold is its own or the global one.
    pub threshold_source: Option<ThresholdSource>,
}

fn parse_month(value: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| v.len() == 7)
        .map(Some)
        .ok_or_else(|| ApiError::Unprocessable {
            code: "invalid_month",
            message: format!("month must be a month as YYYY-MM, not {v:?}"),
            details: Some(json!({ "field": "month" })),
        })
}

/// Sums and prices `rows` (date, model, answers, tokens in, tokens out) per date.
fn priced(
    pricing: &Pricing,
    rows: Vec<(NaiveDate, String, i64, i64, i64)>,
) -> BTreeMap<NaiveDate, UsagePoint> {
    let mut out: BTreeMap<NaiveDate, UsagePoint> = BTreeMap::new();
    for (date, model, replies, tin, tout) in rows {
        let p = out.entry(date).or_insert(UsagePoint {
            date,
            ai_replies: 0,
            tokens_in: 0,
            tokens_out: 0,
            estimated_cost_usd: 0.0,
        });
        p.ai_replies += replies;
        p.tokens_in += tin;
        p.tokens_out += tout;
        p.estimated_cost_usd += pricing
            .models
            .get(&model)
            .map_or(0.0, |price| price.cost_usd(tin, tout));
    }
    out
}

fn filled(
    dates: impl Iterator<Item = NaiveDate>,
    mut known: BTreeMap<NaiveDate, UsagePoint>,
) -> Vec<UsagePoint> {
    dates
        .map(|date| {
            known.remove(&date).unwrap_or(UsagePoint {
                date,
                ai_replies: 0,
                tokens_in: 0,
                tokens_out: 0,
                estimated_cost_usd: 0.0,
            })
        })
        .collect()
}

/// A tenant's AI answers, tokens and estimated cost per UTC month and per day of one month.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tenants/{id}/usage-history",
    operation_id = "admin_tenant_usage_history",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant"), UsageHistoryQuery),
    responses(
        (status = 200, description = "The tenant's usage per month and per day", body = UsageHistory),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 422, description = "A malformed month (`invalid_month`) or a count out of range (`invalid_months`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing a tenant's usage history to an admin", skip_all, fields(tenant = %id))]
pub(super) async fn history(
    State(state): State<UsageState>,
    _admin: RequireAdmin,
    Path(id): Path<Uuid>,
    ApiQuery(query): ApiQuery<UsageHistoryQuery>,
) -> Result<Json<UsageHistory>, ApiError> {
    let today = Utc::now().date_naive();
    let this_month = today.with_day(1).unwrap_or(today);
    let month = parse_month(query.month.as_deref())?.unwrap_or(this_month);
    let count = query.months.unwrap_or(12);
    if !(1..=24).contains(&count) {
        return Err(ApiError::Unprocessable {
            code: "invalid_months",
            message: format!("months must be 1 to 24, not {count}"),
            details: Some(json!({ "field": "months" })),
        });
    }
    let row: Option<(String, DateTime<Utc>)> =
        sqlx::query_as("SELECT name, registered_at FROM tenant_directory WHERE tenant_id = $1")
            .bind(id)
            .fetch_optional(&state.pool)
            .await
            .map_err(ApiError::internal)?;
    let (tenant_name, registered_at) = row.ok_or_else(|| ApiError::NotFound {
        code: "tenant_not_found",
        message: "no such tenant".into(),
    })?;
    // No months from before the tenant existed (its registration, or its first answer if
    // the log says earlier), but always the month asked for.
    let first_answer: Option<NaiveDate> =
        sqlx::query_scalar("SELECT min(day) FROM usage_model_daily WHERE tenant_id = $1")
            .bind(id)
            .fetch_one(&state.pool)
            .await
            .map_err(ApiError::internal)?;
    let registered = first_answer.map_or(registered_at.date_naive(), |d| {
        d.min(registered_at.date_naive())
    });
    let registered = registered.with_day(1).unwrap_or(registered);
    let first = month
        .checked_sub_months(Months::new(count - 1))
        .unwrap_or(month)
        .max(registered.min(month));
    let count = u32::try_from(
        (month.year() - first.year()) * 12 + month.month() as i32 - first.month() as i32 + 1,
    )
    .unwrap_or(1);
    let next = month.checked_add_months(Months::new(1)).unwrap_or(month);
    let monthly: Vec<(NaiveDate, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT date_trunc('month', day)::date, model, SUM(ai_replies)::int8,
                SUM(tokens_in)::int8, SUM(tokens_out)::int8
           FROM usage_model_daily
          WHERE tenant_id = $1 AND day >= $2 AND day < $3
          GROUP BY 1, 2",
    )
    .bind(id)
    .bind(first)
    .bind(next)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let daily: Vec<(NaiveDate, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT day, model, ai_replies, tokens_in, tokens_out FROM usage_model_daily
          WHERE tenant_id = $1 AND day >= $2 AND day < $3",
    )
    .bind(id)
    .bind(month)
    .bind(next)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let months = filled(
        (0..count).filter_map(|i| first.checked_add_months(Months::new(i))),
        priced(&state.pricing, monthly),
    );
    let last_day = next.pred_opt().unwrap_or(month).min(today.max(month));
    let days = filled(
        month.iter_days().take_while(|d| *d <= last_day),
        priced(&state.pricing, daily),
    );
    let all = thresholds(&state.pool).await?;
    let (threshold_usd_cents, threshold_source) =
        match all.tenants.iter().find(|t| t.tenant_id == Some(id)) {
            Some(own) => (Some(own.monthly_usd_cents), Some(ThresholdSource::Tenant)),
            None => match all.global {
                Some(g) => (Some(g.monthly_usd_cents), Some(ThresholdSource::Global)),
                None => (None, None),
            },
        };
    Ok(Json(UsageHistory {
        tenant_id: id,
        tenant_name,
        month,
        months,
        days,
        threshold_usd_cents,
        threshold_source,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_reads_as_yyyy_mm_and_nothing_else() {
        assert_eq!(
            parse_month(Some("2026-02")).ok().flatten(),
            NaiveDate::from_ymd_opt(2026, 2, 1)
        );
        assert!(parse_month(Some("2026-13")).is_err());
        assert!(parse_month(Some("2026-02-03")).is_err());
        assert!(parse_month(Some("2026-2")).is_err());
        assert_eq!(parse_month(None).ok().flatten(), None);
    }
}
