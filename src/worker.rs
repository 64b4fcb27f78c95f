//! `atende worker`: stream consumers and background jobs without the HTTP API, so each part
//! scales on its own machines (F61).

use crate::database::{Database, DatabaseConfig};
use crate::kafka::KafkaSettings;
use crate::subject_keys::RingKeys;
use aggregates::SystemClock;
use anyhow::Context;
use clap::{Args, ValueEnum};
use commands::privacy::KeyRing;
use projections::{RunnerHandle, Tail};
use std::sync::Arc;
use std::time::Duration;

/// A part of the background work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// Every read model (dashboards, reports, usage, the audit chain).
    Projections,
    /// Event store → Kafka (only with `KAFKA_BROKERS`; one process publishes at a time).
    Relay,
    /// Sends queued e-mail.
    Mailer,
    /// Destroys expired message keys (F9), hourly.
    Retention,
}

/// Settings of `atende worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerConfig {
    /// Run only these parts (comma-separated); all when absent.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Part>,
    /// How often the tail looks for new events, in milliseconds.
    #[arg(long, env = "ATENDE_TAIL_POLL_MS", default_value_t = 100)]
    pub tail_poll_ms: u64,
    /// Days message content stays readable (F9).
    #[arg(long, env = "ATENDE_RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,
    /// Kafka.
    #[command(flatten)]
    pub kafka: KafkaSettings,
    /// The mailer.
    #[command(flatten)]
    pub mail: crate::mail::MailSettings,
}

impl WorkerConfig {
    fn runs(&self, part: Part) -> bool {
        self.only.is_empty() || self.only.contains(&part)
    }
}

/// The running parts of a worker process.
#[derive(Debug, Default)]
pub struct Workers {
    runners: Vec<RunnerHandle>,
    relay: Option<workers::relay::RelayHandle>,
    mailer: Option<workers::mailer::MailerHandle>,
    retention: Option<tokio::task::JoinHandle<()>>,
}

impl Workers {
    /// Starts the parts `config` selects on `pool` (migrated), opening personal fields
    /// with `keys`.
    pub async fn start(
        pool: sqlx::PgPool,
        keys: Arc<KeyRing>,
        config: &WorkerConfig,
    ) -> anyhow::Result<Self> {
        let tail =
            Tail::new(pool.clone()).with_idle_poll(Duration::from_millis(config.tail_poll_ms));
        let mut w = Workers::default();
        if config.runs(Part::Projections) {
            let registry = projections::builtin::registry(Arc::new(RingKeys(keys.clone())));
            w.runners = registry
                .spawn_on(&config.kafka.source(tail.clone()))
                .context("starting the projections' kafka consumers")?;
        }
        if config.runs(Part::Relay) {
            w.relay = config.kafka.relay(tail.clone())?;
            if w.relay.is_none() && config.only.contains(&Part::Relay) {
                anyhow::bail!("--only relay needs KAFKA_BROKERS");
            }
        }
        if config.runs(Part::Mailer) {
            w.mailer = config.mail.mailer(&pool)?.map(|m| m.spawn());
        }
        if config.runs(Part::Retention) {
            w.retention = Some(workers::retention::spawn(
                pool,
                keys,
                Arc::new(SystemClock),
                config.retention_days,
                Duration::from_secs(3600),
            ));
        }
        Ok(w)
    }

    /// Stops every part, each after the work in hand.
    pub async fn stop(self) {
        if let Some(r) = self.retention {
            r.abort();
        }
        if let Some(m) = self.mailer {
            m.stop().await;
        }
        if let Some(r) = self.relay {
            r.stop().await;
        }
        for r in self.runners {
            r.stop().await;
        }
    }
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(db_config: &DatabaseConfig, mut config: WorkerConfig) -> anyhow::Result<()> {
    let master = crate::keys::master_key(db_config)?;
    if config.mail.smtp_url.is_none() && config.mail.outbox_dir.is_none() {
        config.mail.outbox_dir = Some(db_config.data_dir.join("outbox"));
    }
    let db = Database::open(db_config).await?;
    let started = async {
        let keys = Arc::new(KeyRing::open(db.pool.clone(), master).await?);
        Workers::start(db.pool.clone(), keys, &config).await
    }
    .await;
    let workers = match started {
        Ok(w) => w,
        Err(e) => {
            db.close().await?;
            return Err(e);
        }
    };
    tracing::info!(parts = ?config.only, kafka = config.kafka.kafka_brokers.is_some(), "atende worker is running");
    crate::serve::shutdown_signal().await;
    tracing::info!("shutting down");
    workers.stop().await;
    db.close().await
}
