//! The AI responder (F4–F6, F12–F16): answers customers from the tenant's knowledge, or
//! hands the conversation to a human.
//!
//! Two parts, so that answering never holds the event stream back:
//!
//! - [`ResponderState`], a stream consumer (`ai_responder`), keeps per conversation who is
//!   answering, the burst of customer messages waiting for an answer and the last
//!   [`MEMORY_MESSAGES`] messages (sealed as in the events), records every answer for the
//!   limits, and queues the hand-off e-mail, all in the runner's transaction.
//! - The scheduler ([`Responder::start`]) claims bursts whose window has passed (a lease, so
//!   several processes can run it), decides, calls the models, and records `AiReplied`,
//!   `ConfidenceLow` or `HumanRequested` with an idempotency key naming the burst
//!   (`ai-answer:<conversation>:<last message position>`). Before recording it looks for
//!   that key in the conversation's events, so a crash after recording, a redelivery or a
//!   replay never answers twice.

mod answer;
pub mod cache;
mod limits;
mod memory;
// Answers, hand-offs, tokens and cost for /metrics (issue 19).
pub mod metrics;
pub(crate) mod notify;
mod scheduler;
mod state;

// The responder's configuration names the models it calls.
pub use integrations::llm::{Models, Provider};
pub use knowledge::decision::default_keywords;
pub use limits::Limits;
pub use state::{ResponderState, NOTIFY_CHANNEL};

use aggregates::Clock;
use commands::privacy::KeyRing;
use commands::CommandBus;
use integrations::mailer::PublicUrl;
use knowledge::Retriever;
use rdkafka::error::KafkaError;
use schemas::plans::Pricing;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::EventSource;
use stream::{Handle, Runner, Tail};

/// How many of the latest messages the model sees (F6).
pub const MEMORY_MESSAGES: usize = 10;

/// How the responder behaves.
#[derive(Debug, Clone)]
pub struct ResponderConfig {
    /// How long after a customer's last message the answer waits for more (F5).
    pub burst: Duration,
    /// The model providers, tried in order (F13); empty: extractive answers.
    pub providers: Vec<Provider>,
    /// How long each provider gets to answer.
    pub provider_timeout: Duration,
    /// Words with which a customer asks for a person.
    pub handoff_keywords: Vec<String>,
    /// Usage limits every tenant has (F15).
    pub limits: Limits,
    /// How many passages are retrieved.
    pub top_k: usize,
    /// How long a cached answer is served (F14).
    pub cache_ttl: chrono::Duration,
    /// How often the scheduler looks for due bursts when not woken.
    pub poll: Duration,
    /// The dashboard's base URL, for links in e-mails.
    pub public_url: PublicUrl,
    /// Plans (the AI message quota) and model prices (the cost of answers).
    pub pricing: Pricing,
}

impl Default for ResponderConfig {
    fn default() -> Self {
        Self {
            burst: Duration::from_secs(3),
            providers: Vec::new(),
            provider_timeout: Duration::from_secs(20),
            handoff_keywords: default_keywords(),
            limits: Limits::default(),
            top_k: knowledge::decision::DEFAULT_TOP_K,
            cache_ttl: chrono::Duration::days(7),
            poll: Duration::from_secs(1),
            public_url: PublicUrl::default(),
            pricing: Pricing::default(),
        }
    }
}

/// Everything the scheduler needs.
pub struct Responder {
    pool: PgPool,
    bus: Arc<CommandBus>,
    keys: Arc<KeyRing>,
    retriever: Arc<dyn Retriever>,
    clock: Arc<dyn Clock>,
    models: Models,
    config: ResponderConfig,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("models", &self.models)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// A responder over `pool`, recording through `bus`, opening memory with `keys` and
    /// retrieving with `retriever`.
    pub fn new(
        pool: PgPool,
        bus: Arc<CommandBus>,
        keys: Arc<KeyRing>,
        retriever: Arc<dyn Retriever>,
        clock: Arc<dyn Clock>,
        config: ResponderConfig,
    ) -> Self {
        let models = Models::new(config.providers.clone(), config.provider_timeout);
        Self {
            pool,
            bus,
            keys,
            retriever,
            clock,
            models,
            config,
        }
    }

    /// Starts the stream consumer on `tail` and the scheduler.
    pub fn start(self, tail: &Tail) -> (Handle, Handle) {
        let state = ResponderState::new(
            self.config.burst,
            self.config.public_url.clone(),
            self.config.limits,
        );
        let runner = Runner::spawn(state, tail.clone());
        (runner, scheduler::spawn(Arc::new(self)))
    }

    /// [`Responder::start`] on `source` (the tail or Kafka).
    pub fn start_on(self, source: &EventSource) -> Result<(Handle, Handle), KafkaError> {
        let state = ResponderState::new(
            self.config.burst,
            self.config.public_url.clone(),
            self.config.limits,
        );
        let runner = source.spawn(Arc::new(state))?;
        Ok((runner, scheduler::spawn(Arc::new(self))))
    }
}
