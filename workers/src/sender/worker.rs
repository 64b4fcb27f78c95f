//! The sending loop.

use super::deliver::{Claimed, Context, Outcome};
use super::NOTIFY_CHANNEL;
use crate::jobs::{Attempt as JobAttempt, Backoff, JobRunner, Queue, RunnerConfig};
use aggregates::{Clock, ConversationCommand};
use commands::privacy::KeyRing;
use commands::whatsapp::ChannelStore;
use commands::CommandBus;
use integrations::whatsapp::graph::Attempt;
use schemas::{Actor, CommandMetadata};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::Handle;
use uuid::Uuid;

/// How the sender sends.
#[derive(Clone)]
pub struct SenderConfig {
    /// The Graph API base, e.g. `https://graph.facebook.com/v21.0`.
    pub graph_url: String,
    /// The platform's Cloud API token (`WHATSAPP_TOKEN`); a tenant's own token wins.
    pub token: Option<String>,
    /// Attempts before a message is given up.
    pub max_attempts: i32,
    /// The wait after the first failed attempt; doubles with each further one.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_max: Duration,
    /// How often to look for due messages when no notification came.
    pub poll_interval: Duration,
    /// How long a claim lasts: a message whose sender died is tried again after it.
    pub lease: Duration,
}

impl std::fmt::Debug for SenderConfig {
    // The token is a credential: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderConfig")
            .field("graph_url", &self.graph_url)
            .field("token_set", &self.token.is_some())
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            graph_url: integrations::whatsapp::DEFAULT_GRAPH_URL.to_owned(),
            token: None,
            max_attempts: 8,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(600),
            poll_interval: Duration::from_secs(2),
            lease: Duration::from_secs(120),
        }
    }
}

impl SenderConfig {
    /// The wait before the attempt after `attempts` failed ones.
    pub fn backoff(&self, attempts: i32) -> Duration {
        self.retry_backoff()
            .after(u32::try_from(attempts).unwrap_or(0))
    }

    fn retry_backoff(&self) -> Backoff {
        Backoff {
            base: self.retry_base,
            max: self.retry_max,
        }
    }
}

/// Sends the queued WhatsApp messages.
#[derive(Debug, Clone)]
pub struct Sender {
    runner: JobRunner<Outbound>,
}

/// `whatsapp_outbound` as a job queue.
#[derive(Debug)]
struct Outbound {
    cx: Context,
}

/// How an attempt went out: the channel, the kind of message and, once sent, the
/// provider's id.
#[derive(Debug)]
struct Via {
    channel: &'static str,
    kind: &'static str,
    provider_id: String,
}

const CLAIM_BATCH: usize = 20;

/// A settled row: tenant, conversation, status, provider id, last error.
type Settled = (Uuid, Uuid, String, Option<String>, Option<String>);

impl Sender {
    /// A sender over `pool`, recording outcomes through `bus`; `clock` tells whether the
    /// customer's 24 h window is still open.
    pub fn new(
        pool: PgPool,
        bus: Arc<CommandBus>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        config: SenderConfig,
    ) -> anyhow::Result<Self> {
        // reqwest's rustls needs a process-wide crypto provider; another component may have
        // installed it already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let channels = ChannelStore::new(pool.clone(), keys.clone());
        let runner = RunnerConfig {
            channel: Some(NOTIFY_CHANNEL),
            poll_interval: config.poll_interval,
            wait_first: false,
            batch_size: CLAIM_BATCH,
            concurrency: 1,
            lease: config.lease,
            backoff: config.retry_backoff(),
            max_attempts: Some(u32::try_from(config.max_attempts).unwrap_or(0)),
        };
        let queue = Outbound {
            cx: Context {
                pool: pool.clone(),
                bus,
                keys,
                clock,
                channels,
                http,
                config,
            },
        };
        Ok(Self {
            runner: JobRunner::new(Arc::new(queue), pool, runner),
        })
    }

    /// Runs the loop in the background.
    pub fn spawn(self) -> Handle {
        self.runner.spawn()
    }

    /// Records outcomes not yet on their conversation, then sends the due messages; returns
    /// how many rows it handled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let round = self.runner.round().await?;
        Ok(round.prepared + round.claimed)
    }
}

#[async_trait::async_trait]
impl Queue for Outbound {
    type Job = Claimed;
    type Output = Via;
    type Error = anyhow::Error;

    fn name(&self) -> &'static str {
        "whatsapp_outbound"
    }

    async fn prepare(&self) -> anyhow::Result<usize> {
        self.record_pending_outcomes().await
    }

    async fn claim(&self, limit: usize, lease: Duration) -> anyhow::Result<Vec<Claimed>> {
        // `sending_since` still set means the attempt before this one ended with its process
        // (claimed, perhaps accepted by the provider, never recorded): this attempt is made
        // in doubt, which `deliver` resolves or bounds.
        let mut claimed: Vec<Claimed> = sqlx::query_as(
            "UPDATE whatsapp_outbound w SET attempts = w.attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $1),
                    sending_since = now(),
                    resends_in_doubt = w.resends_in_doubt
                        + CASE WHEN due.sending_since IS NULL THEN 0 ELSE 1 END
               FROM (SELECT outbound_id, sending_since FROM whatsapp_outbound
                      WHERE status = 'pending' AND next_attempt_at <= now()
                      ORDER BY position LIMIT $2 FOR UPDATE SKIP LOCKED) due
              WHERE w.outbound_id = due.outbound_id
              RETURNING w.outbound_id, w.tenant_id, w.conversation_id, w.purpose, w.body,
                        w.attempts, w.position, due.sending_since AS in_doubt_since,
                        w.resends_in_doubt",
        )
        .bind(lease.as_secs_f64())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.cx.pool)
        .await?;
        // One conversation's messages go out in the order they were asked for.
        claimed.sort_by_key(|c| c.position);
        Ok(claimed)
    }

    fn attempt(&self, row: &Claimed) -> u32 {
        u32::try_from(row.attempts).unwrap_or(0)
    }

    async fn run(&self, row: &Claimed) -> JobAttempt<Via> {
        let outcome = match self.cx.deliver(row).await {
            Ok(o) => o,
            Err(e) => Outcome {
                attempt: Attempt::Retry(format!("{e:#}")),
                channel: "none",
                kind: "text",
            },
        };
        let via = |provider_id: String| Via {
            channel: outcome.channel,
            kind: outcome.kind,
            provider_id,
        };
        match outcome.attempt {
            Attempt::Sent(id) => JobAttempt::Done(via(id)),
            Attempt::Retry(error) => JobAttempt::Transient {
                error,
                output: via(String::new()),
            },
            Attempt::Refused(error) => JobAttempt::Permanent {
                error,
                output: via(String::new()),
            },
        }
    }

    async fn complete(&self, row: &Claimed, via: Via) -> anyhow::Result<()> {
        let id = if via.provider_id.is_empty() {
            format!("unidentified.{}", row.outbound_id)
        } else {
            via.provider_id
        };
        sqlx::query(
            "UPDATE whatsapp_outbound SET status = 'sent', provider_message_id = $2,
                    channel = $3, kind = $4, sent_at = now(), last_error = NULL,
                    sending_since = NULL
              WHERE outbound_id = $1",
        )
        .bind(row.outbound_id)
        .bind(&id)
        .bind(via.channel)
        .bind(via.kind)
        .execute(&self.cx.pool)
        .await?;
        tracing::info!(outbound_id = %row.outbound_id, channel = via.channel, kind = via.kind, "WhatsApp message sent");
        self.record(row.outbound_id).await
    }

    async fn retry(&self, row: &Claimed, after: Duration, error: &str) -> anyhow::Result<()> {
        tracing::warn!(outbound_id = %row.outbound_id, attempts = row.attempts, %error, "sending failed; will retry");
        sqlx::query(
            "UPDATE whatsapp_outbound SET last_error = $2,
                    next_attempt_at = now() + make_interval(secs => $3), sending_since = NULL
              WHERE outbound_id = $1",
        )
        .bind(row.outbound_id)
        .bind(error)
        .bind(after.as_secs_f64())
        .execute(&self.cx.pool)
        .await?;
        Ok(())
    }

    async fn give_up(&self, row: &Claimed, error: &str, via: Via) -> anyhow::Result<()> {
        tracing::warn!(outbound_id = %row.outbound_id, %error, "sending given up");
        sqlx::query(
            "UPDATE whatsapp_outbound SET status = 'failed', last_error = $2,
                    channel = $3, kind = $4, sending_since = NULL
              WHERE outbound_id = $1",
        )
        .bind(row.outbound_id)
        .bind(error)
        .bind(via.channel)
        .bind(via.kind)
        .execute(&self.cx.pool)
        .await?;
        self.record(row.outbound_id).await
    }
}

impl Outbound {
    /// Records the outcome of a settled row on its conversation.
    async fn record(&self, outbound_id: Uuid) -> anyhow::Result<()> {
        let row: Option<Settled> = sqlx::query_as(
            "SELECT tenant_id, conversation_id, status, provider_message_id, last_error
               FROM whatsapp_outbound WHERE outbound_id = $1 AND NOT recorded",
        )
        .bind(outbound_id)
        .fetch_optional(&self.cx.pool)
        .await?;
        let Some((tenant, conversation, status, provider_id, error)) = row else {
            return Ok(());
        };
        let command = match (status.as_str(), provider_id) {
            ("sent", Some(provider_message_id)) => ConversationCommand::RecordOutboundSent {
                outbound_id,
                provider_message_id,
            },
            ("failed", _) => ConversationCommand::RecordSendRefused {
                outbound_id,
                error: error.unwrap_or_else(|| "unknown error".into()),
            },
            _ => return Ok(()),
        };
        let md = CommandMetadata::new(Actor::system("whatsapp-sender"), Some(tenant))
            .with_idempotency_key(format!("outbound:{outbound_id}"));
        if let Err(e) = self
            .cx
            .bus
            .conversations
            .execute(&conversation.to_string(), command, &md)
            .await
        {
            // A refusal will not change on retry; anything else is tried again next round.
            if !matches!(e, commands::CommandError::Rejected { .. }) {
                tracing::warn!(%outbound_id, error = %e, "recording a send outcome failed; will retry");
                return Ok(());
            }
            tracing::error!(%outbound_id, error = %e, "the conversation refused a send outcome");
        }
        sqlx::query("UPDATE whatsapp_outbound SET recorded = true WHERE outbound_id = $1")
            .bind(outbound_id)
            .execute(&self.cx.pool)
            .await?;
        Ok(())
    }

    async fn record_pending_outcomes(&self) -> anyhow::Result<usize> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT outbound_id FROM whatsapp_outbound
              WHERE status <> 'pending' AND NOT recorded LIMIT 100",
        )
        .fetch_all(&self.cx.pool)
        .await?;
        for id in &ids {
            self.record(*id).await?;
        }
        Ok(0)
    }
}
