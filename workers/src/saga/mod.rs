//! The 24 h timeout saga (F8): a conversation handed to humans goes back to the AI after a
//! day without human activity.
//!
//! - [`SagaState`] (stream consumer `human_timeout_saga`) keeps one durable deadline per
//!   conversation in `saga_deadlines`: a hand-off (`ConfidenceLow`, `HumanRequested`) or a
//!   human reply sets it to the event's time + the timeout, an assignment moves it, an
//!   `AiResumed` or a resolution clears it. When the AI resumes on a timeout and no human
//!   had answered since the hand-off, it queues the "attendance pending" e-mail in the same
//!   transaction, so the mail goes out exactly once.
//! - The ticker ([`Saga::start`]) looks for passed deadlines on the saga's clock and asks the
//!   conversation to `ResumeAi { reason: Timeout }`; the sender then sends the tenant's
//!   return message (the `AiResumed` event names it by its `outbound_id`). The aggregate
//!   resumes only a handed-off conversation, so a deadline fired twice (two processes, a
//!   crash before marking it fired) still produces one `AiResumed`.
//!
//! Deadlines live in the database, so a restart between scheduling and expiry loses none.

mod state;

pub use state::SagaState;

use crate::mailer::PublicUrl;
use aggregates::{Clock, ConversationCommand};
use chrono::{DateTime, Utc};
use commands::CommandBus;
use rdkafka::error::KafkaError;
use schemas::events::ResumeReason;
use schemas::{Actor, CommandMetadata};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::EventSource;
use stream::{Runner, RunnerHandle, Tail};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How the saga behaves.
#[derive(Debug, Clone)]
pub struct SagaConfig {
    /// Time without human activity after which the AI resumes.
    pub timeout: chrono::Duration,
    /// How often passed deadlines are looked for.
    pub poll: Duration,
    /// The dashboard's base URL, for links in e-mails.
    pub public_url: PublicUrl,
}

impl Default for SagaConfig {
    fn default() -> Self {
        Self {
            timeout: chrono::Duration::hours(24),
            poll: Duration::from_secs(5),
            public_url: PublicUrl::default(),
        }
    }
}

/// The saga's ticker and its dependencies.
pub struct Saga {
    pool: PgPool,
    bus: Arc<CommandBus>,
    clock: Arc<dyn Clock>,
    config: SagaConfig,
}

/// The running ticker.
#[derive(Debug)]
pub struct TickerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TickerHandle {
    /// Stops and waits for the task.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl std::fmt::Debug for Saga {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saga")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Saga {
    /// A saga over `pool`, resuming conversations through `bus`, on `clock`.
    pub fn new(
        pool: PgPool,
        bus: Arc<CommandBus>,
        clock: Arc<dyn Clock>,
        config: SagaConfig,
    ) -> Self {
        Self {
            pool,
            bus,
            clock,
            config,
        }
    }

    /// Starts the stream consumer on `tail` and the ticker.
    pub fn start(self, tail: &Tail) -> (RunnerHandle, TickerHandle) {
        let state = SagaState::new(self.config.timeout, self.config.public_url.clone());
        let runner = Runner::spawn(state, tail.clone());
        (runner, self.tick())
    }

    /// [`Saga::start`] on `source` (the tail or Kafka).
    pub fn start_on(
        self,
        source: &EventSource,
    ) -> Result<(RunnerHandle, TickerHandle), KafkaError> {
        let state = SagaState::new(self.config.timeout, self.config.public_url.clone());
        let runner = source.spawn(Arc::new(state))?;
        Ok((runner, self.tick()))
    }

    fn tick(self) -> TickerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let poll = self.config.poll;
        let task = tokio::spawn(async move {
            loop {
                if *stopped.borrow() {
                    return;
                }
                if let Err(e) = self.fire_due().await {
                    tracing::warn!(error = %e, "the timeout saga could not read its deadlines");
                }
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        });
        TickerHandle { stop, task }
    }

    /// Resumes the AI in every conversation whose deadline has passed; returns how many
    /// deadlines it fired.
    #[tracing::instrument(name = "firing passed human-timeout deadlines", skip_all)]
    pub async fn fire_due(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let due: Vec<(String, Uuid, DateTime<Utc>)> = sqlx::query_as(
            "SELECT conversation_id, tenant_id, due_at FROM saga_deadlines
              WHERE due_at <= $1 AND fired_for IS DISTINCT FROM due_at
              ORDER BY due_at LIMIT 100",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut fired = 0;
        for (conversation, tenant, due_at) in due {
            match self.fire(&conversation, tenant, due_at, now).await {
                Firing::Fired => fired += 1,
                Firing::Moot => {}
                // Left due: the next poll tries again.
                Firing::Failed => continue,
            }
            sqlx::query(
                "UPDATE saga_deadlines SET fired_for = due_at
                  WHERE conversation_id = $1 AND due_at = $2",
            )
            .bind(&conversation)
            .bind(due_at)
            .execute(&self.pool)
            .await?;
        }
        Ok(fired)
    }

    /// Asks the conversation to resume the AI, unless a human was active since the deadline
    /// was set (the consumer has not seen it yet and will move the deadline).
    async fn fire(
        &self,
        conversation: &str,
        tenant: Uuid,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Firing {
        match self.bus.conversations.load(conversation).await {
            Ok((c, _)) => {
                let last = c.last_human_activity_at().max(c.handed_off_at());
                if last.is_some_and(|t| t + self.config.timeout > now) {
                    return Firing::Moot;
                }
            }
            Err(e) => {
                tracing::warn!(%conversation, error = %e, "the conversation could not be loaded");
                return Firing::Failed;
            }
        }
        let metadata = CommandMetadata::new(Actor::system("timeout-saga"), Some(tenant))
            .with_idempotency_key(format!("timeout:{conversation}:{}", due_at.to_rfc3339()));
        let command = ConversationCommand::ResumeAi {
            reason: ResumeReason::Timeout,
        };
        match self
            .bus
            .conversations
            .execute(conversation, command, &metadata)
            .await
        {
            Ok(()) => {
                tracing::info!(%conversation, "the AI resumed after the human timeout");
                Firing::Fired
            }
            Err(e)
                if matches!(
                    e.code(),
                    "internal" | "concurrent_modification" | "service_unavailable"
                ) =>
            {
                tracing::warn!(%conversation, error = %e, "the AI could not resume; retrying");
                Firing::Failed
            }
            // A rule refused it (a suspended tenant): retrying would not change that.
            Err(e) => {
                tracing::info!(%conversation, code = e.code(), "the AI does not resume");
                Firing::Moot
            }
        }
    }
}

/// What firing one deadline did.
enum Firing {
    /// The AI was asked to resume.
    Fired,
    /// Nothing to do for this deadline (human activity since, or a rule refused).
    Moot,
    /// A transient failure; the deadline stays due.
    Failed,
}
