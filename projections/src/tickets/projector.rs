//! The `tickets` projection.

use super::change::TICKET_CHANNEL;
use schemas::EventType;
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
    event
        .field(name)
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
        .bind(event.aggregate_uuid()?)
        .bind(event.sequence)
        .bind(event.at()?)
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
        .bind(event.aggregate_uuid()?)
        .bind(event.sequence)
        .bind(author_kind)
        .bind(author_id)
        .bind(internal)
        .bind(text)
        .bind(confidence)
        .bind(sources)
        .bind(event.at()?)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn opened(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        let at = event.at()?;
        sqlx::query(
            "INSERT INTO tickets (ticket_id, tenant_id, category, subject, priority, status,
                 opened_at, updated_at, waiting_since, last_sequence)
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $6, $6, $7)
             ON CONFLICT (ticket_id) DO NOTHING",
        )
        .bind(event.aggregate_uuid()?)
        .bind(event.uuid("tenant_id")?)
        .bind(event.text("category")?)
        .bind(raw(event, "subject")?)
        .bind(event.text("priority")?)
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
        match event.kind() {
            Some(EventType::TicketOpened) => self.opened(db, event).await?,
            Some(EventType::TicketMessageAdded) => {
                let kind = event.text("author_kind")?;
                let author = event.text("author_id")?.to_owned();
                self.message(
                    db,
                    event,
                    kind,
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
            Some(EventType::TicketAiAnswered | EventType::TicketAiAnswerGiven) => {
                let confidence = event.field("confidence").and_then(Value::as_f64);
                let sources = event.field("sources").cloned();
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
            Some(EventType::TicketAwaitingAdmin | EventType::TicketHumanRequested) => {
                self.update(
                    db,
                    event,
                    "awaiting_admin = true, waiting_since = COALESCE(waiting_since, $3)",
                    None,
                )
                .await?;
            }
            Some(EventType::TicketInternalNoteAdded) => {
                let admin = event.text("admin_id")?.to_owned();
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
            Some(EventType::TicketAttachmentAdded) => {
                sqlx::query(
                    "INSERT INTO ticket_files (ticket_id, attachment_id, message_sequence, name,
                         size, content_type, sha256, at)
                     SELECT $1, $2, COALESCE(MAX(sequence), 0), $3, $4, $5, $6, $7
                       FROM ticket_messages WHERE ticket_id = $1 AND sequence < $8
                     ON CONFLICT (ticket_id, attachment_id) DO NOTHING",
                )
                .bind(event.aggregate_uuid()?)
                .bind(event.uuid("attachment_id")?)
                .bind(raw(event, "name")?)
                .bind(event.integer("size")?)
                .bind(event.text("content_type")?)
                .bind(event.text("sha256")?)
                .bind(event.at()?)
                .bind(event.sequence)
                .execute(db)
                .await?;
            }
            Some(EventType::TicketAssigned) => {
                let admin = event.text("admin_id")?.to_owned();
                self.update(db, event, "assigned_admin = $4::uuid", Some(admin))
                    .await?;
            }
            Some(EventType::TicketStatusChanged) => {
                let to = event.text("to")?.to_owned();
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
    .bind(event.aggregate_uuid()?)
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
