//! The `support_ai` consumer.

use super::{AI_ANSWER_MIN_CONFIDENCE, PLATFORM_KNOWLEDGE};
use crate::knowledge::Retriever;
use crate::responder::decision::judge;
use aggregates::{ErrorKind, TicketCommand};
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandError};
use projections::{EventHandler, HandlerError};
use schemas::personal::{open_json, sealed_key_ids};
use schemas::{Actor, CommandMetadata, StoredEvent};
use serde_json::Value;
use sqlx::PgConnection;
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

/// Consumer name (its checkpoint) and the actor of its commands.
pub const CONSUMER: &str = "support_ai";

/// How many passages are retrieved per question.
const TOP_K: usize = 4;

/// Answers tickets from the platform knowledge, or hands them to admins.
///
/// Each tenant message is judged once: `support_ai_runs` is written in the checkpoint's
/// transaction, and the command carries an idempotency key naming the message that is
/// looked for first, so a crash between the command and the checkpoint never answers twice.
pub struct SupportAi {
    bus: Arc<CommandBus>,
    keys: Arc<KeyRing>,
    retriever: Arc<dyn Retriever>,
}

impl fmt::Debug for SupportAi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupportAi").finish_non_exhaustive()
    }
}

/// What the AI did about one tenant message.
enum Outcome {
    Answered,
    HandedOff,
    Skipped,
}

impl Outcome {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::HandedOff => "handed_off",
            Self::Skipped => "skipped",
        }
    }
}

fn rejected(e: impl fmt::Display) -> HandlerError {
    HandlerError::Rejected(e.to_string())
}

impl SupportAi {
    /// A support AI recording through `bus`, opening texts with `keys` and retrieving with
    /// `retriever`.
    pub fn new(bus: Arc<CommandBus>, keys: Arc<KeyRing>, retriever: Arc<dyn Retriever>) -> Self {
        Self {
            bus,
            keys,
            retriever,
        }
    }

    /// The question in clear: the subject and request of a new ticket, or the message.
    async fn question(&self, event: &StoredEvent) -> Result<String, HandlerError> {
        let mut body = event
            .payload
            .get(&event.event_type)
            .cloned()
            .ok_or_else(|| rejected("a ticket event without a body"))?;
        let mut ids = Vec::new();
        sealed_key_ids(&body, &mut ids);
        if !ids.is_empty() {
            let keys = self.keys.keys(&ids).await.map_err(rejected)?;
            open_json(&mut body, &keys);
        }
        let part = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
        Ok(if event.event_type == "TicketOpened" {
            format!("{}\n{}", part("subject"), part("description"))
        } else {
            part("text").to_owned()
        })
    }

    async fn already_recorded(&self, db: &mut PgConnection, key: &str, ticket: &str) -> bool {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = 'ticket'
                 AND aggregate_id = $1 AND metadata->>'idempotency_key' = $2)",
        )
        .bind(ticket)
        .bind(key)
        .fetch_one(db)
        .await
        .unwrap_or(false)
    }

    #[tracing::instrument(name = "the support AI judges a tenant's message", skip_all,
        fields(ticket = %event.aggregate_id, sequence = event.sequence))]
    async fn judge(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(Outcome, f64), HandlerError> {
        let id = &event.aggregate_id;
        let (ticket, _) = self.bus.tickets.load(id).await.map_err(rejected)?;
        let Some(tenant) = ticket.tenant_id() else {
            return Ok((Outcome::Skipped, 0.0));
        };
        if !ticket.ai_may_answer() || ticket.status() == schemas::events::TicketStatus::Closed {
            return Ok((Outcome::Skipped, 0.0));
        }
        let key = format!("{CONSUMER}:{id}:{}", event.sequence);
        if self.already_recorded(db, &key, id).await {
            return Ok((Outcome::Skipped, 0.0));
        }
        let question = self.question(event).await?;
        // The same decision as the WhatsApp responder's, at the support AI's own bar.
        let judgement = judge(
            self.retriever.as_ref(),
            PLATFORM_KNOWLEDGE,
            &question,
            AI_ANSWER_MIN_CONFIDENCE,
            TOP_K,
        )
        .await;
        let confidence = judgement.confidence;
        let (outcome, command) = match judgement.answer {
            Some(text) if confidence > AI_ANSWER_MIN_CONFIDENCE => (
                Outcome::Answered,
                TicketCommand::RecordAiAnswer {
                    text: text.into(),
                    confidence,
                    sources: judgement
                        .passages
                        .iter()
                        .map(|c| c.chunk_id.clone())
                        .collect(),
                },
            ),
            _ => (Outcome::HandedOff, TicketCommand::AwaitAdmin),
        };
        let md =
            CommandMetadata::new(Actor::system(CONSUMER), Some(tenant)).with_idempotency_key(key);
        match self.bus.tickets.execute(id, command, &md).await {
            Ok(()) => Ok((outcome, confidence)),
            // An admin took the ticket or it was closed meanwhile: the AI keeps quiet.
            Err(CommandError::Rejected {
                kind: ErrorKind::Conflict,
                ..
            }) => Ok((Outcome::Skipped, confidence)),
            Err(e) => Err(rejected(format!("ticket command failed: {e}"))),
        }
    }
}

/// Whether `event` is a tenant's question: a new ticket or a tenant's message.
fn is_question(event: &StoredEvent) -> bool {
    match event.event_type.as_str() {
        "TicketOpened" => true,
        "TicketMessageAdded" => {
            event
                .payload
                .pointer("/TicketMessageAdded/author_kind")
                .and_then(Value::as_str)
                == Some("tenant")
        }
        _ => false,
    }
}

#[async_trait::async_trait]
impl EventHandler for SupportAi {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["ticket"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "ticket" && is_question(event)
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if !self.wants(event) {
            return Ok(());
        }
        let ticket = Uuid::parse_str(&event.aggregate_id).map_err(rejected)?;
        let done: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM support_ai_runs WHERE ticket_id = $1 AND sequence = $2)",
        )
        .bind(ticket)
        .bind(event.sequence)
        .fetch_one(&mut *db)
        .await?;
        if done {
            return Ok(());
        }
        let (outcome, confidence) = self.judge(db, event).await?;
        tracing::info!(
            outcome = outcome.as_str(),
            confidence,
            "the support AI judged a ticket message"
        );
        sqlx::query(
            "INSERT INTO support_ai_runs (ticket_id, sequence, outcome, confidence, mode, tokens, at)
             VALUES ($1, $2, $3, $4, 'extractive', 0, now())
             ON CONFLICT (ticket_id, sequence) DO NOTHING",
        )
        .bind(ticket)
        .bind(event.sequence)
        .bind(outcome.as_str())
        .bind(confidence)
        .execute(db)
        .await?;
        Ok(())
    }
}
