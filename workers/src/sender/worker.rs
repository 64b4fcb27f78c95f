//! The sending loop.

use super::deliver::{Claimed, Context, Outcome};
use super::NOTIFY_CHANNEL;
use aggregates::{Clock, ConversationCommand};
use commands::privacy::KeyRing;
use commands::whatsapp::ChannelStore;
use commands::CommandBus;
use integrations::whatsapp::graph::Attempt;
use schemas::{Actor, CommandMetadata};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
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
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        self.retry_base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.retry_max)
    }
}

/// Sends the queued WhatsApp messages.
#[derive(Debug, Clone)]
pub struct Sender {
    cx: Context,
}

/// A running sender; [`SenderHandle::stop`] ends it after the message being sent.
#[derive(Debug)]
pub struct SenderHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SenderHandle {
    /// Stops the loop and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

const CLAIM_BATCH: i64 = 20;

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
        Ok(Self {
            cx: Context {
                pool,
                bus,
                keys,
                clock,
                channels,
                http,
                config,
            },
        })
    }

    /// Runs the loop in the background.
    pub fn spawn(self) -> SenderHandle {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut listener = PgListener::connect_with(&self.cx.pool).await.ok();
            if let Some(l) = listener.as_mut() {
                if l.listen(NOTIFY_CHANNEL).await.is_err() {
                    listener = None;
                }
            }
            loop {
                if *stopped.borrow() {
                    return;
                }
                let busy = match self.run_once().await {
                    Ok(n) => n > 0,
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "the WhatsApp sender failed a round");
                        false
                    }
                };
                if busy {
                    continue;
                }
                let wait = self.cx.config.poll_interval;
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = async {
                        match listener.as_mut() {
                            Some(l) => { let _ = tokio::time::timeout(wait, l.recv()).await; }
                            None => tokio::time::sleep(wait).await,
                        }
                    } => {}
                }
            }
        });
        SenderHandle { stop, task }
    }

    /// Records outcomes not yet on their conversation, then sends the due messages; returns
    /// how many rows it handled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let recorded = self.record_pending_outcomes().await?;
        let lease = self.cx.config.lease.as_secs_f64();
        let claimed: Vec<Claimed> = sqlx::query_as(
            "UPDATE whatsapp_outbound SET attempts = attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $1)
              WHERE outbound_id IN (
                    SELECT outbound_id FROM whatsapp_outbound
                     WHERE status = 'pending' AND next_attempt_at <= now()
                     ORDER BY position LIMIT $2 FOR UPDATE SKIP LOCKED)
              RETURNING outbound_id, tenant_id, conversation_id, purpose, body, attempts, position",
        )
        .bind(lease)
        .bind(CLAIM_BATCH)
        .fetch_all(&self.cx.pool)
        .await?;
        let mut claimed = claimed;
        // One conversation's messages go out in the order they were asked for.
        claimed.sort_by_key(|c| c.position);
        for row in &claimed {
            let outcome = match self.cx.deliver(row).await {
                Ok(o) => o,
                Err(e) => Outcome {
                    attempt: Attempt::Retry(format!("{e:#}")),
                    channel: "none",
                    kind: "text",
                },
            };
            self.settle(row, outcome).await?;
        }
        Ok(recorded + claimed.len())
    }

    async fn settle(&self, row: &Claimed, outcome: Outcome) -> anyhow::Result<()> {
        match outcome.attempt {
            Attempt::Sent(id) => {
                let id = if id.is_empty() {
                    format!("unidentified.{}", row.outbound_id)
                } else {
                    id
                };
                sqlx::query(
                    "UPDATE whatsapp_outbound SET status = 'sent', provider_message_id = $2,
                            channel = $3, kind = $4, sent_at = now(), last_error = NULL
                      WHERE outbound_id = $1",
                )
                .bind(row.outbound_id)
                .bind(&id)
                .bind(outcome.channel)
                .bind(outcome.kind)
                .execute(&self.cx.pool)
                .await?;
                tracing::info!(outbound_id = %row.outbound_id, channel = outcome.channel, kind = outcome.kind, "WhatsApp message sent");
            }
            Attempt::Retry(error) if row.attempts < self.cx.config.max_attempts => {
                let wait = self.cx.config.backoff(row.attempts).as_secs_f64();
                tracing::warn!(outbound_id = %row.outbound_id, attempts = row.attempts, %error, "sending failed; will retry");
                sqlx::query(
                    "UPDATE whatsapp_outbound SET last_error = $2,
                            next_attempt_at = now() + make_interval(secs => $3)
                      WHERE outbound_id = $1",
                )
                .bind(row.outbound_id)
                .bind(&error)
                .bind(wait)
                .execute(&self.cx.pool)
                .await?;
                return Ok(());
            }
            Attempt::Retry(error) | Attempt::Refused(error) => {
                tracing::warn!(outbound_id = %row.outbound_id, %error, "sending given up");
                sqlx::query(
                    "UPDATE whatsapp_outbound SET status = 'failed', last_error = $2,
                            channel = $3, kind = $4
                      WHERE outbound_id = $1",
                )
                .bind(row.outbound_id)
                .bind(&error)
                .bind(outcome.channel)
                .bind(outcome.kind)
                .execute(&self.cx.pool)
                .await?;
            }
        }
        self.record(row.outbound_id).await
    }

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
