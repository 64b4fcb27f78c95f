//! Settings of the Stripe webhook and the subscription lifecycle in `atende serve`.

use clap::Args;

/// Settings of `POST /webhooks/stripe` and the grace period.
#[derive(Debug, Clone, Args)]
pub struct StripeWebhookSettings {
    /// Webhook endpoint secrets (`whsec_…`), comma-separated: during a secret roll both the
    /// old and the new one are accepted. Unset: every webhook is refused with 400.
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub stripe_webhook_secret: String,
    /// Days a past-due subscription keeps working before its tenant is suspended.
    #[arg(long, env = "ATENDE_GRACE_PERIOD_DAYS", default_value_t = 7)]
    pub grace_period_days: u32,
    /// How often due grace periods are looked for, in milliseconds.
    #[arg(long, env = "ATENDE_GRACE_CHECK_MS", default_value_t = 60_000)]
    pub grace_check_ms: u64,
}

impl Default for StripeWebhookSettings {
    fn default() -> Self {
        Self {
            stripe_webhook_secret: String::new(),
            grace_period_days: 7,
            grace_check_ms: 60_000,
        }
    }
}
