//! The `tickets` projection.

use super::change::TICKET_CHANNEL;
use crate::metrics::payload;
use schemas::StoredEvent;
use serde_json::Value;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};

/// Keeps `tickets`, `ticket_messages` and `ticket_files` up to date and announces every
/// change on [`TICKET_CHANNEL`].
#[derive(Debug, Clone, Copy)]
pub struct Tickets;

/// A field as stored (sealed personal data stays sealed).
fn raw(event: &StoredEvent, name: &str) -> Result<Value, HandlerError> {
    payload::field(event, name)
        .cloned()
        .ok_or_else(|| HandlerError::Rejected(format!("{} has no field {name}", event.event_type)))
}

impl Tickets {
    /// Moves the ticket's row forward with `set` (`$1` the ticket, `$2` the sequence, `$3`
    /// the event's time, `$4` an optional extra value); an event applied before changes
    /// nothing.
    async fn update(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        set: &str,
        extra: Option<String>,
    ) -> Result<(), HandlerError> {
        sqlx::query(&format!(
            "UPDATE tickets SET {set}, updated_at = $3, last_sequence = $2
              WHERE ticket_id = $1 AND last_sequence < $2"
        ))
        .bind(payload::aggregate_uuid(event)?)
        .bind(event.sequence)
        .bind(payload::at(event)?)
        .bind(extra)
        .execute(db)
        .await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn message(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        author_kind: &str,
        author_id: Option<String>,
        internal: bool,
        text: Value,
        confidence: Option<f64>,
        sources: Option<Value>,
    ) -> Result<(), HandlerError> {
        sqlx::query(
            "INSERT INTO ticket_messages (ticket_id, sequence, author_kind, author_id, internal,
                 text, confidence, sources, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (ticket_id, sequence) DO NOTHING",
        )
        .bind(payload::aggregate_uuid(event)?)
        .bind(event.sequence)
        .bind(author_kind)
        .bind(author_id)
        .bind(internal)
        .bind(text)
        .bind(confidence)
        .bind(sources)
        .bind(payload::at(event)?)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn opened(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        let at = payload::at(event)?;
        sqlx::query(
            "INSERT INTO tickets (ticket_id, tenant_id, category, subject, priority, status,
                 opened_at, updated_at, waiting_since, last_sequence)
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $6, $6, $7)
             ON CONFLICT (ticket_id) DO NOTHING",
        )
        .bind(payload::aggregate_uuid(event)?)
        .bind(payload::uuid(event, "tenant_id")?)
        .bind(payload::text(event, "category")?)
        .bind(raw(event, "subject")?)
        .bind(payload::text(event, "priority")?)
        .bind(at)
        .bind(event.sequence)
        .execute(&mut *db)
        .await?;
        let author = event.metadata.get("actor_id").cloned();
        self.message(
            db,
            event,
            "tenant",
            author,
            false,
            raw(event, "description")?,
            None,
            None,
        )
        .await
    }

    async fn apply(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            "TicketOpened" => self.opened(db, event).await?,
            "TicketMessageAdded" => {
                let kind = payload::text(event, "author_kind")?;
                let author = payload::text(event, "author_id")?;
                self.message(
                    db,
                    event,
                    &kind,
                    Some(author),
                    false,
                    raw(event, "text")?,
                    None,
                    None,
                )
                .await?;
                let set = if kind == "admin" {
                    "waiting_since = NULL, awaiting_admin = false,
                     first_human_response_at = COALESCE(first_human_response_at, $3)"
                } else {
                    "waiting_since = COALESCE(waiting_since, $3)"
                };
                self.update(db, event, set, None).await?;
            }
            "TicketAiAnswered" | "TicketAiAnswerGiven" => {
                let confidence = payload::field(event, "confidence").and_then(Value::as_f64);
                let sources = payload::field(event, "sources").cloned();
                self.message(
                    db,
                    event,
                    "ai",
                    None,
                    false,
                    raw(event, "text")?,
                    confidence,
                    sources,
                )
                .await?;
                self.update(
                    db,
                    event,
                    "waiting_since = NULL,
                     first_ai_response_at = COALESCE(first_ai_response_at, $3)",
                    None,
                )
                .await?;
            }
            "TicketAwaitingAdmin" | "TicketHumanRequested" => {
                self.update(
                    db,
                    event,
                    "awaiting_admin = true, waiting_since = COALESCE(waiting_since, $3)",
                    None,
                )
                .await?;
            }
            "TicketInternalNoteAdded" => {
                let admin = payload::text(event, "admin_id")?;
                self.message(
                    db,
                    event,
                    "admin",
                    Some(admin),
                    true,
                    raw(event, "text")?,
                    None,
                    None,
                )
                .await?;
            }
            "TicketAttachmentAdded" => {
                sqlx::query(
                    "INSERT INTO ticket_files (ticket_id, attachment_id, message_sequence, name,
                         size, content_type, sha256, at)
                     SELECT $1, $2, COALESCE(MAX(sequence), 0), $3, $4, $5, $6, $7
                       FROM ticket_messages WHERE ticket_id = $1 AND sequence < $8
                     ON CONFLICT (ticket_id, attachment_id) DO NOTHING",
                )
                .bind(payload::aggregate_uuid(event)?)
                .bind(payload::uuid(event, "attachment_id")?)
                .bind(raw(event, "name")?)
                .bind(payload::integer(event, "size")?)
                .bind(payload::text(event, "content_type")?)
                .bind(payload::text(event, "sha256")?)
                .bind(payload::at(event)?)
                .bind(event.sequence)
                .execute(db)
                .await?;
            }
            "TicketAssigned" => {
                let admin = payload::text(event, "admin_id")?;
                self.update(db, event, "assigned_admin = $4::uuid", Some(admin))
                    .await?;
            }
            "TicketStatusChanged" => {
                let to = payload::text(event, "to")?;
                let set = match to.as_str() {
                    "resolved" => {
                        "status = $4, waiting_since = NULL, resolved_at = COALESCE(resolved_at, $3)"
                    }
                    "closed" => "status = $4, waiting_since = NULL, closed_at = $3",
                    _ => "status = $4",
                };
                self.update(db, event, set, Some(to)).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Announces the ticket's state after `event` when the transaction commits; not from a
/// replay, whose changes the live projection already announced.
async fn announce(db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
    sqlx::query(
        "SELECT pg_notify($1, json_build_object(
                 'tenant_id', tenant_id, 'ticket_id', ticket_id, 'status', status,
                 'updated_at', updated_at, 'position', $3::bigint)::text)
           FROM tickets
          WHERE ticket_id = $2 AND current_schema() NOT LIKE 'replay\\_%'",
    )
    .bind(TICKET_CHANNEL)
    .bind(payload::aggregate_uuid(event)?)
    .bind(event.position)
    .execute(db)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl EventHandler for Tickets {
    fn name(&self) -> &'static str {
        "tickets"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["ticket"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "ticket"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["tickets", "ticket_messages", "ticket_files"]
    }

    fn rows_per_aggregate(&self) -> bool {
        true
    }

    #[tracing::instrument(name = "projecting a ticket event", skip_all,
        fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "ticket" {
            return Ok(());
        }
        self.apply(db, event).await?;
        announce(db, event).await
    }
}
