//! Monthly recurring revenue.

use super::ReportsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::collections::BTreeMap;

/// One plan's contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanMrr {
    /// The plan key.
    pub plan: String,
    /// Active paying subscriptions on it.
    pub subscriptions: i64,
    /// Their monthly revenue in the plan's minor unit; null when the catalogue does not
    /// know the plan.
    pub amount_cents: Option<i64>,
    /// The plan's currency; null when the catalogue does not know the plan.
    pub currency: Option<String>,
}

/// MRR: the catalogue's monthly price of every `active` subscription paid through Stripe
/// (trials, past-due, suspended and cancelled ones are left out). Complimentary
/// subscriptions bring nothing and are counted apart.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MrrReport {
    /// MRR per currency, in its minor unit.
    pub mrr_cents: BTreeMap<String, i64>,
    /// Active paying subscriptions.
    pub paying_subscriptions: i64,
    /// Per plan.
    pub plans: Vec<PlanMrr>,
    /// Active complimentary subscriptions (MRR 0).
    pub complimentary_subscriptions: i64,
    /// Plans of active paying subscriptions that the catalogue does not price.
    pub unpriced_plans: Vec<String>,
}

/// Monthly recurring revenue of active paying subscriptions, per currency and plan.
#[utoipa::path(
    get,
    operation_id = "report_mrr",
    path = "/api/v1/admin/reports/mrr",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Monthly recurring revenue, priced with the plan catalogue in force", body = MrrReport),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "computing the MRR", skip_all)]
pub(super) async fn mrr(
    State(state): State<ReportsState>,
    _admin: RequireAdmin,
) -> Result<Json<MrrReport>, ApiError> {
    Ok(Json(compute(&state).await?))
}

/// The MRR as the report shows it; the overview divides it by paying subscriptions.
pub(super) async fn compute(state: &ReportsState) -> Result<MrrReport, ApiError> {
    let rows: Vec<(String, bool, i64)> = sqlx::query_as(
        "SELECT plan, complimentary, count(*) FROM report_subscriptions
          WHERE status = 'active' GROUP BY plan, complimentary ORDER BY plan",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let mut report = MrrReport {
        mrr_cents: BTreeMap::new(),
        paying_subscriptions: 0,
        plans: Vec::new(),
        complimentary_subscriptions: 0,
        unpriced_plans: Vec::new(),
    };
    for (plan, complimentary, subscriptions) in rows {
        if complimentary {
            report.complimentary_subscriptions += subscriptions;
            continue;
        }
        report.paying_subscriptions += subscriptions;
        let spec = state.pricing.plans.get(&plan);
        let amount_cents = spec.map(|s| s.monthly_price_cents.saturating_mul(subscriptions));
        match (spec, amount_cents) {
            (Some(s), Some(amount)) => {
                *report.mrr_cents.entry(s.currency.clone()).or_default() += amount;
            }
            _ => report.unpriced_plans.push(plan.clone()),
        }
        report.plans.push(PlanMrr {
            currency: spec.map(|s| s.currency.clone()),
            plan,
            subscriptions,
            amount_cents,
        });
    }
    Ok(report)
}
