//! The `support_ai` consumer.

use super::{AI_ANSWER_MIN_CONFIDENCE, PLATFORM_KNOWLEDGE};
use crate::knowledge::RetrievedChunk;
use crate::knowledge::Retriever;
use crate::responder::cache::{self, CachedAnswer, NewEntry};
use crate::responder::confidence::normalize;
use crate::responder::decision::judge;
use crate::responder::llm::{system_prompt, Models, Prompt, Turn, EXTRACTIVE};
use aggregates::{ErrorKind, TicketCommand};
use chrono::Utc;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandError};
use schemas::events::Tone;
use schemas::personal::{open_json, sealed_key_ids};
use schemas::{Actor, CommandMetadata, StoredEvent};
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::PgPool;
use std::fmt;
use std::sync::Arc;
use stream::{EventHandler, HandlerError};
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
    /// The responder's providers: with none configured the answer is extractive.
    models: Models,
    /// The response cache's pool and how long an answer stays in it.
    cache: Option<(PgPool, chrono::Duration)>,
}

/// What the AI did about one message, for `support_ai_runs`.
struct Judged {
    outcome: Outcome,
    confidence: f64,
    mode: String,
    tokens: i32,
}

impl Judged {
    fn skipped(confidence: f64) -> Self {
        Self {
            outcome: Outcome::Skipped,
            confidence,
            mode: EXTRACTIVE.to_owned(),
            tokens: 0,
        }
    }
}

/// How an answer was written, for `support_ai_runs`: the model (or `extractive`, or
/// `cache`) and its tokens.
struct Written {
    text: String,
    mode: String,
    tokens: i32,
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
            models: Models::new(Vec::new(), std::time::Duration::from_secs(1)),
            cache: None,
        }
    }

    /// Writes answers with `models` (the responder's provider chain), caching them in
    /// `pool` for `ttl` as the responder does.
    pub fn with_models(mut self, models: Models, pool: PgPool, ttl: chrono::Duration) -> Self {
        self.models = models;
        self.cache = Some((pool, ttl));
        self
    }

    /// The answer to `question` from `passages`: the extractive one without a model;
    /// otherwise the cached or the model's answer, `None` when every provider failed (the
    /// ticket then goes to the admins, as the responder hands a conversation over).
    async fn write(
        &self,
        question: &str,
        passages: &[RetrievedChunk],
        extract: String,
    ) -> Option<Written> {
        let (Some((pool, ttl)), true) = (&self.cache, self.models.is_configured()) else {
            return Some(Written {
                text: extract,
                mode: EXTRACTIVE.to_owned(),
                tokens: 0,
            });
        };
        // Version 0: the platform knowledge has no aggregate version, and the key already
        // holds every passage's text, so a changed knowledge never hits an old answer.
        let key = cache::cache_key(PLATFORM_KNOWLEDGE, 0, &normalize(question), passages);
        match cache::lookup(pool, &key, Utc::now()).await {
            Ok(Some(hit)) => {
                return Some(Written {
                    text: hit.answer,
                    mode: "cache".to_owned(),
                    tokens: 0,
                })
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the response cache could not be read"),
        }
        let prompt = Prompt {
            system: system_prompt("atende", Tone::Formal, passages),
            turns: vec![Turn::Customer(question.to_owned())],
        };
        let completion = match self.models.complete(&prompt).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e.0, "no model answered the ticket; handing it to the admins");
                return None;
            }
        };
        let cached = CachedAnswer {
            answer: completion.text.clone(),
            model: completion.model.clone(),
            sources: passages.iter().map(|c| c.chunk_id.clone()).collect(),
        };
        let entry = NewEntry {
            key: &key,
            tenant: PLATFORM_KNOWLEDGE,
            version: 0,
            answer: &cached,
            confidence: 1.0,
        };
        if let Err(e) = cache::store(pool, &entry, Utc::now(), *ttl).await {
            tracing::warn!(error = %e, "the answer could not be cached");
        }
        Some(Written {
            text: completion.text,
            mode: completion.model,
            tokens: i32::try_from(
                u64::from(completion.tokens_in) + u64::from(completion.tokens_out),
            )
            .unwrap_or(i32::MAX),
        })
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
    ) -> Result<Judged, HandlerError> {
        let id = &event.aggregate_id;
        let (ticket, _) = self.bus.tickets.load(id).await.map_err(rejected)?;
        let Some(tenant) = ticket.tenant_id() else {
            return Ok(Judged::skipped(0.0));
        };
        if !ticket.ai_may_answer() || ticket.status() == schemas::events::TicketStatus::Closed {
            return Ok(Judged::skipped(0.0));
        }
        let key = format!("{CONSUMER}:{id}:{}", event.sequence);
        if self.already_recorded(db, &key, id).await {
            return Ok(Judged::skipped(0.0));
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
        let written = match judgement.answer {
            Some(extract) if confidence > AI_ANSWER_MIN_CONFIDENCE => {
                self.write(&question, &judgement.passages, extract).await
            }
            _ => None,
        };
        let (mode, tokens) = written
            .as_ref()
            .map_or((EXTRACTIVE.to_owned(), 0), |w| (w.mode.clone(), w.tokens));
        let (outcome, command) = match written {
            Some(Written { text, .. }) => (
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
            None => (Outcome::HandedOff, TicketCommand::AwaitAdmin),
        };
        let md =
            CommandMetadata::new(Actor::system(CONSUMER), Some(tenant)).with_idempotency_key(key);
        match self.bus.tickets.execute(id, command, &md).await {
            Ok(()) => Ok(Judged {
                outcome,
                confidence,
                mode,
                tokens,
            }),
            // An admin took the ticket or it was closed meanwhile: the AI keeps quiet.
            Err(CommandError::Rejected {
                kind: ErrorKind::Conflict,
                ..
            }) => Ok(Judged::skipped(confidence)),
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
        let Judged {
            outcome,
            confidence,
            mode,
            tokens,
        } = self.judge(db, event).await?;
        tracing::info!(
            outcome = outcome.as_str(),
            confidence,
            "the support AI judged a ticket message"
        );
        sqlx::query(
            "INSERT INTO support_ai_runs (ticket_id, sequence, outcome, confidence, mode, tokens, at)
             VALUES ($1, $2, $3, $4, $5, $6, now())
             ON CONFLICT (ticket_id, sequence) DO NOTHING",
        )
        .bind(ticket)
        .bind(event.sequence)
        .bind(outcome.as_str())
        .bind(confidence)
        .bind(&mode)
        .bind(tokens)
        .execute(db)
        .await?;
        Ok(())
    }
}
