//! The `tenant_metrics` projection: conversation events into `metrics_daily` and
//! `metrics_samples`.

use super::payload;
use super::{MetricsState, Sample, Tally};
use crate::{EventHandler, HandlerError};
use chrono::{DateTime, NaiveDate, Utc};
use schemas::StoredEvent;
use sqlx::PgConnection;
use uuid::Uuid;

/// Keeps the tenant metrics tables up to date.
#[derive(Debug, Clone, Copy)]
pub struct TenantMetrics;

type StateRow = (
    Uuid,
    i64,
    bool,
    bool,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

async fn load(
    db: &mut PgConnection,
    conversation: &str,
) -> Result<Option<(MetricsState, i64)>, HandlerError> {
    let row: Option<StateRow> = sqlx::query_as(
        "SELECT tenant_id, last_sequence, resolved, ai_only, waiting_since, handoff_open_at
           FROM metrics_conversations WHERE conversation_id = $1",
    )
    .bind(conversation)
    .fetch_optional(&mut *db)
    .await?;
    Ok(row.map(
        |(tenant_id, seq, resolved, ai_only, waiting_since, handoff_open_at)| {
            (
                MetricsState {
                    tenant_id,
                    resolved,
                    ai_only,
                    waiting_since,
                    handoff_open_at,
                },
                seq,
            )
        },
    ))
}

async fn save(
    db: &mut PgConnection,
    conversation: &str,
    state: &MetricsState,
    sequence: i64,
) -> Result<(), HandlerError> {
    sqlx::query(
        "INSERT INTO metrics_conversations (conversation_id, tenant_id, last_sequence,
             resolved, ai_only, waiting_since, handoff_open_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (conversation_id) DO UPDATE SET
             last_sequence = EXCLUDED.last_sequence, resolved = EXCLUDED.resolved,
             ai_only = EXCLUDED.ai_only, waiting_since = EXCLUDED.waiting_since,
             handoff_open_at = EXCLUDED.handoff_open_at",
    )
    .bind(conversation)
    .bind(state.tenant_id)
    .bind(sequence)
    .bind(state.resolved)
    .bind(state.ai_only)
    .bind(state.waiting_since)
    .bind(state.handoff_open_at)
    .execute(db)
    .await?;
    Ok(())
}

async fn count(
    db: &mut PgConnection,
    tenant: Uuid,
    day: NaiveDate,
    t: Tally,
) -> Result<(), HandlerError> {
    if t == Tally::default() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO metrics_daily (tenant_id, day, inbound_messages, ai_replies, handoffs,
             resolved, resolved_by_ai)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, day) DO UPDATE SET
             inbound_messages = metrics_daily.inbound_messages + EXCLUDED.inbound_messages,
             ai_replies = metrics_daily.ai_replies + EXCLUDED.ai_replies,
             handoffs = metrics_daily.handoffs + EXCLUDED.handoffs,
             resolved = metrics_daily.resolved + EXCLUDED.resolved,
             resolved_by_ai = metrics_daily.resolved_by_ai + EXCLUDED.resolved_by_ai",
    )
    .bind(tenant)
    .bind(day)
    .bind(t.inbound_messages)
    .bind(t.ai_replies)
    .bind(t.handoffs)
    .bind(t.resolved)
    .bind(t.resolved_by_ai)
    .execute(db)
    .await?;
    Ok(())
}

async fn record(
    db: &mut PgConnection,
    tenant: Uuid,
    day: NaiveDate,
    position: i64,
    samples: &[Sample],
) -> Result<(), HandlerError> {
    for s in samples {
        sqlx::query(
            "INSERT INTO metrics_samples (position, kind, tenant_id, day, seconds)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (position, kind) DO NOTHING",
        )
        .bind(position)
        .bind(s.kind.as_str())
        .bind(tenant)
        .bind(day)
        .bind(s.seconds)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl EventHandler for TenantMetrics {
    fn name(&self) -> &'static str {
        "tenant_metrics"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["metrics_conversations", "metrics_daily", "metrics_samples"]
    }

    #[tracing::instrument(name = "projecting an event into the tenant metrics", skip_all,
        fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "conversation" {
            return Ok(());
        }
        let conversation = event.aggregate_id.as_str();
        let mut state = match load(db, conversation).await? {
            // Per-aggregate order holds in the tail, so anything not newer was applied.
            Some((_, applied)) if applied >= event.sequence => return Ok(()),
            Some((state, _)) => state,
            None if event.event_type == "MessageReceived" => {
                MetricsState::new(payload::uuid(event, "tenant_id")?)
            }
            // A conversation always starts with a message; without one there is no tenant
            // to file the event under.
            None => return Ok(()),
        };
        let at = payload::at(event)?;
        let day = at.date_naive();
        let (tally, samples) = state.apply(&event.event_type, at);
        count(db, state.tenant_id, day, tally).await?;
        record(db, state.tenant_id, day, event.position, &samples).await?;
        save(db, conversation, &state, event.sequence).await
    }
}
