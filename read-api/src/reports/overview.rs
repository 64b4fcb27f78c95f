//! The numbers of the admin overview that no other report has: trial→paid conversion, the
//! average revenue per paying subscription ("ticket médio") and a month's AI cost next to
//! its revenue.

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
use std::collections::{BTreeMap, BTreeSet};

/// Which month.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// A day of the calendar month (UTC) whose AI cost and revenue are reported,
    /// `YYYY-MM-DD` (default: today).
    pub month: Option<String>,
}

/// Subscriptions that began with a trial, and how many of them paid.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrialConversion {
    /// Subscriptions that began with a trial.
    pub trials: i64,
    /// Of them, those never paid that are neither cancelled, past due nor suspended: still
    /// in their trial (a trial's zero invoice makes Stripe call it active), so left out of
    /// the rate.
    pub running: i64,
    /// Of them, those paid at least once (a payment above zero), whatever they are now.
    pub converted: i64,
    /// `converted / (trials - running)`; null when no trial is decided yet.
    pub rate: Option<f64>,
}

/// The average monthly revenue of a paying subscription in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AverageRevenue {
    /// ISO 4217 code, lower case.
    pub currency: String,
    /// The MRR in that currency, in its minor unit.
    pub mrr_cents: i64,
    /// Active paying subscriptions on plans priced in that currency.
    pub paying_subscriptions: i64,
    /// `mrr_cents / paying_subscriptions`, rounded half up to a whole minor unit.
    pub average_cents: i64,
}

/// One calendar month's AI cost and revenue.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthCost {
    /// The month's first day.
    pub month: NaiveDate,
    /// AI answers given in the month (UTC days), all tenants.
    pub ai_replies: i64,
    /// Their estimated cost in USD, priced with the price table in force now.
    pub ai_cost_usd: f64,
    /// Models used that the price table does not know (their cost is left out).
    pub unpriced_models: Vec<String>,
    /// Payments received in the month less the refunds recorded in it, per currency, in
    /// its minor unit.
    pub revenue_cents: BTreeMap<String, i64>,
}

/// The overview's own numbers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverviewReport {
    /// Trial→paid conversion, over every subscription ever started.
    pub conversion: TrialConversion,
    /// "Ticket médio": MRR per active paying subscription, per currency.
    pub average_revenue: Vec<AverageRevenue>,
    /// The month's AI cost against its revenue.
    pub month: MonthCost,
}

/// Half-up division of non-negative amounts.
fn average(total: i64, n: i64) -> i64 {
    if n <= 0 {
        return 0;
    }
    (total + n / 2) / n
}

/// Trial→paid conversion, the average revenue per paying subscription and a month's AI
/// cost against its revenue.
#[utoipa::path(
    get,
    operation_id = "report_overview",
    path = "/api/v1/admin/reports/overview",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(OverviewQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "Conversion, average revenue and the month's AI cost against revenue", body = OverviewReport),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed month (`invalid_date`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "computing the admin overview", skip_all)]
pub(crate) async fn overview(
    State(state): State<ReportsState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<OverviewQuery>,
) -> Result<Json<OverviewReport>, ApiError> {
    let day = parse_day("month", query.month.as_deref())?.unwrap_or_else(today);
    let first = day.with_day(1).unwrap_or(day);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);

    let (trials, running, converted): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*),
                count(*) FILTER (WHERE first_paid_at IS NULL
                                   AND status IN ('trialing', 'active')),
                count(*) FILTER (WHERE first_paid_at IS NOT NULL)
           FROM report_subscriptions WHERE trialed",
    )
    .fetch_one(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let decided = trials - running;
    // Counts stay far below 2^53: the conversions are exact.
    let rate = (decided > 0).then(|| converted as f64 / decided as f64);

    let mrr = super::mrr::compute(&state).await?;
    let mut paying: BTreeMap<String, i64> = BTreeMap::new();
    for plan in &mrr.plans {
        if let (Some(currency), Some(_)) = (&plan.currency, plan.amount_cents) {
            *paying.entry(currency.clone()).or_default() += plan.subscriptions;
        }
    }
    let average_revenue = mrr
        .mrr_cents
        .iter()
        .map(|(currency, &mrr_cents)| {
            let n = paying.get(currency).copied().unwrap_or(0);
            AverageRevenue {
                currency: currency.clone(),
                mrr_cents,
                paying_subscriptions: n,
                average_cents: average(mrr_cents, n),
            }
        })
        .collect();

    let models: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT model, SUM(ai_replies)::int8, SUM(tokens_in)::int8, SUM(tokens_out)::int8
           FROM usage_model_daily WHERE day >= $1 AND day < $2
          GROUP BY model ORDER BY model",
    )
    .bind(first)
    .bind(next)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let mut ai_cost_usd = 0.0;
    let mut ai_replies = 0;
    let mut unpriced = BTreeSet::new();
    for (model, replies, tokens_in, tokens_out) in models {
        ai_replies += replies;
        match state.pricing.models.get(&model) {
            Some(price) => ai_cost_usd += price.cost_usd(tokens_in, tokens_out),
            None => {
                unpriced.insert(model);
            }
        }
    }
    let revenue: Vec<(String, i64)> = sqlx::query_as(
        "SELECT currency, amount_cents FROM report_revenue WHERE month = $1 ORDER BY currency",
    )
    .bind(first)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;

    Ok(Json(OverviewReport {
        conversion: TrialConversion {
            trials,
            running,
            converted,
            rate,
        },
        average_revenue,
        month: MonthCost {
            month: first,
            ai_replies,
            ai_cost_usd,
            unpriced_models: unpriced.into_iter().collect(),
            revenue_cents: revenue.into_iter().collect(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::average;

    #[test]
    fn an_average_rounds_half_up_and_none_is_zero() {
        assert_eq!(average(301, 2), 151);
        assert_eq!(average(300, 2), 150);
        assert_eq!(average(299, 3), 100);
        assert_eq!(average(0, 0), 0);
    }
}
