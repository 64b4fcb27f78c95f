//! `POST /api/v1/billing/checkout` (public): a Stripe Checkout Session for a plan.

use super::BillingState;
use super::{idempotency_key, stripe, stripe_failed};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiJson;
use crate::users::email;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use integrations::mailer::Locale;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// What to buy, for whom.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CheckoutRequest {
    /// A plan key from `GET /api/v1/plans`.
    pub plan: String,
    /// The buyer's e-mail: prefilled in Checkout, and the new owner's login.
    pub email: String,
    /// The business's name, which names the new tenant (at most 200 characters); without
    /// it, the name the buyer types on Stripe's page, else the e-mail.
    #[serde(default)]
    pub business_name: Option<String>,
    /// The language of the owner's e-mails: `pt-BR` (the default) or `en` (`en-US`, `pt`, …
    /// are accepted).
    #[serde(default)]
    pub locale: Option<String>,
}

/// Stripe refuses metadata values over 500 characters; a tenant name needs far fewer.
const MAX_BUSINESS_NAME: usize = 200;

/// Where to send the buyer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckoutSession {
    /// Stripe's session id (`cs_…`).
    pub id: String,
    /// The Stripe-hosted checkout page.
    pub url: String,
    /// The reference Stripe echoes in `checkout.session.completed` (`client_reference_id`).
    pub client_reference_id: Uuid,
}

/// A namespace for references derived from a client's idempotency key, so a retried
/// request sends Stripe the same parameters with the same key.
const REFERENCES: Uuid = Uuid::from_u128(0x6174_656e_6465_2d63_6865_636b_6f75_7431);

/// Creates a Stripe Checkout Session (mode `subscription`) for a plan.
#[utoipa::path(
    post,
    path = "/api/v1/billing/checkout",
    operation_id = "create_checkout_session",
    tag = tags::AUTH,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Send the same key when retrying: Stripe then returns the same session")),
    request_body = CheckoutRequest,
    responses(
        (status = 200, description = "The Checkout Session to redirect the buyer to", body = CheckoutSession),
        r::BadRequest,
        (status = 422, description = "Unknown plan (`unknown_plan`), a retired plan (`plan_retired`), a plan not sold through Stripe (`plan_not_purchasable`) a malformed e-mail (`invalid_email`), a business name over 200 characters (`invalid_business_name`) or an unsupported locale (`unsupported_locale`)", body = crate::error::ErrorBody),
        (status = 503, description = "Billing is not configured (`billing_not_configured`) or Stripe failed", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "starting a checkout for a plan", skip_all)]
pub(super) async fn create(
    State(state): State<BillingState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutRequest>,
) -> Result<Json<CheckoutSession>, ApiError> {
    let key = idempotency_key(&headers)?;
    let address = email::normalize(&body.email);
    if !email::is_plausible(&address) {
        return Err(ApiError::Unprocessable {
            code: "invalid_email",
            message: format!("{:?} is not an e-mail address", body.email),
            details: Some(json!({"field": "email"})),
        });
    }
    // The catalogue in force: a plan an admin created can be bought, a retired one cannot.
    let history = crate::plans::history(&state.pool, &state.pricing.plans).await?;
    let plans = history.in_force();
    let plan = plans.get(body.plan.trim()).ok_or_else(|| {
        if history.is_known(body.plan.trim()) {
            ApiError::Unprocessable {
                code: "plan_retired",
                message: format!(
                    "plan {:?} is no longer sold; see GET /api/v1/plans",
                    body.plan
                ),
                details: Some(json!({"field": "plan"})),
            }
        } else {
            ApiError::Unprocessable {
                code: "unknown_plan",
                message: format!("there is no plan {:?}; see GET /api/v1/plans", body.plan),
                details: Some(json!({"field": "plan"})),
            }
        }
    })?;
    let price_id = plan
        .stripe_price_id
        .clone()
        .ok_or_else(|| ApiError::Unprocessable {
            code: "plan_not_purchasable",
            message: format!(
                "plan {} has no Stripe price and cannot be bought online",
                plan.id
            ),
            details: Some(json!({"field": "plan"})),
        })?;
    let business_name = business_name(body.business_name.as_deref())?;
    let locale = body
        .locale
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|tag| {
            tag.parse::<Locale>()
                .map(|l| l.as_str().to_owned())
                .map_err(|_| ApiError::Unprocessable {
                    code: "unsupported_locale",
                    message: format!("{tag:?} is not a supported language; use pt-BR or en"),
                    details: Some(json!({"field": "locale"})),
                })
        })
        .transpose()?;
    let stripe = stripe(&state)?;
    // An owner whose tenant cancelled buys again as the same Stripe customer: the new
    // subscription then belongs to that tenant (its id derives from the customer) instead of
    // provisioning a second one, which the taken login would stop half-way. The answer is
    // the same either way, so it tells nobody whether the address has an account.
    let customer: Option<String> = sqlx::query_scalar(
        "SELECT s.stripe_customer_id FROM users u JOIN billing_subscriptions s USING (tenant_id)
          WHERE u.email = $1 AND u.role = 'owner' AND s.status = 'cancelled'
            AND s.stripe_customer_id IS NOT NULL
          ORDER BY s.cancelled_at DESC NULLS LAST LIMIT 1",
    )
    .bind(&address)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let reference = Uuid::new_v5(&REFERENCES, key.as_bytes());
    let request = integrations::stripe::CheckoutRequest {
        plan: plan.id.clone(),
        price_id,
        email: address,
        customer,
        client_reference_id: reference.to_string(),
        business_name,
        locale,
        success_url: state
            .public_url
            .link("/checkout/success?session_id={CHECKOUT_SESSION_ID}"),
        cancel_url: state.public_url.link("/plans"),
    };
    let session = stripe
        .create_checkout_session(&request, &format!("checkout:{key}"))
        .await
        .map_err(stripe_failed)?;
    let url = session.url.ok_or_else(|| ApiError::DependencyUnavailable {
        code: "stripe_unavailable",
        message: "Stripe created the session without a URL".into(),
    })?;
    tracing::info!(session = %session.id, plan = %plan.id, "a checkout session was created");
    Ok(Json(CheckoutSession {
        id: session.id,
        url,
        client_reference_id: reference,
    }))
}

/// The trimmed business name, if one was given.
fn business_name(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_BUSINESS_NAME {
        return Err(ApiError::Unprocessable {
            code: "invalid_business_name",
            message: format!("business_name has more than {MAX_BUSINESS_NAME} characters"),
            details: Some(json!({"field": "business_name"})),
        });
    }
    Ok(Some(name.to_owned()))
}
