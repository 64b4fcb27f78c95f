//! `GET /api/v1/plans`: the plans on sale (public): the configured catalogue with what
//! admins set, minus the retired plans.

use super::BillingState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use axum::extract::State;
use axum::Json;
use serde::Serialize;

/// A plan as the pricing page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Plan {
    /// The key to buy it with (`POST /api/v1/billing/checkout`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Monthly price in the currency's minor unit.
    pub monthly_price_cents: i64,
    /// ISO 4217 code, lower case.
    pub currency: String,
    /// AI answers included per month; `null` means unlimited.
    pub monthly_ai_message_quota: Option<i64>,
    /// Feature keys.
    pub features: Vec<String>,
    /// Whether it can be bought through Stripe Checkout here (it has a Stripe price and
    /// billing is configured).
    pub purchasable: bool,
}

/// Every plan on sale.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanList {
    /// The plans, by key.
    pub items: Vec<Plan>,
}

/// Lists the plans on sale.
#[utoipa::path(
    get,
    path = "/api/v1/plans",
    operation_id = "list_plans",
    tag = tags::SYSTEM,
    responses(
        (status = 200, description = "The plans on sale", body = PlanList),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing the plans on sale", skip_all)]
pub(super) async fn list(State(state): State<BillingState>) -> Result<Json<PlanList>, ApiError> {
    let billing = state.stripe.is_some();
    let plans = crate::plans::in_force(&state.pool, &state.pricing.plans).await?;
    Ok(Json(PlanList {
        items: plans
            .iter()
            .map(|p| Plan {
                id: p.id.clone(),
                name: p.name.clone(),
                monthly_price_cents: p.monthly_price_cents,
                currency: p.currency.clone(),
                monthly_ai_message_quota: p.monthly_ai_message_quota,
                features: p.features.clone(),
                purchasable: billing && p.stripe_price_id.is_some(),
            })
            .collect(),
    }))
}
