//! Billing (issue #6 part B): the plan list, Stripe Checkout and the customer portal
//! (F20), and the admin billing views and actions (F26) over the `billing_admin`
//! projection, plus the quota alerts the usage meter raises (F24).
//!
//! Without `STRIPE_SECRET_KEY` the routes that call Stripe answer 503
//! `billing_not_configured`; everything else works.

mod alerts;
mod checkout;
mod cursor;
mod payments;
mod plans;
mod portal;
mod refunds;
mod subscriptions;

pub use alerts::{QuotaAlert, QuotaAlertPage, QuotaAlertQuery};
pub use checkout::{CheckoutRequest, CheckoutSession};
pub use payments::{Payment, PaymentPage, PaymentQuery};
pub use plans::{Plan, PlanList};
pub use portal::PortalSession;
pub use refunds::{RefundAccepted, RefundBody};
pub use subscriptions::{CancelRequest, Subscription, SubscriptionPage, SubscriptionQuery};
// The lists reports export pages through whole (issue 18, F45).
pub(crate) use payments::list as list_payments;
pub(crate) use subscriptions::list as list_subscriptions;

use crate::error::ApiError;
use axum::http::HeaderMap;
use integrations::stripe::{StripeClient, StripeError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The part of the application state the billing routes use.
#[derive(Debug, Clone)]
pub struct BillingState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// Plan prices and quotas, and the AI models' token prices.
    pub pricing: std::sync::Arc<schemas::plans::Pricing>,
    /// The dashboard's base URL, for links in e-mails.
    pub public_url: integrations::mailer::PublicUrl,
    /// Stripe, when configured; billing routes answer 503 without it.
    pub stripe: Option<integrations::stripe::StripeClient>,
}

/// The billing routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    BillingState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(plans::list))
        .routes(routes!(checkout::create))
        .routes(routes!(portal::create))
        .routes(routes!(subscriptions::list))
        .routes(routes!(subscriptions::cancel))
        .routes(routes!(subscriptions::reactivate))
        .routes(routes!(payments::list))
        .routes(routes!(refunds::refund))
        .routes(routes!(alerts::list))
}

/// Stripe, or 503 when this deployment has no key.
fn stripe(state: &BillingState) -> Result<&StripeClient, ApiError> {
    state
        .stripe
        .as_ref()
        .ok_or_else(|| ApiError::DependencyUnavailable {
            code: "billing_not_configured",
            message: "billing is not configured on this server (STRIPE_SECRET_KEY is unset)".into(),
        })
}

/// A failed Stripe call: 503 with Stripe's reason; the details are logged.
fn stripe_failed(e: StripeError) -> ApiError {
    tracing::error!(error = %e, "a Stripe call failed");
    match e {
        StripeError::Refused { message, .. } => ApiError::DependencyUnavailable {
            code: "stripe_refused",
            message: format!("Stripe refused the request: {message}"),
        },
        other => ApiError::DependencyUnavailable {
            code: "stripe_unavailable",
            message: format!("Stripe could not be reached; try again later ({other})"),
        },
    }
}

/// The client's `Idempotency-Key` header (so its retries reach Stripe with the same key),
/// or a fresh one.
fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(Uuid::now_v7().to_string()),
        Some(v) => v
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 200)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::BadRequest {
                code: "invalid_idempotency_key",
                message: "Idempotency-Key must be 1 to 200 visible ASCII characters".into(),
            }),
    }
}

fn invalid_cursor() -> ApiError {
    ApiError::Unprocessable {
        code: "invalid_cursor",
        message: "cursor is not a next_cursor this API returned".into(),
        details: None,
    }
}
