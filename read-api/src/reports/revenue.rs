//! Payments received per month.

use super::ReportsState;
use crate::error::ApiError;
use crate::metrics::dates::{parse_day, today};
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most months one request may cover.
const MAX_MONTHS: u32 = 120;

/// The months, both ends included.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevenueQuery {
    /// A day of the first month, `YYYY-MM-DD` (default: 11 months before `to`).
    pub from: Option<String>,
    /// A day of the last month, `YYYY-MM-DD` (default: today, UTC). At most 120 months.
    pub to: Option<String>,
}

/// One month's payments in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MonthRevenue {
    /// The month's first day.
    pub month: NaiveDate,
    /// ISO 4217 code, lower case.
    pub currency: String,
    /// Net revenue: the sum of `PaymentSucceeded.amount_cents` paid that month (UTC) less
    /// the refunds recorded that month (`PaymentRefunded`), whichever month they return.
    pub amount_cents: i64,
    /// How many payments.
    pub payments: i64,
    /// The refunds recorded that month, already taken off `amount_cents`.
    pub refunded_cents: i64,
    /// How many refunds.
    pub refunds: i64,
}

/// Revenue per month and currency (months without payments are left out), and totals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RevenueReport {
    /// The first month.
    pub from: NaiveDate,
    /// The last month.
    pub to: NaiveDate,
    /// Oldest month first, then currency.
    pub months: Vec<MonthRevenue>,
    /// The whole range, per currency, net of refunds.
    pub total_cents: BTreeMap<String, i64>,
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// Payments received per month and currency.
#[utoipa::path(
    get,
    operation_id = "report_revenue",
    path = "/api/v1/admin/reports/revenue",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(RevenueQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "Payments per month and currency", body = RevenueReport),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed date (`invalid_date`), `from` after `to` (`invalid_range`) or more than 120 months (`range_too_long`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "summing revenue per month", skip_all)]
pub(crate) async fn revenue(
    State(state): State<ReportsState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<RevenueQuery>,
) -> Result<Json<RevenueReport>, ApiError> {
    let to = first_of_month(parse_day("to", query.to.as_deref())?.unwrap_or_else(today));
    let from = match parse_day("from", query.from.as_deref())? {
        Some(d) => first_of_month(d),
        None => to.checked_sub_months(Months::new(11)).unwrap_or(to),
    };
    if from > to {
        return Err(ApiError::Unprocessable {
            code: "invalid_range",
            message: format!("from ({from}) is after to ({to})"),
            details: None,
        });
    }
    if from
        .checked_add_months(Months::new(MAX_MONTHS))
        .is_some_and(|limit| to >= limit)
    {
        return Err(ApiError::Unprocessable {
            code: "range_too_long",
            message: format!("at most {MAX_MONTHS} months are allowed"),
            details: None,
        });
    }
    let months: Vec<MonthRevenue> = sqlx::query_as(
        "SELECT month, currency, amount_cents, payments, refunded_cents, refunds
           FROM report_revenue
          WHERE month BETWEEN $1 AND $2 ORDER BY month, currency",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let mut total_cents = BTreeMap::new();
    for m in &months {
        *total_cents.entry(m.currency.clone()).or_default() += m.amount_cents;
    }
    Ok(Json(RevenueReport {
        from,
        to,
        months,
        total_cents,
    }))
}
