//! The responder's stream consumer: what it must remember of each conversation, written in
//! the runner's transaction so every event counts exactly once.
//!
//! It schedules bursts (a customer message while the AI answers), keeps the last messages
//! (sealed) as the AI's memory, records answers for the limits, and queues the hand-off
//! e-mail. The answering itself happens in the [scheduler](super::scheduler), outside the
//! runner, because it waits for the burst window and calls models.

use super::limits::{self, Limits};
use super::notify;
use super::MEMORY_MESSAGES;
use chrono::{DateTime, DurationRound, Utc};
use integrations::mailer::{HandoffCause, PublicUrl};
use schemas::events::HandoffReason;
use schemas::{CommandMetadata, EventType, StoredEvent};
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::time::Duration;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// The channel the consumer notifies when a burst is scheduled, so the scheduler wakes.
pub const NOTIFY_CHANNEL: &str = "ai_pending";

/// The prefix of the idempotency key of every command the responder issues; the rest names
/// the conversation and the last message answered.
pub(crate) const ANSWER_KEY_PREFIX: &str = "ai-answer:";

/// The idempotency key of the answer to the burst ending at `through`.
pub(crate) fn answer_key(conversation_id: &str, through: i64) -> String {
    format!("{ANSWER_KEY_PREFIX}{conversation_id}:{through}")
}

/// The burst position an answer's idempotency key names, if the event is the responder's.
fn answered_through(event: &StoredEvent) -> Option<i64> {
    let key = event.metadata.get("idempotency_key")?;
    let rest = key.strip_prefix(ANSWER_KEY_PREFIX)?;
    rest.rsplit_once(':')?.1.parse().ok()
}

/// The `ai_responder` stream consumer.
#[derive(Debug, Clone)]
pub struct ResponderState {
    burst: Duration,
    public_url: PublicUrl,
    limits: Limits,
}

impl ResponderState {
    /// A consumer scheduling answers `burst` after a conversation's last customer message
    /// and alerting the owner at 80 % of `limits`.
    pub fn new(burst: Duration, public_url: PublicUrl, limits: Limits) -> Self {
        Self {
            burst,
            public_url,
            limits,
        }
    }
}

/// The event's own time (the recording time for an event without one).
fn at_of(event: &StoredEvent) -> DateTime<Utc> {
    event.at().unwrap_or(event.recorded_at)
}

/// The text a customer message carries, sealed as stored: the text or a media caption.
fn inbound_text(event: &StoredEvent) -> Option<Value> {
    let content = event.field("content")?;
    content
        .get("text")
        .or_else(|| content.get("media").and_then(|m| m.get("caption")))
        .filter(|v| !v.is_null())
        .cloned()
}

/// Memory rows of a run of events, written together: one statement for the rows and one to
/// keep each conversation's newest [`MEMORY_MESSAGES`], instead of two per message.
#[derive(Default)]
struct Memory {
    conversations: Vec<String>,
    positions: Vec<i64>,
    roles: Vec<&'static str>,
    texts: Vec<Option<Value>>,
    ats: Vec<DateTime<Utc>>,
}

impl Memory {
    fn push(&mut self, event: &StoredEvent, role: &'static str, text: Option<Value>) {
        self.conversations.push(event.aggregate_id.clone());
        self.positions.push(event.position);
        self.roles.push(role);
        self.texts.push(text);
        self.ats.push(at_of(event));
    }

    async fn flush(&mut self, db: &mut PgConnection) -> Result<(), HandlerError> {
        if self.positions.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(self);
        sqlx::query(
            "INSERT INTO ai_memory (conversation_id, position, role, text, at)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::jsonb[],
                                  $5::timestamptz[])
             ON CONFLICT DO NOTHING",
        )
        .bind(&rows.conversations)
        .bind(&rows.positions)
        .bind(&rows.roles)
        .bind(&rows.texts)
        .bind(&rows.ats)
        .execute(&mut *db)
        .await?;
        let mut touched = rows.conversations;
        touched.sort_unstable();
        touched.dedup();
        // Only the newest messages are ever read; older ones would only hold personal data.
        sqlx::query(
            "DELETE FROM ai_memory m USING (
                 SELECT conversation_id, position,
                        row_number() OVER (PARTITION BY conversation_id
                                           ORDER BY position DESC) AS newest
                   FROM ai_memory WHERE conversation_id = ANY($1)) AS old
              WHERE old.newest > $2
                AND m.conversation_id = old.conversation_id AND m.position = old.position",
        )
        .bind(&touched)
        .bind(i64::try_from(MEMORY_MESSAGES).unwrap_or(10))
        .execute(&mut *db)
        .await?;
        Ok(())
    }
}

/// What one round of a batch changes in `ai_conversations`: each conversation at most once
/// per round, so every change of a round goes in one statement.
#[derive(Default)]
struct Round<'a> {
    /// New customer messages: (re)schedules the conversation's burst.
    received: Vec<&'a StoredEvent>,
    /// Moves: (event, new status, every message up to this position is done).
    moved: Vec<(&'a StoredEvent, Option<&'static str>, Option<i64>)>,
    /// AI answers, counted for the limits.
    usage: Vec<&'a StoredEvent>,
    /// Hand-offs whose e-mail is queued.
    handoffs: Vec<&'a StoredEvent>,
    /// Conversations whose memory is erased.
    erased: Vec<&'a str>,
}

/// Splits `events` into rounds: the first event of each conversation, then the second, …
/// Events of different conversations touch different rows (the limits' counts aside, which
/// only add up), so applying a batch round by round keeps each conversation's order.
fn rounds<'a>(events: &[&'a StoredEvent]) -> Vec<Vec<&'a StoredEvent>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rounds: Vec<Vec<&StoredEvent>> = Vec::new();
    for event in events {
        let n = seen.entry(event.aggregate_id.as_str()).or_default();
        if rounds.len() <= *n {
            rounds.push(Vec::new());
        }
        rounds[*n].push(event);
        *n += 1;
    }
    rounds
}

impl ResponderState {
    /// Schedules the bursts of a round's new customer messages, one row per conversation.
    async fn received(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        if events.is_empty() {
            return Ok(());
        }
        let burst = chrono::Duration::from_std(self.burst).unwrap_or_default();
        // One lock order for every batch (see `conversation_events`).
        let mut events = events.to_vec();
        events.sort_by(|a, b| a.aggregate_id.cmp(&b.aggregate_id));
        let mut ids = Vec::with_capacity(events.len());
        let mut tenants = Vec::with_capacity(events.len());
        let mut sequences = Vec::with_capacity(events.len());
        let mut positions = Vec::with_capacity(events.len());
        let mut dues = Vec::with_capacity(events.len());
        let mut correlations = Vec::with_capacity(events.len());
        let mut causations = Vec::with_capacity(events.len());
        for event in events {
            let tenant = event
                .uuid("tenant_id")
                .map_err(|_| HandlerError::Rejected("MessageReceived without a tenant".into()))?;
            let metadata = CommandMetadata::from_map(&event.metadata).ok();
            ids.push(event.aggregate_id.as_str());
            tenants.push(tenant);
            sequences.push(event.sequence);
            positions.push(event.position);
            dues.push(at_of(event) + burst);
            correlations.push(metadata.as_ref().map(|m| m.correlation_id));
            causations.push(metadata.as_ref().map(|m| m.request_id));
        }
        // A resolved conversation reopens with the AI, as the aggregate does.
        sqlx::query(
            "INSERT INTO ai_conversations (conversation_id, tenant_id, status, last_sequence,
                 pending_through, due_at, correlation_id, causation_id)
             SELECT r.c, r.t, 'ai_active', r.s, r.p, r.d, r.corr, r.caus
               FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::bigint[],
                           $5::timestamptz[], $6::uuid[], $7::uuid[])
                    AS r(c, t, s, p, d, corr, caus)
             ON CONFLICT (conversation_id) DO UPDATE SET
                 status = CASE WHEN ai_conversations.status = 'resolved' THEN 'ai_active'
                               ELSE ai_conversations.status END,
                 last_sequence = EXCLUDED.last_sequence,
                 pending_through = CASE WHEN ai_conversations.status IN ('ai_active', 'resolved')
                     THEN EXCLUDED.pending_through ELSE ai_conversations.pending_through END,
                 due_at = CASE WHEN ai_conversations.status IN ('ai_active', 'resolved')
                     THEN EXCLUDED.due_at ELSE ai_conversations.due_at END,
                 correlation_id = EXCLUDED.correlation_id,
                 causation_id = EXCLUDED.causation_id",
        )
        .bind(&ids)
        .bind(&tenants)
        .bind(&sequences)
        .bind(&positions)
        .bind(&dues)
        .bind(&correlations)
        .bind(&causations)
        .execute(&mut *db)
        .await?;
        Ok(())
    }

    /// Moves each conversation of a round to its new status (none: stays); a position
    /// marks every message up to it as no longer the AI's to answer.
    async fn moved(
        &self,
        db: &mut PgConnection,
        moves: &[(&StoredEvent, Option<&'static str>, Option<i64>)],
    ) -> Result<(), HandlerError> {
        if moves.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = moves
            .iter()
            .map(|(e, _, _)| e.aggregate_id.as_str())
            .collect();
        let sequences: Vec<i64> = moves.iter().map(|(e, _, _)| e.sequence).collect();
        let statuses: Vec<Option<&str>> = moves.iter().map(|(_, s, _)| *s).collect();
        let done: Vec<Option<i64>> = moves.iter().map(|(_, _, d)| *d).collect();
        sqlx::query(
            "UPDATE ai_conversations a SET
                 status = COALESCE(m.status, a.status),
                 last_sequence = m.last_sequence,
                 answered_through = GREATEST(a.answered_through,
                                             COALESCE(m.done_through, a.answered_through)),
                 pending_through = CASE WHEN a.pending_through <= COALESCE(m.done_through, -1)
                                        THEN NULL ELSE a.pending_through END,
                 due_at = CASE WHEN a.pending_through <= COALESCE(m.done_through, -1)
                               THEN NULL ELSE a.due_at END
               FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
                    AS m(conversation_id, last_sequence, status, done_through)
              WHERE a.conversation_id = m.conversation_id",
        )
        .bind(&ids)
        .bind(&sequences)
        .bind(&statuses)
        .bind(&done)
        .execute(&mut *db)
        .await?;
        Ok(())
    }

    /// Applies the conversation events of `events` whose sequence is past what is stored.
    async fn conversation_events(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        let mut ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        // Locked in one order, so two processes applying overlapping batches cannot deadlock.
        let applied: HashMap<String, i64> = sqlx::query_as(
            "SELECT conversation_id, last_sequence FROM ai_conversations
              WHERE conversation_id = ANY($1) ORDER BY conversation_id FOR UPDATE",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?
        .into_iter()
        .collect();
        // A batch holds each event once, in per-aggregate order: only what was stored before
        // it can make an event old.
        let fresh: Vec<&StoredEvent> = events
            .iter()
            .copied()
            .filter(|e| applied.get(&e.aggregate_id).is_none_or(|l| *l < e.sequence))
            .collect();
        let mut memory = Memory::default();
        let mut scheduled = false;
        for events in rounds(&fresh) {
            let mut round = Round::default();
            for event in events {
                self.note(event, &mut round, &mut memory);
            }
            scheduled |= !round.received.is_empty();
            self.apply(db, &round, &mut memory).await?;
        }
        memory.flush(db).await?;
        if scheduled {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(NOTIFY_CHANNEL)
                .execute(&mut *db)
                .await?;
        }
        Ok(())
    }

    /// Notes what `event` changes in its round (and its memory row).
    fn note<'a>(&self, event: &'a StoredEvent, round: &mut Round<'a>, memory: &mut Memory) {
        let text = |name: &str| event.field(name).cloned();
        match event.kind() {
            Some(EventType::MessageReceived) => {
                memory.push(event, "customer", inbound_text(event));
                round.received.push(event);
            }
            Some(EventType::AiReplied) => {
                memory.push(event, "ai", text("text"));
                round.usage.push(event);
                round.moved.push((event, None, answered_through(event)));
            }
            Some(EventType::ConfidenceLow | EventType::HumanRequested) => {
                // The AI stops; whatever the customer wrote so far is for the human now.
                round
                    .moved
                    .push((event, Some("awaiting_human"), Some(event.position)));
                round.handoffs.push(event);
            }
            Some(EventType::HumanReplied) => {
                memory.push(event, "human", text("text"));
                round
                    .moved
                    .push((event, Some("human_replied"), Some(event.position)));
            }
            Some(EventType::AiResumed) => {
                round
                    .moved
                    .push((event, Some("ai_active"), Some(event.position)));
            }
            Some(EventType::ConversationResolved) => {
                round
                    .moved
                    .push((event, Some("resolved"), Some(event.position)));
            }
            Some(EventType::SubjectErased) => {
                round.erased.push(event.aggregate_id.as_str());
                round.moved.push((event, None, None));
            }
            _ => round.moved.push((event, None, None)),
        }
    }

    /// Writes one round: a statement per kind of change, not per event.
    async fn apply(
        &self,
        db: &mut PgConnection,
        round: &Round<'_>,
        memory: &mut Memory,
    ) -> Result<(), HandlerError> {
        self.received(db, &round.received).await?;
        if !round.erased.is_empty() {
            // What earlier rounds remembered of these conversations goes first.
            memory.flush(db).await?;
            sqlx::query("DELETE FROM ai_memory WHERE conversation_id = ANY($1)")
                .bind(&round.erased)
                .execute(&mut *db)
                .await?;
        }
        self.moved(db, &round.moved).await?;
        self.record_usage(db, &round.usage).await?;
        for event in &round.handoffs {
            let cause = handoff_cause(event);
            notify::handed_off(db, &self.public_url, event, cause).await?;
        }
        Ok(())
    }

    /// Records a round's AI answers for the limits, then alerts each tenant at 80 % of a
    /// limit: its use counted once per tenant and hour of the answers, not once per answer.
    async fn record_usage(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        let mut positions = Vec::new();
        let mut tenants = Vec::new();
        let mut ats = Vec::new();
        let mut models = Vec::new();
        let mut tokens_in = Vec::new();
        let mut tokens_out = Vec::new();
        let mut costs = Vec::new();
        let mut model_calls = Vec::new();
        // The latest counted answer of each tenant and UTC hour: its use covers every window
        // (hour, day, month) of the hour's earlier answers.
        let mut latest: HashMap<(Uuid, DateTime<Utc>), DateTime<Utc>> = HashMap::new();
        for event in events {
            if event.body().is_none() {
                continue;
            }
            let tenant: Option<Uuid> = event.metadata.get("tenant_id").and_then(|t| t.parse().ok());
            let Some(tenant) = tenant else {
                continue;
            };
            let int = |k: &str| event.integer(k).unwrap_or(0);
            let run = event.field("run");
            let cost = run
                .and_then(|r| r.get("cost_usd"))
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let provider = run.and_then(|r| r.get("provider")).and_then(Value::as_str);
            let cached = run
                .and_then(|r| r.get("cached"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let at = at_of(event);
            positions.push(event.position);
            tenants.push(tenant);
            ats.push(at);
            models.push(event.text("model").unwrap_or("").to_owned());
            tokens_in.push(int("tokens_in"));
            tokens_out.push(int("tokens_out"));
            costs.push(cost);
            let model_call = !cached && provider != Some(integrations::llm::EXTRACTIVE);
            model_calls.push(model_call);
            // An answer that adds to no limited measure (from the cache or extractive) cannot
            // bring a limit nearer: the last answer that did was checked in its own batch.
            if model_call || int("tokens_in") + int("tokens_out") > 0 || cost > 0.0 {
                let hour = at.duration_trunc(chrono::Duration::hours(1)).unwrap_or(at);
                let slot = latest.entry((tenant, hour)).or_insert(at);
                *slot = (*slot).max(at);
            }
        }
        if positions.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO ai_usage (position, tenant_id, at, model, tokens_in, tokens_out,
                 cost_usd, model_call)
             SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::text[],
                                  $5::bigint[], $6::bigint[], $7::double precision[],
                                  $8::boolean[])
             ON CONFLICT DO NOTHING",
        )
        .bind(&positions)
        .bind(&tenants)
        .bind(&ats)
        .bind(&models)
        .bind(&tokens_in)
        .bind(&tokens_out)
        .bind(&costs)
        .bind(&model_calls)
        .execute(&mut *db)
        .await?;
        let mut latest: Vec<_> = latest.into_iter().collect();
        latest.sort_unstable();
        for ((tenant, _), at) in latest {
            // Counted with these answers, in their transaction: each window alerts once.
            let usage = limits::usage(db, tenant, at).await?;
            // The tenant's own limits (issue 18) as the directory knows them now.
            let own = projections::tenants::ai_limits(db, tenant).await?;
            for (kind, percent, window) in self.limits.with_own(own).near(&usage) {
                notify::limit_near(
                    db,
                    &self.public_url,
                    tenant,
                    kind,
                    percent,
                    &window.to_rfc3339(),
                )
                .await?;
            }
        }
        Ok(())
    }
}

fn handoff_cause(event: &StoredEvent) -> HandoffCause {
    if event.is(EventType::HumanRequested) {
        return HandoffCause::CustomerAsked;
    }
    match event.value::<HandoffReason>("reason") {
        Ok(HandoffReason::PlanQuotaReached) => HandoffCause::QuotaReached,
        Ok(
            HandoffReason::RequestLimitReached
            | HandoffReason::TokenLimitReached
            | HandoffReason::CostLimitReached,
        ) => HandoffCause::LimitReached,
        Ok(HandoffReason::AiUnavailable) => HandoffCause::AiUnavailable,
        _ => HandoffCause::LowConfidence,
    }
}

#[async_trait::async_trait]
impl EventHandler for ResponderState {
    fn name(&self) -> &'static str {
        "ai_responder"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["conversation"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "conversation"
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.handle_batch(db, std::slice::from_ref(event)).await
    }

    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        let events = stream::of_aggregate(events, "conversation");
        if events.is_empty() {
            return Ok(());
        }
        self.conversation_events(db, &events).await
    }
}
