//! The background parts of atende — stream consumers, senders and timers — wired in one
//! place for both roles: `atende serve` runs all of them (none with `--no-workers`),
//! `atende worker` the ones `--only` picks, so a distributed deployment runs exactly the code
//! the single process runs.

use crate::subject_keys::RingKeys;
use ::knowledge::KnowledgeBase;
use aggregates::Clock;
use anyhow::Context;
use clap::{Args, ValueEnum};
use commands::privacy::KeyRing;
use commands::CommandBus;
use integrations::stripe::StripeClient;
use schemas::plans::Pricing;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream::{ConsumerStatus, EventHandler, Handle, Registry, Tail};

/// A part of the background work (`atende worker --only <part>,…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// Every read model (dashboards, reports, usage counts, the audit chain).
    Projections,
    /// Event store → Kafka (only with `KAFKA_BROKERS`; one process publishes at a time).
    Relay,
    /// Sends queued e-mail.
    Mailer,
    /// Destroys expired message keys (F9), hourly.
    Retention,
    /// Queues and sends outbound WhatsApp messages (Graph API, Evolution API or the outbox).
    Sender,
    /// The AI responder: answers customers from the tenant's knowledge, or hands off.
    Ai,
    /// The 24 h saga: gives a conversation back to the AI after human silence (F8).
    Saga,
    /// Embeds and indexes the tenants' knowledge.
    Knowledge,
    /// The provisioning saga, the subscription lifecycle, the grace-period timer and the
    /// Stripe usage reporter.
    Billing,
    /// Support tickets: the support AI answering from the platform knowledge, and the
    /// ticket e-mails to admins and owners.
    Support,
}

impl Part {
    /// Every part, in start order.
    pub const ALL: [Part; 10] = [
        Part::Projections,
        Part::Relay,
        Part::Mailer,
        Part::Retention,
        Part::Sender,
        Part::Ai,
        Part::Saga,
        Part::Knowledge,
        Part::Billing,
        Part::Support,
    ];
}

/// The settings of the background parts: one struct, flattened into both `serve`'s and
/// `worker`'s command line, so a setting means the same in either role.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// How often the tail looks for events written by other processes, in milliseconds.
    #[arg(long, env = "ATENDE_TAIL_POLL_MS", default_value_t = 100)]
    pub tail_poll_ms: u64,
    /// Days message content stays readable (F9).
    #[arg(long, env = "ATENDE_RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,
    /// Days sign-in attempts and refused requests are kept (each account's latest
    /// successful sign-in stays).
    #[arg(long, env = "ATENDE_SECURITY_LOG_DAYS", default_value_t = 180)]
    pub security_log_days: u32,
    /// The plans on sale as a JSON array of `{id, name, monthly_price_cents, currency,
    /// monthly_ai_message_quota, features}`; replaces the built-in catalogue.
    #[arg(long, env = "ATENDE_PLANS")]
    pub plans: Option<String>,
    /// AI token prices as a JSON object `{"<model>": {input_usd_per_million,
    /// output_usd_per_million}}`; replaces the built-in table.
    #[arg(long, env = "ATENDE_MODEL_PRICES")]
    pub model_prices: Option<String>,
    /// Lets clients other than local ones read `/metrics` with this bearer token (unset:
    /// local clients only).
    #[arg(long, env = "ATENDE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Seconds a SIGTERM or Ctrl-C leaves requests in flight and the parts' work in hand to
    /// finish before the process stops without them (their transactions roll back).
    #[arg(long, env = "ATENDE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// Kafka (with `KAFKA_BROKERS` set, the stream travels through it).
    #[command(flatten)]
    pub kafka: crate::kafka::KafkaSettings,
    /// The mailer.
    #[command(flatten)]
    pub mail: crate::mail::MailSettings,
    /// Stripe, plan prices and usage metering.
    #[command(flatten)]
    pub billing: crate::billing::BillingSettings,
    /// Stripe webhooks and the grace period.
    #[command(flatten)]
    pub stripe_webhooks: crate::stripe_webhooks::StripeWebhookSettings,
    /// The WhatsApp channel and its sender.
    #[command(flatten)]
    pub whatsapp: crate::whatsapp::WhatsAppSettings,
    /// Knowledge embedding and index.
    #[command(flatten)]
    pub knowledge: crate::knowledge::KnowledgeSettings,
    /// The AI responder and the 24 h timeout saga.
    #[command(flatten)]
    pub ai: crate::ai::AiSettings,
}

impl Default for Settings {
    /// The command line's defaults.
    fn default() -> Self {
        Self {
            tail_poll_ms: 100,
            retention_days: 30,
            security_log_days: 180,
            plans: None,
            model_prices: None,
            metrics_token: None,
            shutdown_grace_secs: 20,
            kafka: Default::default(),
            mail: Default::default(),
            billing: Default::default(),
            stripe_webhooks: Default::default(),
            whatsapp: Default::default(),
            knowledge: Default::default(),
            ai: Default::default(),
        }
    }
}

/// What the parts run on; `serve` hands the same values to the API.
#[derive(Clone)]
#[allow(missing_debug_implementations)] // handles to pools and clients, never logged
pub struct Deps {
    /// The database (migrated).
    pub pool: PgPool,
    /// The write side.
    pub bus: Arc<CommandBus>,
    /// The subject keys.
    pub keys: Arc<KeyRing>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The tail of the event store (the relay's input, and the stream without Kafka).
    pub tail: Tail,
    /// Plans and model prices.
    pub pricing: Pricing,
    /// Stripe, when configured.
    pub stripe: Option<StripeClient>,
    /// The tenants' knowledge.
    pub knowledge: KnowledgeBase,
    /// The read models, the usage meter included.
    pub projections: Registry,
}

impl Deps {
    /// Derives the pricing, Stripe client, knowledge base and read models from `settings`.
    pub fn new(
        pool: PgPool,
        bus: Arc<CommandBus>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        tail: Tail,
        settings: &Settings,
    ) -> anyhow::Result<Deps> {
        let mut pricing =
            Pricing::from_config(settings.plans.as_deref(), settings.model_prices.as_deref())
                .context("reading the plan catalogue and model prices")?;
        pricing.plans = settings.billing.priced(pricing.plans)?;
        let stripe = settings.billing.client()?;
        let knowledge = settings.knowledge.base(&pool)?;
        tracing::info!(knowledge = %knowledge.describe(), "knowledge index");
        let projections = settings.billing.with_meter(
            &projections::builtin::registry(Arc::new(RingKeys(keys.clone()))),
            &pricing.plans,
            &settings.mail.public_url,
        );
        // The usage monitor's AI spend thresholds (issue 18): judged at the same prices.
        let watch = Arc::new(projections::spend::AiSpendWatch::new(Arc::new(
            pricing.models.clone(),
        ))) as Arc<dyn EventHandler>;
        let projections = Registry::new(projections.iter().cloned().chain([watch]));
        Ok(Deps {
            pool,
            bus,
            keys,
            clock,
            tail,
            pricing,
            stripe,
            knowledge,
            projections,
        })
    }
}

/// The running parts.
#[derive(Debug, Default)]
pub struct Background {
    runners: Vec<Handle>,
    relay: Option<Handle>,
    mailer: Option<Handle>,
    retention: Option<Handle>,
    grace_timer: Option<Handle>,
    meter_reporter: Option<Handle>,
    sender: Option<Handle>,
    ai: Option<crate::ai::AiWorkers>,
}

impl Background {
    /// Starts `parts` (none: nothing runs). Every stream consumer reads from the configured
    /// source: Kafka when `KAFKA_BROKERS` is set, the tail otherwise. When a part fails to
    /// start, the ones already running are stopped.
    pub async fn start(parts: &[Part], deps: &Deps, settings: &Settings) -> anyhow::Result<Self> {
        let mut b = Background::default();
        match b.start_parts(parts, deps, settings) {
            Ok(()) => Ok(b),
            Err(e) => {
                b.stop().await;
                Err(e)
            }
        }
    }

    fn start_parts(
        &mut self,
        parts: &[Part],
        deps: &Deps,
        settings: &Settings,
    ) -> anyhow::Result<()> {
        let runs = |p: Part| parts.contains(&p);
        let source = settings.kafka.source(deps.tail.clone());
        let b = self;
        let spawn = |handlers: Vec<Arc<dyn EventHandler>>| {
            Registry::new(handlers)
                .spawn_on(&source)
                .context("starting stream consumers")
        };
        if runs(Part::Projections) {
            b.runners.extend(
                deps.projections
                    .spawn_on(&source)
                    .context("starting the projections")?,
            );
        }
        if runs(Part::Billing) {
            // Consumers whose effects reach outside (commands, e-mail): not replayable.
            b.runners.extend(spawn(vec![
                Arc::new(workers::provisioning::Provisioning::new(
                    deps.bus.clone(),
                    deps.pool.clone(),
                    settings.mail.public_url.clone(),
                )) as Arc<dyn EventHandler>,
                Arc::new(workers::lifecycle::SubscriptionLifecycle::new(
                    deps.bus.clone(),
                    settings.stripe_webhooks.grace_period_days,
                    settings.mail.public_url.clone(),
                )),
            ])?);
        }
        if runs(Part::Sender) {
            b.runners.extend(spawn(vec![Arc::new(
                workers::sender::OutboundQueue::default(),
            )])?);
        }
        if runs(Part::Knowledge) {
            b.runners.extend(spawn(vec![Arc::new(
                workers::indexer::KnowledgeIndexer::new(deps.knowledge.clone()),
            )])?);
            let reindex = deps.knowledge.clone();
            tokio::spawn(async move {
                match reindex.reindex_stale().await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(tenants = n, "re-indexed knowledge for the new settings")
                    }
                    Err(e) => tracing::error!(error = %e, "re-indexing knowledge failed"),
                }
            });
        }
        if runs(Part::Support) {
            // Both reach outside (commands, e-mail): not replayable.
            b.runners.extend(spawn(vec![
                Arc::new(
                    workers::support::SupportAi::new(
                        deps.bus.clone(),
                        deps.keys.clone(),
                        Arc::new(deps.knowledge.clone()),
                    )
                    // The responder's providers and cache: the same models answer tickets.
                    .with_models(
                        integrations::llm::Models::new(
                            settings.ai.providers()?,
                            std::time::Duration::from_millis(settings.ai.llm_timeout_ms.max(1)),
                        ),
                        deps.pool.clone(),
                        workers::responder::ResponderConfig::default().cache_ttl,
                    ),
                ) as Arc<dyn EventHandler>,
                Arc::new(workers::support::TicketNotifier::new(
                    settings.mail.public_url.clone(),
                )),
            ])?);
        }
        if runs(Part::Relay) {
            b.relay = settings.kafka.relay(deps.tail.clone())?;
            // Asked for by name (not as one of all parts), the relay must run.
            if b.relay.is_none() && parts.len() < Part::ALL.len() {
                anyhow::bail!("--only relay needs KAFKA_BROKERS");
            }
        }
        if runs(Part::Billing) {
            b.grace_timer = Some(workers::lifecycle::spawn_grace_timer(
                deps.pool.clone(),
                deps.bus.clone(),
                deps.clock.clone(),
                Duration::from_millis(settings.stripe_webhooks.grace_check_ms.max(10)),
            ));
            b.meter_reporter = settings
                .billing
                .spawn_reporter(&deps.pool, deps.stripe.as_ref());
        }
        if runs(Part::Retention) {
            b.retention = Some(workers::retention::spawn(
                deps.pool.clone(),
                deps.keys.clone(),
                deps.clock.clone(),
                settings.retention_days,
                settings.security_log_days,
                Duration::from_secs(3600),
            ));
        }
        if runs(Part::Sender) {
            b.sender = Some(
                workers::sender::Sender::new(
                    deps.pool.clone(),
                    deps.bus.clone(),
                    deps.keys.clone(),
                    deps.clock.clone(),
                    settings.whatsapp.sender_config(),
                )?
                .spawn(),
            );
        }
        if runs(Part::Ai) || runs(Part::Saga) {
            b.ai = Some(crate::ai::AiWorkers::start(
                &settings.ai,
                crate::ai::AiDeps {
                    pool: &deps.pool,
                    bus: &deps.bus,
                    keys: &deps.keys,
                    clock: &deps.clock,
                    source: &source,
                    pricing: &deps.pricing,
                    public_url: &settings.mail.public_url,
                },
                Arc::new(deps.knowledge.clone()),
                crate::ai::AiParts {
                    responder: runs(Part::Ai),
                    saga: runs(Part::Saga),
                },
                &mut b.runners,
            )?);
        }
        if runs(Part::Mailer) {
            b.mailer = settings.mail.mailer(&deps.pool)?.map(|m| m.spawn());
            if b.mailer.is_none() {
                tracing::warn!(
                    "neither SMTP nor an outbox directory: this process sends no e-mail"
                );
            }
        }
        Ok(())
    }

    /// The stream consumers' and the relay's status, for /health and the admin API.
    pub fn status_views(&self) -> Vec<Arc<Mutex<ConsumerStatus>>> {
        self.runners
            .iter()
            .chain(&self.relay)
            .filter_map(Handle::status_view)
            .collect()
    }

    /// Stops every part, each after the work in hand.
    pub async fn stop(self) {
        self.stop_within(Duration::MAX).await;
    }

    /// Asks every part at once to stop after the work in hand, then waits for them until
    /// `grace` has passed; the parts still busy then are aborted (their transactions roll
    /// back: nothing is half applied, and a stream consumer applies that batch again on the
    /// next start). Returns how many had to be aborted.
    pub async fn stop_within(self, grace: Duration) -> usize {
        let deadline = tokio::time::Instant::now().checked_add(grace);
        let handles: Vec<Handle> = [
            self.retention,
            self.grace_timer,
            self.mailer,
            self.meter_reporter,
            self.sender,
            self.relay,
        ]
        .into_iter()
        .flatten()
        .chain(
            self.ai
                .into_iter()
                .flat_map(crate::ai::AiWorkers::into_handles),
        )
        .chain(self.runners)
        .collect();
        for h in &handles {
            h.request_stop();
        }
        let mut aborted = 0;
        for h in handles {
            let name = h.status().name;
            let left = deadline.map_or(Duration::MAX, |d| {
                d.saturating_duration_since(tokio::time::Instant::now())
            });
            if !h.stop_within(left).await {
                tracing::warn!(part = %name, "a background part was still busy when the shutdown grace ran out; aborted it");
                aborted += 1;
            }
        }
        aborted
    }
}
