//! Monthly recurring revenue.

use super::ReportsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// One plan's contribution in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanMrr {
    /// The plan key.
    pub plan: String,
    /// Active paying subscriptions on it.
    pub subscriptions: i64,
    /// Their monthly revenue in the currency's minor unit; null when no spec prices them.
    pub amount_cents: Option<i64>,
    /// The currency of the terms they bought; null when no spec prices them.
    pub currency: Option<String>,
}

/// MRR: the monthly price of every `active` subscription paid through Stripe (trials,
/// past-due, suspended and cancelled ones are left out), each at the terms it bought: its
/// plan's revision in force when it moved onto the plan, the configured spec when no
/// admin revision preceded that. Complimentary subscriptions bring nothing and are counted
/// apart.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MrrReport {
    /// MRR per currency, in its minor unit.
    pub mrr_cents: BTreeMap<String, i64>,
    /// Active paying subscriptions.
    pub paying_subscriptions: i64,
    /// Per plan and currency.
    pub plans: Vec<PlanMrr>,
    /// Active complimentary subscriptions (MRR 0).
    pub complimentary_subscriptions: i64,
    /// Plans of active paying subscriptions that no spec prices.
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
        (status = 200, description = "Monthly recurring revenue, each subscription at the plan revision it bought", body = MrrReport),
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
pub(crate) async fn compute(state: &ReportsState) -> Result<MrrReport, ApiError> {
    let rows: Vec<(String, bool, DateTime<Utc>)> = sqlx::query_as(
        "SELECT plan, complimentary, plan_since FROM report_subscriptions
          WHERE status = 'active' ORDER BY plan",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let history = crate::plans::history(&state.pool, &state.pricing.plans).await?;
    let mut report = MrrReport {
        mrr_cents: BTreeMap::new(),
        paying_subscriptions: 0,
        plans: Vec::new(),
        complimentary_subscriptions: 0,
        unpriced_plans: Vec::new(),
    };
    // Per plan and currency: (subscriptions, amount); `None` for subscriptions no spec
    // prices. A revision may have changed the currency, so one plan can have two rows.
    let mut by_plan: BTreeMap<(String, Option<String>), (i64, i64)> = BTreeMap::new();
    for (plan, complimentary, since) in rows {
        if complimentary {
            report.complimentary_subscriptions += 1;
            continue;
        }
        report.paying_subscriptions += 1;
        // The terms it bought: the plan's revision in force when it moved onto the plan.
        let spec = history.spec_at(&plan, since);
        let entry = by_plan
            .entry((plan, spec.map(|s| s.currency.clone())))
            .or_default();
        entry.0 += 1;
        entry.1 = entry
            .1
            .saturating_add(spec.map_or(0, |s| s.monthly_price_cents));
    }
    for ((plan, currency), (subscriptions, amount)) in by_plan {
        match &currency {
            Some(c) => *report.mrr_cents.entry(c.clone()).or_default() += amount,
            None => report.unpriced_plans.push(plan.clone()),
        }
        report.plans.push(PlanMrr {
            amount_cents: currency.as_ref().map(|_| amount),
            currency,
            plan,
            subscriptions,
        });
    }
    Ok(report)
}
