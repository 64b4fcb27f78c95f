//! Billing's settings in `atende serve` (issue #6 part B): Stripe, the plans' Stripe
//! prices and the usage meter, and what they make.

use anyhow::Context;
use clap::Args;
use schemas::plans::PlanCatalogue;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::{EventHandler, Registry};
use workers::mailer::PublicUrl;
use workers::stripe::meter::{MeterReporter, ReporterConfig, ReporterHandle, UsageMeter};
use workers::stripe::{StripeClient, StripeConfig, DEFAULT_API_BASE};

/// Settings of billing.
#[derive(Debug, Clone, Args)]
pub struct BillingSettings {
    /// Stripe's secret key; unset: checkout, portal and subscription actions answer 503
    /// `billing_not_configured` and no usage is reported.
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// Stripe's API base URL (a fake in tests).
    #[arg(long, env = "STRIPE_API_BASE", default_value = DEFAULT_API_BASE)]
    pub stripe_api_base: String,
    /// The `event_name` of the Stripe Billing Meter counting AI answers.
    #[arg(long, env = "STRIPE_METER_EVENT_NAME", default_value = "ai_answers")]
    pub stripe_meter_event_name: String,
    /// Stripe Prices of the plans, `plan=price_…` comma-separated (or `stripe_price_id` in
    /// `ATENDE_PLANS`); plans without one are listed but not sold online.
    #[arg(long, env = "ATENDE_STRIPE_PRICES")]
    pub stripe_prices: Option<String>,
    /// Milliseconds between usage reporting rounds.
    #[arg(long, env = "ATENDE_METER_INTERVAL_MS", default_value_t = 60_000)]
    pub meter_interval_ms: u64,
    /// Attempts (30 s apart, doubling up to an hour) before a usage report is given up and
    /// counted as failed in /health.
    #[arg(long, env = "ATENDE_METER_MAX_ATTEMPTS", default_value_t = 12)]
    pub meter_max_attempts: i32,
    /// The first retry's wait (tests shorten it).
    #[arg(skip = Duration::from_secs(30))]
    pub meter_retry_base: Duration,
    /// Per-attempt timeout of Stripe calls.
    #[arg(skip = Duration::from_secs(20))]
    pub stripe_timeout: Duration,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            stripe_secret_key: None,
            stripe_api_base: DEFAULT_API_BASE.into(),
            stripe_meter_event_name: "ai_answers".into(),
            stripe_prices: None,
            meter_interval_ms: 60_000,
            meter_max_attempts: 12,
            meter_retry_base: Duration::from_secs(30),
            stripe_timeout: Duration::from_secs(20),
        }
    }
}

impl BillingSettings {
    /// The catalogue with `ATENDE_STRIPE_PRICES` applied.
    pub fn priced(&self, plans: PlanCatalogue) -> anyhow::Result<PlanCatalogue> {
        match self.stripe_prices.as_deref().map(str::trim) {
            Some(pairs) if !pairs.is_empty() => plans
                .with_stripe_prices(pairs)
                .context("reading ATENDE_STRIPE_PRICES"),
            _ => Ok(plans),
        }
    }

    /// The Stripe client, when a key is set.
    pub fn client(&self) -> anyhow::Result<Option<StripeClient>> {
        let Some(key) = self
            .stripe_secret_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        else {
            return Ok(None);
        };
        let client = StripeClient::new(&StripeConfig {
            secret_key: key.to_owned(),
            api_base: self.stripe_api_base.clone(),
            timeout: self.stripe_timeout,
        })
        .context("configuring Stripe")?;
        Ok(Some(client))
    }

    /// `registry` plus the usage meter, which counts answers whether or not Stripe is
    /// configured (quota alerts need the counts).
    pub fn with_meter(
        &self,
        registry: &Registry,
        plans: &PlanCatalogue,
        public_url: &PublicUrl,
    ) -> Registry {
        let meter = Arc::new(UsageMeter::new(Arc::new(plans.clone()), public_url.clone()))
            as Arc<dyn EventHandler>;
        Registry::new(registry.iter().cloned().chain([meter]))
    }

    /// Starts reporting usage to Stripe, when it is configured.
    pub fn spawn_reporter(
        &self,
        pool: &PgPool,
        stripe: Option<&StripeClient>,
    ) -> Option<ReporterHandle> {
        let stripe = stripe?;
        let config = ReporterConfig {
            event_name: self.stripe_meter_event_name.clone(),
            interval: Duration::from_millis(self.meter_interval_ms.max(10)),
            retry_base: self.meter_retry_base,
            max_attempts: self.meter_max_attempts.max(1),
        };
        Some(MeterReporter::new(pool.clone(), stripe.clone(), config).spawn())
    }
}
