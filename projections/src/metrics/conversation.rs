//! What one conversation event does to the metrics, as a pure function of the state the
//! projection keeps per conversation.

use chrono::{DateTime, Utc};
use schemas::EventType;
use uuid::Uuid;

/// The per-conversation memory of the metrics projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsState {
    /// The conversation's tenant.
    pub tenant_id: Uuid,
    /// Whether the tenant resolved it (and no message arrived since).
    pub resolved: bool,
    /// No hand-off and no human reply since it (re)opened.
    pub ai_only: bool,
    /// The customer message that opened the current wait for a reply.
    pub waiting_since: Option<DateTime<Utc>>,
    /// The first hand-off not answered by a human yet.
    pub handoff_open_at: Option<DateTime<Utc>>,
}

impl MetricsState {
    /// A conversation whose first message just arrived.
    pub fn new(tenant_id: Uuid) -> Self {
        Self {
            tenant_id,
            resolved: false,
            ai_only: true,
            waiting_since: None,
            handoff_open_at: None,
        }
    }
}

/// Counter increments of one event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Customer messages.
    pub inbound_messages: i64,
    /// AI answers.
    pub ai_replies: i64,
    /// Hand-offs to a human.
    pub handoffs: i64,
    /// Resolutions.
    pub resolved: i64,
    /// Resolutions without a human.
    pub resolved_by_ai: i64,
}

/// Which duration a sample measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// Customer message → first AI reply.
    AiFirstResponse,
    /// Customer message → first human reply.
    HumanFirstResponse,
    /// Hand-off → first human reply.
    HumanResponse,
}

impl SampleKind {
    /// The stored `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AiFirstResponse => "ai_first_response",
            Self::HumanFirstResponse => "human_first_response",
            Self::HumanResponse => "human_response",
        }
    }
}

/// One measured duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// What it measures.
    pub kind: SampleKind,
    /// How long, in seconds (never negative).
    pub seconds: f64,
}

fn sample(kind: SampleKind, from: DateTime<Utc>, to: DateTime<Utc>) -> Sample {
    let millis = (to - from).num_milliseconds().max(0);
    Sample {
        kind,
        // Milliseconds of any realistic wait fit in f64 exactly.
        seconds: millis as f64 / 1000.0,
    }
}

impl MetricsState {
    /// Applies an event of type `event_type` (`None`: a type this build does not know) that
    /// happened `at`; returns its counters and samples.
    pub fn apply(
        &mut self,
        event_type: Option<EventType>,
        at: DateTime<Utc>,
    ) -> (Tally, Vec<Sample>) {
        let mut tally = Tally::default();
        let mut samples = Vec::new();
        match event_type {
            Some(EventType::MessageReceived) => {
                tally.inbound_messages = 1;
                if self.resolved {
                    self.resolved = false;
                    self.ai_only = true;
                }
                self.waiting_since.get_or_insert(at);
            }
            Some(EventType::AiReplied) => {
                tally.ai_replies = 1;
                if let Some(w) = self.waiting_since.take() {
                    samples.push(sample(SampleKind::AiFirstResponse, w, at));
                }
            }
            Some(EventType::ConfidenceLow | EventType::HumanRequested) => {
                tally.handoffs = 1;
                self.ai_only = false;
                self.handoff_open_at.get_or_insert(at);
            }
            Some(EventType::HumanReplied) => {
                self.ai_only = false;
                if let Some(w) = self.waiting_since.take() {
                    samples.push(sample(SampleKind::HumanFirstResponse, w, at));
                }
                if let Some(h) = self.handoff_open_at.take() {
                    samples.push(sample(SampleKind::HumanResponse, h, at));
                }
            }
            Some(EventType::AiResumed) => self.handoff_open_at = None,
            Some(EventType::ConversationResolved) => {
                tally.resolved = 1;
                tally.resolved_by_ai = i64::from(self.ai_only);
                self.resolved = true;
                self.ai_only = true;
                self.waiting_since = None;
                self.handoff_open_at = None;
            }
            _ => {}
        }
        (tally, samples)
    }
}
