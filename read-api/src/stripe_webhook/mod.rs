//! `POST /webhooks/stripe` (F21): Stripe's signed events become subscription commands. The
//! first payment of a new customer provisions its tenant (F22) in the provisioning saga
//! (`workers/src/provisioning/`), which reacts to those commands' events; the webhook only
//! keeps what the events do not carry (who the owner is, whether the checkout was paid).

mod dedup;
mod events;
mod handler;
mod payload;
mod signature;

pub use handler::WebhookReceived;
pub use signature::{verify, SignatureError};

use aggregates::{Clock, SystemClock};
use std::fmt;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the Stripe webhook uses.
#[derive(Debug, Clone)]
pub struct StripeWebhookState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// Plan prices and quotas, and the AI models' token prices.
    pub pricing: std::sync::Arc<schemas::plans::Pricing>,
    /// How Stripe webhooks are verified.
    pub stripe_webhook: WebhookConfig,
}

/// Stripe's default tolerance between a signature's timestamp and now.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// How the webhook verifies what it receives.
#[derive(Clone)]
pub struct WebhookConfig {
    /// Endpoint secrets (`whsec_…`); a signature by any of them is accepted, so a secret
    /// can be rolled without losing events. Empty: every event is refused.
    pub secrets: Vec<String>,
    /// Largest accepted distance between the signature's timestamp and now, in seconds.
    pub tolerance_secs: i64,
    /// The time signatures are checked against.
    pub clock: Arc<dyn Clock>,
}

impl WebhookConfig {
    /// A configuration from `STRIPE_WEBHOOK_SECRET`'s comma-separated secrets.
    pub fn from_secrets(secrets: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            secrets: secrets
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
            clock,
        }
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self::from_secrets("", Arc::new(SystemClock))
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("secrets", &self.secrets.len())
            .field("tolerance_secs", &self.tolerance_secs)
            .finish_non_exhaustive()
    }
}

/// The webhook's route.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    StripeWebhookState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(handler::receive))
}
