//! The scheduler: claims bursts whose window has passed, decides, records the outcome.

use super::answer::{Outcome, Standing};
use super::memory;
use super::state::{answer_key, NOTIFY_CHANNEL};
use super::Responder;
use crate::jobs::{Attempt, Backoff, JobRunner, Queue, RunnerConfig};
use aggregates::ConversationCommand;
use chrono::{DateTime, Utc};
use schemas::{Actor, CommandMetadata, Personal};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use stream::Handle;
use uuid::Uuid;

/// How many bursts one pass claims (and answers concurrently).
const CLAIM_BATCH: usize = 16;

/// A burst claimed for answering.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Burst {
    conversation_id: String,
    tenant_id: Uuid,
    answered_through: i64,
    pending_through: i64,
    correlation_id: Option<Uuid>,
    causation_id: Option<Uuid>,
}

/// A burst with its tenant's standing (none: it could not be loaded).
struct Claimed {
    burst: Burst,
    standing: Option<Arc<TenantStanding>>,
}

/// A failed burst is tried again after this long.
const RETRY_AFTER: Duration = Duration::from_secs(30);

pub(super) fn spawn(responder: Arc<Responder>) -> Handle {
    let config = RunnerConfig {
        channel: Some(NOTIFY_CHANNEL),
        poll_interval: responder.config.poll,
        wait_first: false,
        batch_size: CLAIM_BATCH,
        // A claim's bursts are answered together: most of the time is the models'.
        concurrency: CLAIM_BATCH,
        lease: responder.lease(),
        backoff: Backoff {
            base: RETRY_AFTER,
            max: RETRY_AFTER,
        },
        // A burst is an answer a customer waits for: never given up.
        max_attempts: None,
    };
    let pool = responder.pool.clone();
    JobRunner::new(Arc::new(Bursts(responder)), pool, config).spawn()
}

/// `ai_conversations`' due bursts as a job queue.
#[derive(Debug)]
struct Bursts(Arc<Responder>);

impl std::ops::Deref for Bursts {
    type Target = Responder;

    fn deref(&self) -> &Responder {
        &self.0
    }
}

#[async_trait::async_trait]
impl Queue for Bursts {
    type Job = Claimed;
    type Output = ();
    type Error = sqlx::Error;

    fn name(&self) -> &'static str {
        "ai_conversations"
    }

    /// Claims due bursts, with their tenants' standings.
    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = self.clock.now();
        let bursts: Vec<Burst> = sqlx::query_as(
            "UPDATE ai_conversations SET leased_until = $2 + $3::interval
              WHERE conversation_id IN (
                  SELECT conversation_id FROM ai_conversations
                   WHERE pending_through IS NOT NULL AND due_at <= $2
                     AND (leased_until IS NULL OR leased_until <= $2)
                   ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
              RETURNING conversation_id, tenant_id, answered_through, pending_through,
                        correlation_id, causation_id",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(now)
        .bind(format!("{} seconds", lease.as_secs()))
        .fetch_all(&self.pool)
        .await?;
        // Once per tenant per claim, not per burst: under load most of a claim is one
        // tenant's conversations.
        let mut standings: HashMap<Uuid, Option<Arc<TenantStanding>>> = HashMap::new();
        for tenant in bursts.iter().map(|b| b.tenant_id) {
            if let Entry::Vacant(slot) = standings.entry(tenant) {
                let standing = match self.standing(tenant).await {
                    Ok(s) => Some(Arc::new(s)),
                    Err(e) => {
                        tracing::warn!(error = %e, %tenant, "loading the tenant failed; its bursts will be retried");
                        None
                    }
                };
                slot.insert(standing);
            }
        }
        Ok(bursts
            .into_iter()
            .map(|burst| Claimed {
                standing: standings.get(&burst.tenant_id).cloned().flatten(),
                burst,
            })
            .collect())
    }

    /// Bursts are not counted: they are retried until answered.
    fn attempt(&self, _: &Claimed) -> u32 {
        1
    }

    async fn run(&self, claimed: &Claimed) -> Attempt<()> {
        self.answer(&claimed.burst, claimed.standing.as_deref())
            .await
    }

    async fn complete(&self, claimed: &Claimed, (): ()) -> Result<(), sqlx::Error> {
        self.release(&claimed.burst, None).await;
        Ok(())
    }

    /// A claim's bursts are answered at once; their leases go in one statement.
    fn completes_together(&self) -> bool {
        true
    }

    async fn complete_all(&self, done: Vec<(&Claimed, ())>) -> Result<(), sqlx::Error> {
        let bursts: Vec<&Burst> = done.iter().map(|(c, ())| &c.burst).collect();
        self.release_answered(&bursts).await;
        Ok(())
    }

    async fn retry(&self, claimed: &Claimed, after: Duration, _: &str) -> Result<(), sqlx::Error> {
        self.release(&claimed.burst, Some(after)).await;
        Ok(())
    }

    /// Never called: bursts are not given up.
    async fn give_up(&self, claimed: &Claimed, _: &str, (): ()) -> Result<(), sqlx::Error> {
        self.release(&claimed.burst, Some(RETRY_AFTER)).await;
        Ok(())
    }

    /// Until the next burst is due.
    async fn next_due(&self) -> Option<Duration> {
        let next: Result<Option<DateTime<Utc>>, _> = sqlx::query_scalar(
            "SELECT min(GREATEST(due_at, COALESCE(leased_until, due_at))) FROM ai_conversations
              WHERE pending_through IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await;
        match next {
            Ok(Some(at)) => Some((at - self.clock.now()).to_std().unwrap_or_default()),
            _ => None,
        }
    }
}

/// A tenant's standing, or why the AI does not answer it now.
type TenantStanding = Result<Standing, &'static str>;

impl Responder {
    fn lease(&self) -> Duration {
        let per_provider = self.config.provider_timeout * (self.config.providers.len() as u32);
        per_provider + Duration::from_secs(60)
    }

    #[tracing::instrument(
        name = "answering a burst of customer messages",
        skip_all,
        fields(conversation = %burst.conversation_id, through = burst.pending_through)
    )]
    async fn answer(&self, burst: &Burst, standing: Option<&TenantStanding>) -> Attempt<()> {
        let Some(standing) = standing else {
            return Attempt::Transient {
                error: "the tenant could not be loaded".into(),
                output: (),
            };
        };
        let key = answer_key(&burst.conversation_id, burst.pending_through);
        match self.answer_burst(burst, standing, &key).await {
            Ok(()) => Attempt::Done(()),
            Err(e) => {
                tracing::warn!(error = %e, "the burst could not be answered; it will be retried");
                Attempt::Transient {
                    error: format!("{e:#}"),
                    output: (),
                }
            }
        }
    }

    async fn answer_burst(
        &self,
        burst: &Burst,
        standing: &TenantStanding,
        key: &str,
    ) -> anyhow::Result<()> {
        let standing = match standing {
            Ok(standing) => standing,
            Err(why) => {
                tracing::debug!(why, "the AI does not answer this tenant now");
                return Ok(());
            }
        };
        let recorded: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = 'conversation'
                 AND aggregate_id = $1 AND metadata->>'idempotency_key' = $2)",
        )
        .bind(&burst.conversation_id)
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        if recorded {
            tracing::info!("the burst was already answered");
            return Ok(());
        }
        let memory = memory::load(&self.pool, &self.keys, &burst.conversation_id).await?;
        let memory: Vec<_> = memory
            .into_iter()
            .filter(|m| m.position <= burst.pending_through)
            .collect();
        let outcome = self
            .decide(burst.tenant_id, standing, &memory, burst.answered_through)
            .await?;
        let command = match outcome.clone() {
            Outcome::Reply {
                text,
                confidence,
                sources,
                model,
                tokens_in,
                tokens_out,
                run,
            } => ConversationCommand::RecordAiReply {
                text: Personal::from(text),
                confidence,
                sources,
                model,
                tokens_in,
                tokens_out,
                run: Some(run),
            },
            Outcome::Handoff {
                confidence,
                reason,
                question,
            } => ConversationCommand::RecordLowConfidence {
                confidence,
                question: Personal::from(question),
                reason: Some(reason),
            },
            Outcome::HumanRequested { question } => ConversationCommand::RequestHuman {
                question: Personal::from(question),
            },
        };
        if burst.answered_through == 0 {
            self.greet(burst, standing).await?;
        }
        let metadata = self.metadata(burst, key);
        match self
            .bus
            .conversations
            .execute(&burst.conversation_id, command, &metadata)
            .await
        {
            Ok(()) => super::metrics::record(&outcome),
            // A human took over (or the tenant was suspended) while the AI was thinking.
            Err(e)
                if matches!(
                    e.code(),
                    "ai_not_allowed" | "conversation_resolved" | "tenant_suspended"
                ) =>
            {
                tracing::info!(code = e.code(), "the conversation is no longer the AI's");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Records the tenant's greeting before the first answer of a new conversation (none
    /// when the greeting setting is blank); the conversation itself refuses a second one.
    /// The greeting is the one of the tenant as loaded for the claim (not loaded again for
    /// every new conversation).
    async fn greet(&self, burst: &Burst, standing: &Standing) -> anyhow::Result<()> {
        if standing.greeting().trim().is_empty() {
            return Ok(());
        }
        let key = format!("greeting:{}", burst.conversation_id);
        let metadata = self.metadata(burst, &key);
        match self
            .bus
            .conversations
            .execute(
                &burst.conversation_id,
                ConversationCommand::Greet,
                &metadata,
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if matches!(e.code(), "conversation_resolved" | "tenant_suspended") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn metadata(&self, burst: &Burst, key: &str) -> CommandMetadata {
        let mut md = CommandMetadata::new(Actor::system("ai-responder"), Some(burst.tenant_id))
            .with_idempotency_key(key);
        if let Some(c) = burst.correlation_id {
            md.correlation_id = c;
        }
        if let Some(c) = burst.causation_id {
            md.causation_id = c;
        }
        md
    }

    /// Lets go of answered (or deliberately unanswered) bursts, in one statement.
    async fn release_answered(&self, bursts: &[&Burst]) {
        let mut bursts = bursts.to_vec();
        // One lock order, as the stream consumer locks these rows.
        bursts.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
        let ids: Vec<&str> = bursts.iter().map(|b| b.conversation_id.as_str()).collect();
        let through: Vec<i64> = bursts.iter().map(|b| b.pending_through).collect();
        let result = sqlx::query(
            "UPDATE ai_conversations a SET leased_until = NULL,
                 answered_through = GREATEST(a.answered_through, d.through),
                 due_at = CASE WHEN a.pending_through <= d.through THEN NULL ELSE a.due_at END,
                 pending_through = CASE WHEN a.pending_through <= d.through THEN NULL
                                        ELSE a.pending_through END
               FROM unnest($1::text[], $2::bigint[]) AS d(conversation_id, through)
              WHERE a.conversation_id = d.conversation_id",
        )
        .bind(&ids)
        .bind(&through)
        .execute(&self.pool)
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "the bursts' leases could not be released; they expire");
        }
    }

    /// Lets go of the burst: answered (or deliberately left unanswered) without `retry`,
    /// else retried after that pause.
    async fn release(&self, burst: &Burst, retry: Option<Duration>) {
        let result = if let Some(after) = retry {
            sqlx::query("UPDATE ai_conversations SET leased_until = $2 WHERE conversation_id = $1")
                .bind(&burst.conversation_id)
                .bind(
                    self.clock.now()
                        + chrono::Duration::from_std(after)
                            .unwrap_or(chrono::Duration::seconds(30)),
                )
                .execute(&self.pool)
                .await
        } else {
            sqlx::query(
                "UPDATE ai_conversations SET leased_until = NULL,
                     answered_through = GREATEST(answered_through, $2),
                     due_at = CASE WHEN pending_through <= $2 THEN NULL ELSE due_at END,
                     pending_through = CASE WHEN pending_through <= $2 THEN NULL
                                            ELSE pending_through END
                  WHERE conversation_id = $1",
            )
            .bind(&burst.conversation_id)
            .bind(burst.pending_through)
            .execute(&self.pool)
            .await
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "the burst's lease could not be released; it expires");
        }
    }
}
