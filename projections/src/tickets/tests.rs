//! The tickets projection against a real database.

use super::Tickets;
use crate::metrics::test_log::{apply, dump, Log};
use serde_json::json;
use stream::EventHandler;
use uuid::Uuid;

const TICKET: Uuid = Uuid::from_u128(9);
const TENANT: Uuid = Uuid::from_u128(1);
const ADMIN: Uuid = Uuid::from_u128(3);

fn ticket(log: &mut Log, body: serde_json::Value) {
    log.push("ticket", &TICKET.to_string(), body);
}

/// Opened with a file, handed to admins, noted, answered by an admin, resolved.
fn answered_by_an_admin() -> Log {
    let mut log = Log::default();
    ticket(
        &mut log,
        json!({"TicketOpened": {"ticket_id": TICKET, "tenant_id": TENANT,
            "category": "tecnico", "subject": "Bot parado", "description": "Não responde",
            "priority": "high", "at": "2026-03-01T10:00:00Z"}}),
    );
    ticket(
        &mut log,
        json!({"TicketAttachmentAdded": {"attachment_id": Uuid::from_u128(7),
            "author_kind": "tenant", "name": "print.png", "size": 10,
            "content_type": "image/png", "sha256": "ab", "at": "2026-03-01T10:00:00Z"}}),
    );
    ticket(
        &mut log,
        json!({"TicketAwaitingAdmin": {"at": "2026-03-01T10:00:05Z"}}),
    );
    ticket(
        &mut log,
        json!({"TicketInternalNoteAdded": {"admin_id": ADMIN, "text": "nota",
            "at": "2026-03-01T10:10:00Z"}}),
    );
    ticket(
        &mut log,
        json!({"TicketMessageAdded": {"author_kind": "admin", "author_id": ADMIN.to_string(),
            "text": "Reconecte.", "at": "2026-03-01T10:30:00Z"}}),
    );
    ticket(
        &mut log,
        json!({"TicketStatusChanged": {"from": "open", "to": "in_progress",
            "at": "2026-03-01T10:31:00Z"}}),
    );
    ticket(
        &mut log,
        json!({"TicketStatusChanged": {"from": "in_progress", "to": "resolved",
            "at": "2026-03-01T11:00:00Z"}}),
    );
    log
}

#[tokio::test]
async fn a_ticket_answered_by_an_admin_keeps_its_thread_files_and_response_times() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    apply(&Tickets, &mut conn, &answered_by_an_admin().events).await;
    type Row = (
        String,
        bool,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
    );
    let row: Row = sqlx::query_as(
        "SELECT status, awaiting_admin,
                to_char(first_human_response_at - opened_at, 'HH24:MI'),
                to_char(resolved_at - opened_at, 'HH24:MI'),
                to_char(first_ai_response_at, 'HH24:MI'),
                waiting_since IS NULL
           FROM tickets WHERE ticket_id = $1",
    )
    .bind(TICKET)
    .fetch_one(&mut *conn)
    .await
    .expect("the ticket");
    assert_eq!(
        row,
        (
            "resolved".into(),
            false,
            Some("00:30".into()),
            Some("01:00".into()),
            None,
            true
        )
    );
    let thread: Vec<(i64, String, bool)> = sqlx::query_as(
        "SELECT sequence, author_kind, internal FROM ticket_messages ORDER BY sequence",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("the thread");
    assert_eq!(
        thread,
        [
            (1, "tenant".into(), false),
            (4, "admin".into(), true),
            (5, "admin".into(), false)
        ]
    );
    let file: i64 = sqlx::query_scalar("SELECT message_sequence FROM ticket_files")
        .fetch_one(&mut *conn)
        .await
        .expect("the file");
    assert_eq!(file, 1, "the file belongs to the opening message");
}

#[tokio::test]
async fn applying_the_ticket_log_twice_leaves_the_same_tables() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let log = answered_by_an_admin();
    apply(&Tickets, &mut conn, &log.events).await;
    let once = dump(&mut conn, Tickets.tables()).await;
    apply(&Tickets, &mut conn, &log.events).await;
    assert_eq!(dump(&mut conn, Tickets.tables()).await, once);
}
