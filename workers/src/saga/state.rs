//! The saga's stream consumer: deadlines set and moved by hand-offs and human activity,
//! cleared when the AI resumes or the conversation is resolved.

use crate::mailer::PublicUrl;
use crate::responder::notify;
use chrono::{DateTime, Utc};
use schemas::StoredEvent;
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashSet;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// The `human_timeout_saga` stream consumer.
#[derive(Debug, Clone)]
pub struct SagaState {
    timeout: chrono::Duration,
    public_url: PublicUrl,
}

impl SagaState {
    /// Deadlines `timeout` after the last human activity.
    pub fn new(timeout: chrono::Duration, public_url: PublicUrl) -> Self {
        Self {
            timeout,
            public_url,
        }
    }
}

fn body(event: &StoredEvent) -> Option<&Value> {
    event.payload.get(&event.event_type)
}

fn at_of(event: &StoredEvent) -> DateTime<Utc> {
    body(event)
        .and_then(|b| b.get("at"))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or(event.recorded_at)
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    tenant_id: Uuid,
    due_at: Option<DateTime<Utc>>,
    human_answered: bool,
    last_sequence: i64,
}

impl SagaState {
    /// Starts or moves the deadline to `at` + timeout.
    async fn set(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        human_answered: bool,
    ) -> Result<(), HandlerError> {
        let tenant: Uuid = event
            .metadata
            .get("tenant_id")
            .and_then(|t| t.parse().ok())
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO saga_deadlines (conversation_id, tenant_id, due_at, human_answered,
                 last_sequence)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (conversation_id) DO UPDATE SET
                 due_at = EXCLUDED.due_at,
                 human_answered = EXCLUDED.human_answered
                     OR (saga_deadlines.human_answered AND saga_deadlines.due_at IS NOT NULL),
                 last_sequence = EXCLUDED.last_sequence",
        )
        .bind(&event.aggregate_id)
        .bind(tenant)
        .bind(at_of(event) + self.timeout)
        .bind(human_answered)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn update(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        due_at: Option<DateTime<Utc>>,
    ) -> Result<(), HandlerError> {
        sqlx::query(
            "UPDATE saga_deadlines SET due_at = $2, last_sequence = $3 WHERE conversation_id = $1",
        )
        .bind(&event.aggregate_id)
        .bind(due_at)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for SagaState {
    fn name(&self) -> &'static str {
        "human_timeout_saga"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["conversation"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "conversation"
    }

    fn pace(&self) -> std::time::Duration {
        stream::BACKGROUND_PACE
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
        let ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
        // Most conversations never reach a human: their events change nothing here, and one
        // query tells which have a deadline instead of one per event.
        let mut tracked: HashSet<String> = sqlx::query_scalar(
            "SELECT conversation_id FROM saga_deadlines WHERE conversation_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?
        .into_iter()
        .collect();
        for event in events {
            let starts = matches!(
                event.event_type.as_str(),
                "ConfidenceLow" | "HumanRequested" | "HumanReplied"
            );
            if starts || tracked.contains(&event.aggregate_id) {
                self.handle(db, event).await?;
            }
            if starts {
                tracked.insert(event.aggregate_id.clone());
            }
        }
        Ok(())
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "conversation" {
            return Ok(());
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT tenant_id, due_at, human_answered, last_sequence FROM saga_deadlines
              WHERE conversation_id = $1 FOR UPDATE",
        )
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *db)
        .await?;
        if row
            .as_ref()
            .is_some_and(|r| r.last_sequence >= event.sequence)
        {
            return Ok(());
        }
        match (event.event_type.as_str(), row) {
            ("ConfidenceLow" | "HumanRequested", _) => self.set(db, event, false).await?,
            ("HumanReplied", _) => self.set(db, event, true).await?,
            ("AgentAssigned", Some(r)) => {
                let moved = r.due_at.map(|_| at_of(event) + self.timeout);
                self.update(db, event, moved).await?;
            }
            ("AiResumed", Some(r)) => {
                let timed_out = body(event)
                    .and_then(|b| b.get("reason"))
                    .and_then(Value::as_str)
                    == Some("timeout");
                if timed_out && r.due_at.is_some() && !r.human_answered {
                    notify::attendance_pending(
                        db,
                        &self.public_url,
                        r.tenant_id,
                        &event.aggregate_id,
                        event.sequence,
                    )
                    .await?;
                }
                self.update(db, event, None).await?;
            }
            ("ConversationResolved", Some(_)) => self.update(db, event, None).await?,
            (_, Some(r)) => self.update(db, event, r.due_at).await?,
            (_, None) => {}
        }
        Ok(())
    }
}
