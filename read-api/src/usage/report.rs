//! A tenant's usage over its billing period, priced with the price table in force now; its
//! quota is the one it bought: its plan's revision in force when its subscription moved onto
//! the plan (the catalogue in force when that is unknown), as the AI responder and the quota
//! alert judge it.

use super::period::BillingPeriod;
use chrono::{DateTime, NaiveDate, Utc};
use projections::plans::PlanHistory;
use schemas::plans::Pricing;
use serde::Serialize;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// One model's share of a period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ModelUsage {
    /// The model's name as the AI recorded it.
    pub model: String,
    /// Answers it gave.
    pub ai_replies: i64,
    /// Prompt tokens.
    pub tokens_in: i64,
    /// Completion tokens.
    pub tokens_out: i64,
    /// Estimated cost in USD; null when the price table does not know the model.
    pub estimated_cost_usd: Option<f64>,
}

/// What a tenant consumed in one billing period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TenantUsage {
    /// The tenant.
    pub tenant_id: Uuid,
    /// Its current plan (the subscription's, else the one it registered with).
    pub plan: Option<String>,
    /// The billing period.
    pub period: BillingPeriod,
    /// Customer messages received.
    pub inbound_messages: i64,
    /// AI answers.
    pub ai_replies: i64,
    /// Prompt tokens, all models.
    pub tokens_in: i64,
    /// Completion tokens, all models.
    pub tokens_out: i64,
    /// Estimated cost in USD of the models the price table knows.
    pub estimated_cost_usd: f64,
    /// Models used that the price table does not know (their cost is left out).
    pub unpriced_models: Vec<String>,
    /// AI answers the plan includes per period; null when unlimited or the plan is unknown.
    pub ai_message_quota: Option<i64>,
    /// `ai_replies / ai_message_quota` (above 1 when over quota); null without a quota.
    pub quota_used: Option<f64>,
    /// Per model, by name.
    pub models: Vec<ModelUsage>,
}

/// A tenant and the period to report.
#[derive(Debug, Clone)]
pub(crate) struct Billed {
    pub tenant_id: Uuid,
    pub plan: Option<String>,
    /// When the subscription moved onto `plan`; none without a subscription.
    pub plan_since: Option<DateTime<Utc>>,
    pub period: BillingPeriod,
}

/// The tenants the usage projection knows (only `tenant` when given), each with its period
/// containing `date`.
pub(crate) async fn billed(
    pool: &PgPool,
    tenant: Option<Uuid>,
    date: NaiveDate,
) -> Result<Vec<Billed>, sqlx::Error> {
    type Row = (
        Uuid,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT tenant_id, COALESCE(subscription_plan, registered_plan), billing_anchor,
                CASE WHEN subscription_plan IS NOT NULL THEN plan_since END
           FROM usage_tenants WHERE ($1::uuid IS NULL OR tenant_id = $1)",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(tenant_id, plan, anchor, plan_since)| Billed {
            tenant_id,
            plan,
            plan_since,
            period: BillingPeriod::containing(anchor.map(|a| a.date_naive()), date),
        })
        .collect())
}

/// The usage of each of `billed` in its period.
pub(crate) async fn usage_of(
    pool: &PgPool,
    pricing: &Pricing,
    billed: &[Billed],
) -> Result<Vec<TenantUsage>, sqlx::Error> {
    let ids: Vec<Uuid> = billed.iter().map(|b| b.tenant_id).collect();
    let starts: Vec<NaiveDate> = billed.iter().map(|b| b.period.start).collect();
    let ends: Vec<NaiveDate> = billed.iter().map(|b| b.period.end).collect();
    const PERIODS: &str =
        "unnest($1::uuid[], $2::date[], $3::date[]) AS p(tenant_id, start_day, end_day)";
    let inbound: Vec<(Uuid, i64)> = sqlx::query_as(&format!(
        "SELECT p.tenant_id, SUM(u.inbound_messages)::int8 FROM {PERIODS}
           JOIN usage_daily u ON u.tenant_id = p.tenant_id
                             AND u.day >= p.start_day AND u.day < p.end_day
          GROUP BY p.tenant_id"
    ))
    .bind(&ids)
    .bind(&starts)
    .bind(&ends)
    .fetch_all(pool)
    .await?;
    let models: Vec<(Uuid, String, i64, i64, i64)> = sqlx::query_as(&format!(
        "SELECT p.tenant_id, u.model, SUM(u.ai_replies)::int8, SUM(u.tokens_in)::int8,
                SUM(u.tokens_out)::int8
           FROM {PERIODS}
           JOIN usage_model_daily u ON u.tenant_id = p.tenant_id
                                   AND u.day >= p.start_day AND u.day < p.end_day
          GROUP BY p.tenant_id, u.model
          ORDER BY p.tenant_id, u.model"
    ))
    .bind(&ids)
    .bind(&starts)
    .bind(&ends)
    .fetch_all(pool)
    .await?;
    let plans = PlanHistory::load(pool, &pricing.plans).await?;
    let inbound: HashMap<Uuid, i64> = inbound.into_iter().collect();
    let mut per_tenant: HashMap<Uuid, Vec<ModelUsage>> = HashMap::new();
    for (tenant, model, ai_replies, tokens_in, tokens_out) in models {
        let estimated_cost_usd = pricing
            .models
            .get(&model)
            .map(|p| p.cost_usd(tokens_in, tokens_out));
        per_tenant.entry(tenant).or_default().push(ModelUsage {
            model,
            ai_replies,
            tokens_in,
            tokens_out,
            estimated_cost_usd,
        });
    }
    Ok(billed
        .iter()
        .map(|b| {
            let models = per_tenant.remove(&b.tenant_id).unwrap_or_default();
            summarize(&plans, b, inbound.get(&b.tenant_id).copied(), models)
        })
        .collect())
}

fn summarize(
    plans: &PlanHistory,
    b: &Billed,
    inbound: Option<i64>,
    models: Vec<ModelUsage>,
) -> TenantUsage {
    let ai_replies = models.iter().map(|m| m.ai_replies).sum();
    let ai_message_quota = b
        .plan
        .as_deref()
        .and_then(|p| plans.quota_bought(p, b.plan_since));
    TenantUsage {
        tenant_id: b.tenant_id,
        plan: b.plan.clone(),
        period: b.period,
        inbound_messages: inbound.unwrap_or(0),
        ai_replies,
        tokens_in: models.iter().map(|m| m.tokens_in).sum(),
        tokens_out: models.iter().map(|m| m.tokens_out).sum(),
        estimated_cost_usd: models.iter().filter_map(|m| m.estimated_cost_usd).sum(),
        unpriced_models: models
            .iter()
            .filter(|m| m.estimated_cost_usd.is_none())
            .map(|m| m.model.clone())
            .collect(),
        ai_message_quota,
        // Counts stay far below 2^53: the conversions are exact.
        quota_used: ai_message_quota
            .filter(|q| *q > 0)
            .map(|q| ai_replies as f64 / q as f64),
        models,
    }
}

/// A tenant's usage in its last `periods` billing periods, the current one first; none from
/// before its billing began (calendar months while nothing anchors them).
pub(crate) async fn history(
    pool: &PgPool,
    pricing: &Pricing,
    tenant: Uuid,
    today: NaiveDate,
    periods: usize,
) -> Result<Vec<TenantUsage>, sqlx::Error> {
    type Row = (Option<String>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT COALESCE(subscription_plan, registered_plan), billing_anchor,
                CASE WHEN subscription_plan IS NOT NULL THEN plan_since END
           FROM usage_tenants WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(pool)
    .await?;
    let (plan, anchor, plan_since) = row.unwrap_or((None, None, None));
    let anchor = anchor.map(|a| a.date_naive());
    let mut out = Vec::with_capacity(periods);
    let mut date = today;
    for _ in 0..periods {
        let b = Billed {
            tenant_id: tenant,
            plan: plan.clone(),
            plan_since,
            period: BillingPeriod::containing(anchor, date),
        };
        // One period per call: `usage_of` sums per tenant.
        out.extend(usage_of(pool, pricing, std::slice::from_ref(&b)).await?);
        match b.period.start.pred_opt() {
            Some(before) if anchor.is_none_or(|a| before >= a) => date = before,
            _ => break,
        }
    }
    Ok(out)
}
