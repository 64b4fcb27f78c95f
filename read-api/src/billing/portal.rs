//! `POST /api/v1/billing/portal` (tenant owner): a Stripe customer-portal session.

use super::BillingState;
use super::{idempotency_key, stripe, stripe_failed};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequireTenantOwner;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use schemas::EventType;
use serde::Serialize;

/// Where to send the owner.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortalSession {
    /// Stripe's session id (`bps_…`).
    pub id: String,
    /// The Stripe-hosted portal page (payment methods, invoices, plan).
    pub url: String,
}

/// Opens the Stripe customer portal for the caller's tenant.
#[utoipa::path(
    post,
    path = "/api/v1/billing/portal",
    operation_id = "create_portal_session",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The portal session to redirect the owner to", body = PortalSession),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "The tenant pays no Stripe subscription (`no_stripe_customer`)", body = crate::error::ErrorBody),
        (status = 503, description = "Billing is not configured (`billing_not_configured`) or Stripe failed", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "opening the customer portal for a tenant owner", skip_all)]
pub(super) async fn create(
    State(state): State<BillingState>,
    owner: RequireTenantOwner,
    headers: HeaderMap,
) -> Result<Json<PortalSession>, ApiError> {
    let key = idempotency_key(&headers)?;
    // Read from the event store rather than a read model, so an owner who just subscribed
    // is not told they have no customer while a projection catches up.
    let customer: Option<String> = sqlx::query_scalar(
        "SELECT payload -> $2 ->> 'stripe_customer_id' FROM events
          WHERE aggregate_type = 'subscription' AND aggregate_id = $1
            AND event_type = $2
          ORDER BY sequence DESC LIMIT 1",
    )
    .bind(owner.tenant_id.to_string())
    .bind(EventType::SubscriptionStarted.as_str())
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?
    .flatten();
    let customer = customer.ok_or_else(|| ApiError::Conflict {
        code: "no_stripe_customer",
        message: "this tenant has no Stripe subscription to manage".into(),
    })?;
    let stripe = stripe(&state)?;
    let session = stripe
        .create_portal_session(
            &customer,
            &state.public_url.link("/billing"),
            &format!("portal:{}:{key}", owner.tenant_id),
        )
        .await
        .map_err(stripe_failed)?;
    let url = session.url.ok_or_else(|| ApiError::DependencyUnavailable {
        code: "stripe_unavailable",
        message: "Stripe created the session without a URL".into(),
    })?;
    Ok(Json(PortalSession {
        id: session.id,
        url,
    }))
}
