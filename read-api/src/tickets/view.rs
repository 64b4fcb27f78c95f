//! What ticket routes answer, and reading it from the `tickets` read model.

use super::TicketsState;
use crate::conversations::open::open_all;
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// Whose view: a tenant never sees internal notes nor who answered by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The ticket's tenant.
    Tenant,
    /// An admin.
    Admin,
}

impl Side {
    /// The side's name in `ticket_reads`.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::Admin => "admin",
        }
    }

    /// SQL selecting the messages of the other side (the unread ones, after the mark).
    fn unread_filter(self) -> &'static str {
        match self {
            Self::Tenant => "m.author_kind <> 'tenant' AND NOT m.internal",
            Self::Admin => "m.author_kind = 'tenant'",
        }
    }
}

/// A ticket in a list.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TicketSummary {
    /// The ticket's id.
    pub id: Uuid,
    /// The tenant that opened it.
    pub tenant_id: Uuid,
    /// Its category key.
    pub category: String,
    /// One-line summary.
    pub subject: String,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    /// `open`, `in_progress`, `resolved` or `closed`.
    pub status: String,
    /// Whether it waits for an admin (the AI handed it over or the tenant asked for one).
    pub awaiting_admin: bool,
    /// The admin who took it.
    pub assigned_admin: Option<Uuid>,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When anything last happened to it.
    pub updated_at: DateTime<Utc>,
    /// Since when the tenant waits for support; `null` when support spoke last.
    pub waiting_since: Option<DateTime<Utc>>,
    /// Messages of the other side the caller's side has not read.
    pub unread: i64,
}

/// A page of tickets.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TicketPage {
    /// The tickets.
    pub items: Vec<TicketSummary>,
}

/// A file of the thread.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// Its id.
    pub id: Uuid,
    /// The file name as uploaded.
    pub name: String,
    /// Its size in bytes.
    pub size: i64,
    /// The media type found in its bytes.
    pub content_type: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Where to download it.
    pub url: String,
}

/// An entry of a ticket's thread.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TicketMessageView {
    /// Its place in the ticket's history.
    pub sequence: i64,
    /// `tenant`, `admin` or `ai`.
    pub author_kind: String,
    /// The writing user's id (admins only see it).
    pub author_id: Option<String>,
    /// An internal note (only admins see those).
    pub internal: bool,
    /// The text.
    pub text: String,
    /// The AI's confidence, for AI answers (admins only).
    pub confidence: Option<f64>,
    /// The knowledge chunks an AI answer came from.
    pub sources: Option<Vec<String>>,
    /// When.
    pub at: DateTime<Utc>,
    /// Files sent with it.
    pub attachments: Vec<AttachmentView>,
}

/// A ticket with its thread.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TicketThread {
    /// The ticket.
    pub ticket: TicketSummary,
    /// Its thread, oldest first.
    pub messages: Vec<TicketMessageView>,
}

/// A row of [`summary_columns`].
pub(super) type SummaryRow = (
    Uuid,
    Uuid,
    String,
    Value,
    String,
    String,
    bool,
    Option<Uuid>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    i64,
);

/// The columns of a [`SummaryRow`] for `side`, over `tickets t`.
pub(super) fn summary_columns(side: Side) -> String {
    format!(
        "t.ticket_id, t.tenant_id, t.category, t.subject, t.priority, t.status,
         t.awaiting_admin, t.assigned_admin, t.opened_at, t.updated_at, t.waiting_since,
         (SELECT count(*) FROM ticket_messages m
           WHERE m.ticket_id = t.ticket_id AND {filter}
             AND m.at > COALESCE((SELECT r.read_at FROM ticket_reads r
                                   WHERE r.ticket_id = t.ticket_id AND r.side = '{side}'),
                                 '-infinity'))",
        filter = side.unread_filter(),
        side = side.as_str()
    )
}

/// Opens the rows' sealed subjects and shapes them.
pub(super) async fn summaries(
    state: &TicketsState,
    rows: Vec<SummaryRow>,
) -> Result<Vec<TicketSummary>, ApiError> {
    let mut rows = rows;
    let mut subjects: Vec<&mut Value> = rows.iter_mut().map(|r| &mut r.3).collect();
    open_all(&state.keys, &mut subjects).await?;
    Ok(rows
        .into_iter()
        .map(|r| TicketSummary {
            id: r.0,
            tenant_id: r.1,
            category: r.2,
            subject: text_of(&r.3),
            priority: r.4,
            status: r.5,
            awaiting_admin: r.6,
            assigned_admin: r.7,
            opened_at: r.8,
            updated_at: r.9,
            waiting_since: r.10,
            unread: r.11,
        })
        .collect())
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or("[erased]").to_owned()
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        code: "ticket_not_found",
        message: "no such ticket".into(),
    }
}

/// The ticket and its thread as `side` sees it; `tenant` scopes it to one tenant (404 for
/// any other's). Reading it marks the other side's messages read.
pub(super) async fn thread(
    state: &TicketsState,
    id: Uuid,
    tenant: Option<Uuid>,
    side: Side,
) -> Result<TicketThread, ApiError> {
    let sql = format!(
        "SELECT {} FROM tickets t WHERE t.ticket_id = $1 AND ($2::uuid IS NULL OR t.tenant_id = $2)",
        summary_columns(side)
    );
    let row: Option<SummaryRow> = sqlx::query_as(&sql)
        .bind(id)
        .bind(tenant)
        .fetch_optional(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    let row = row.ok_or_else(not_found)?;
    let ticket = summaries(state, vec![row])
        .await?
        .pop()
        .ok_or_else(not_found)?;
    type MessageRow = (
        i64,
        String,
        Option<String>,
        bool,
        Value,
        Option<f64>,
        Option<Value>,
        DateTime<Utc>,
    );
    let mut messages: Vec<MessageRow> = sqlx::query_as(
        "SELECT sequence, author_kind, author_id, internal, text, confidence, sources, at
           FROM ticket_messages
          WHERE ticket_id = $1 AND (NOT internal OR $2)
          ORDER BY sequence",
    )
    .bind(id)
    .bind(side == Side::Admin)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    type FileRow = (Uuid, i64, Value, i64, String, String);
    let mut files: Vec<FileRow> = sqlx::query_as(
        "SELECT attachment_id, message_sequence, name, size, content_type, sha256
           FROM ticket_files WHERE ticket_id = $1 ORDER BY at, attachment_id",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let mut sealed: Vec<&mut Value> = messages.iter_mut().map(|m| &mut m.4).collect();
    sealed.extend(files.iter_mut().map(|f| &mut f.2));
    open_all(&state.keys, &mut sealed).await?;
    let messages = messages
        .into_iter()
        .map(
            |(sequence, author_kind, author_id, internal, text, confidence, sources, at)| {
                TicketMessageView {
                    attachments: files
                        .iter()
                        .filter(|f| f.1 == sequence)
                        .map(|f| AttachmentView {
                            id: f.0,
                            name: text_of(&f.2),
                            size: f.3,
                            content_type: f.4.clone(),
                            sha256: f.5.clone(),
                            url: format!("/api/v1/tickets/{id}/attachments/{}", f.0),
                        })
                        .collect(),
                    sequence,
                    author_id: (side == Side::Admin).then_some(author_id).flatten(),
                    author_kind,
                    internal,
                    text: text_of(&text),
                    confidence: (side == Side::Admin).then_some(confidence).flatten(),
                    sources: sources.and_then(|s| serde_json::from_value(s).ok()),
                    at,
                }
            },
        )
        .collect();
    sqlx::query(
        "INSERT INTO ticket_reads (ticket_id, side, read_at) VALUES ($1, $2, now())
         ON CONFLICT (ticket_id, side) DO UPDATE SET read_at = EXCLUDED.read_at",
    )
    .bind(id)
    .bind(side.as_str())
    .execute(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(TicketThread { ticket, messages })
}
