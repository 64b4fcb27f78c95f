//! The `tenant_metrics` projection: conversation events into `metrics_daily` and
//! `metrics_samples`.
//!
//! A batch is applied in memory first — the states of its conversations read in one query,
//! the counters summed per tenant and day — then written in a few set-based statements, so a
//! replay is not bound by one round trip per event. One event is a batch of one.

use super::payload;
use super::{MetricsState, Tally};
use chrono::{DateTime, NaiveDate, Utc};
use schemas::StoredEvent;
use sqlx::PgConnection;
use std::collections::{BTreeMap, HashMap};
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Keeps the tenant metrics tables up to date.
#[derive(Debug, Clone, Copy)]
pub struct TenantMetrics;

/// A conversation's state and the sequence it was last written at.
struct Known {
    state: MetricsState,
    sequence: i64,
    changed: bool,
}

/// What a batch writes.
#[derive(Default)]
struct Effects {
    daily: BTreeMap<(Uuid, NaiveDate), Tally>,
    // (position, kind, tenant, day, seconds)
    samples: Vec<(i64, &'static str, Uuid, NaiveDate, f64)>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.inbound_messages += other.inbound_messages;
        self.ai_replies += other.ai_replies;
        self.handoffs += other.handoffs;
        self.resolved += other.resolved;
        self.resolved_by_ai += other.resolved_by_ai;
    }
}

type StateRow = (
    String,
    Uuid,
    i64,
    bool,
    bool,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

async fn load(
    db: &mut PgConnection,
    conversations: &[String],
) -> Result<HashMap<String, Known>, HandlerError> {
    let rows: Vec<StateRow> = sqlx::query_as(
        "SELECT conversation_id, tenant_id, last_sequence, resolved, ai_only, waiting_since,
                handoff_open_at
           FROM metrics_conversations WHERE conversation_id = ANY($1)",
    )
    .bind(conversations)
    .fetch_all(&mut *db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, tenant_id, sequence, resolved, ai_only, waiting_since, handoff_open_at)| {
                let state = MetricsState {
                    tenant_id,
                    resolved,
                    ai_only,
                    waiting_since,
                    handoff_open_at,
                };
                let known = Known {
                    state,
                    sequence,
                    changed: false,
                };
                (id, known)
            },
        )
        .collect())
}

/// Applies one event to the in-memory states and effects.
fn step(
    known: &mut HashMap<String, Known>,
    effects: &mut Effects,
    event: &StoredEvent,
) -> Result<(), HandlerError> {
    let entry = match known.get_mut(&event.aggregate_id) {
        // Per-aggregate order holds in the tail, so anything not newer was applied.
        Some(k) if k.sequence >= event.sequence => return Ok(()),
        Some(k) => k,
        None if event.event_type == "MessageReceived" => {
            let state = MetricsState::new(payload::uuid(event, "tenant_id")?);
            known.entry(event.aggregate_id.clone()).or_insert(Known {
                state,
                sequence: 0,
                changed: true,
            })
        }
        // A conversation always starts with a message; without one there is no tenant to
        // file the event under.
        None => return Ok(()),
    };
    let at = payload::at(event)?;
    let day = at.date_naive();
    let tenant = entry.state.tenant_id;
    let (tally, samples) = entry.state.apply(&event.event_type, at);
    entry.sequence = event.sequence;
    entry.changed = true;
    if tally != Tally::default() {
        effects.daily.entry((tenant, day)).or_default().add(tally);
    }
    for s in samples {
        effects
            .samples
            .push((event.position, s.kind.as_str(), tenant, day, s.seconds));
    }
    Ok(())
}

async fn write_daily(
    db: &mut PgConnection,
    daily: &BTreeMap<(Uuid, NaiveDate), Tally>,
) -> Result<(), HandlerError> {
    if daily.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&Tally) -> i64| daily.values().map(f).collect::<Vec<i64>>();
    sqlx::query(
        "INSERT INTO metrics_daily (tenant_id, day, inbound_messages, ai_replies, handoffs,
             resolved, resolved_by_ai)
         SELECT * FROM unnest($1::uuid[], $2::date[], $3::int8[], $4::int8[], $5::int8[],
                              $6::int8[], $7::int8[])
         ON CONFLICT (tenant_id, day) DO UPDATE SET
             inbound_messages = metrics_daily.inbound_messages + EXCLUDED.inbound_messages,
             ai_replies = metrics_daily.ai_replies + EXCLUDED.ai_replies,
             handoffs = metrics_daily.handoffs + EXCLUDED.handoffs,
             resolved = metrics_daily.resolved + EXCLUDED.resolved,
             resolved_by_ai = metrics_daily.resolved_by_ai + EXCLUDED.resolved_by_ai",
    )
    .bind(daily.keys().map(|k| k.0).collect::<Vec<_>>())
    .bind(daily.keys().map(|k| k.1).collect::<Vec<_>>())
    .bind(column(|t| t.inbound_messages))
    .bind(column(|t| t.ai_replies))
    .bind(column(|t| t.handoffs))
    .bind(column(|t| t.resolved))
    .bind(column(|t| t.resolved_by_ai))
    .execute(db)
    .await?;
    Ok(())
}

async fn write_samples(
    db: &mut PgConnection,
    samples: &[(i64, &'static str, Uuid, NaiveDate, f64)],
) -> Result<(), HandlerError> {
    if samples.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO metrics_samples (position, kind, tenant_id, day, seconds)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::uuid[], $4::date[], $5::float8[])
         ON CONFLICT (position, kind) DO NOTHING",
    )
    .bind(samples.iter().map(|s| s.0).collect::<Vec<_>>())
    .bind(samples.iter().map(|s| s.1).collect::<Vec<_>>())
    .bind(samples.iter().map(|s| s.2).collect::<Vec<_>>())
    .bind(samples.iter().map(|s| s.3).collect::<Vec<_>>())
    .bind(samples.iter().map(|s| s.4).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

async fn write_states(
    db: &mut PgConnection,
    known: &HashMap<String, Known>,
) -> Result<(), HandlerError> {
    let changed: Vec<(&String, &Known)> = known.iter().filter(|(_, k)| k.changed).collect();
    if changed.is_empty() {
        return Ok(());
    }
    let state = |f: fn(&Known) -> Option<DateTime<Utc>>| {
        changed.iter().map(|(_, k)| f(k)).collect::<Vec<_>>()
    };
    sqlx::query(
        "INSERT INTO metrics_conversations (conversation_id, tenant_id, last_sequence,
             resolved, ai_only, waiting_since, handoff_open_at)
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::int8[], $4::bool[], $5::bool[],
                              $6::timestamptz[], $7::timestamptz[])
         ON CONFLICT (conversation_id) DO UPDATE SET
             last_sequence = EXCLUDED.last_sequence, resolved = EXCLUDED.resolved,
             ai_only = EXCLUDED.ai_only, waiting_since = EXCLUDED.waiting_since,
             handoff_open_at = EXCLUDED.handoff_open_at",
    )
    .bind(
        changed
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        changed
            .iter()
            .map(|(_, k)| k.state.tenant_id)
            .collect::<Vec<_>>(),
    )
    .bind(changed.iter().map(|(_, k)| k.sequence).collect::<Vec<_>>())
    .bind(
        changed
            .iter()
            .map(|(_, k)| k.state.resolved)
            .collect::<Vec<_>>(),
    )
    .bind(
        changed
            .iter()
            .map(|(_, k)| k.state.ai_only)
            .collect::<Vec<_>>(),
    )
    .bind(state(|k| k.state.waiting_since))
    .bind(state(|k| k.state.handoff_open_at))
    .execute(db)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl EventHandler for TenantMetrics {
    fn name(&self) -> &'static str {
        "tenant_metrics"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["conversation"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "conversation"
    }

    fn pace(&self) -> std::time::Duration {
        stream::handler::BACKGROUND_PACE
    }

    fn tables(&self) -> &'static [&'static str] {
        &["metrics_conversations", "metrics_daily", "metrics_samples"]
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.handle_batch(db, std::slice::from_ref(event)).await
    }

    #[tracing::instrument(name = "projecting events into the tenant metrics", skip_all,
        fields(events = events.len()))]
    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        let conversation_events = stream::of_aggregate(events, "conversation");
        if conversation_events.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<String> = conversation_events
            .iter()
            .map(|e| e.aggregate_id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut known = load(db, &ids).await?;
        let mut effects = Effects::default();
        for event in conversation_events {
            step(&mut known, &mut effects, event)?;
        }
        write_daily(db, &effects.daily).await?;
        write_samples(db, &effects.samples).await?;
        write_states(db, &known).await
    }
}
