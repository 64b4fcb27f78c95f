//! The metrics projection against a real database.

use super::test_log::{apply, dump, Log};
use super::TenantMetrics;
use serde_json::json;
use sqlx::PgConnection;
use stream::EventHandler;
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(7);

fn received(log: &mut Log, conversation: &str, at: &str) {
    log.push(
        "conversation",
        conversation,
        json!({"MessageReceived": {"tenant_id": TENANT, "contact_wa_id": {"$pii": "x"},
            "contact_name": null, "provider_message_id": format!("wamid.{at}"),
            "content": {"text": {"$pii": "x"}}, "sent_at": at, "at": at}}),
    );
}

fn simple(log: &mut Log, conversation: &str, event_type: &str, at: &str) {
    let body = match event_type {
        "AiReplied" => json!({"outbound_id": Uuid::nil(), "text": {"$pii": "x"},
            "confidence": 0.9, "sources": [], "model": "gpt-4o-mini", "tokens_in": 10,
            "tokens_out": 5, "at": at}),
        "HumanReplied" => json!({"outbound_id": Uuid::nil(), "agent_id": Uuid::nil(),
            "text": {"$pii": "x"}, "at": at}),
        _ => json!({"outbound_id": Uuid::nil(), "at": at}),
    };
    log.push("conversation", conversation, json!({ event_type: body }));
}

/// Day 1: an AI answer, then a hand-off answered by a human, then a resolution.
/// Day 2: a conversation the AI resolves alone; it reopens, is handed off, the AI resumes
/// and it is resolved again.
fn two_days() -> Log {
    let mut log = Log::default();
    received(&mut log, "c1", "2026-03-01T10:00:00Z");
    simple(&mut log, "c1", "AiReplied", "2026-03-01T10:00:04Z");
    received(&mut log, "c1", "2026-03-01T10:01:00Z");
    simple(&mut log, "c1", "ConfidenceLow", "2026-03-01T10:01:02Z");
    simple(&mut log, "c1", "HumanReplied", "2026-03-01T10:03:02Z");
    simple(
        &mut log,
        "c1",
        "ConversationResolved",
        "2026-03-01T10:05:00Z",
    );
    received(&mut log, "c2", "2026-03-02T09:00:00Z");
    simple(&mut log, "c2", "AiReplied", "2026-03-02T09:00:10Z");
    simple(
        &mut log,
        "c2",
        "ConversationResolved",
        "2026-03-02T09:10:00Z",
    );
    received(&mut log, "c2", "2026-03-02T12:00:00Z");
    simple(&mut log, "c2", "AiReplied", "2026-03-02T12:00:06Z");
    simple(&mut log, "c2", "HumanRequested", "2026-03-02T12:01:00Z");
    simple(&mut log, "c2", "AiResumed", "2026-03-02T12:30:00Z");
    simple(
        &mut log,
        "c2",
        "ConversationResolved",
        "2026-03-02T12:40:00Z",
    );
    log
}

async fn projected(
    log: &Log,
) -> (
    testkit::TestDatabase,
    sqlx::pool::PoolConnection<sqlx::Postgres>,
) {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    apply(&TenantMetrics, &mut conn, &log.events).await;
    (db, conn)
}

async fn daily(db: &mut PgConnection) -> Vec<(String, i64, i64, i64, i64, i64)> {
    sqlx::query_as(
        "SELECT day::text, inbound_messages, ai_replies, handoffs, resolved, resolved_by_ai
           FROM metrics_daily WHERE tenant_id = $1 ORDER BY day",
    )
    .bind(TENANT)
    .fetch_all(db)
    .await
    .expect("rows")
}

async fn samples(db: &mut PgConnection, kind: &str) -> Vec<(String, f64)> {
    sqlx::query_as(
        "SELECT day::text, seconds FROM metrics_samples
          WHERE tenant_id = $1 AND kind = $2 ORDER BY position",
    )
    .bind(TENANT)
    .bind(kind)
    .fetch_all(db)
    .await
    .expect("rows")
}

#[tokio::test]
async fn each_day_counts_its_messages_ai_replies_handoffs_and_resolutions() {
    let (_db, mut conn) = projected(&two_days()).await;
    assert_eq!(
        daily(&mut conn).await,
        [
            ("2026-03-01".to_owned(), 2, 1, 1, 1, 0),
            ("2026-03-02".to_owned(), 2, 2, 1, 2, 1),
        ]
    );
}

#[tokio::test]
async fn first_responses_run_from_the_message_that_opened_the_wait_to_the_first_reply() {
    let (_db, mut conn) = projected(&two_days()).await;
    assert_eq!(
        samples(&mut conn, "ai_first_response").await,
        [
            ("2026-03-01".to_owned(), 4.0),
            ("2026-03-02".to_owned(), 10.0),
            ("2026-03-02".to_owned(), 6.0),
        ]
    );
    assert_eq!(
        samples(&mut conn, "human_first_response").await,
        [("2026-03-01".to_owned(), 122.0)]
    );
}

#[tokio::test]
async fn a_human_response_runs_from_the_handoff_and_a_resumed_handoff_is_not_measured() {
    let (_db, mut conn) = projected(&two_days()).await;
    assert_eq!(
        samples(&mut conn, "human_response").await,
        [("2026-03-01".to_owned(), 120.0)]
    );
}

#[tokio::test]
async fn a_second_customer_message_does_not_restart_the_wait() {
    let mut log = Log::default();
    received(&mut log, "c1", "2026-03-01T10:00:00Z");
    received(&mut log, "c1", "2026-03-01T10:00:30Z");
    simple(&mut log, "c1", "AiReplied", "2026-03-01T10:01:00Z");
    let (_db, mut conn) = projected(&log).await;
    assert_eq!(
        samples(&mut conn, "ai_first_response").await,
        [("2026-03-01".to_owned(), 60.0)]
    );
}

#[tokio::test]
async fn events_delivered_again_change_nothing() {
    let log = two_days();
    let (_db, mut conn) = projected(&log).await;
    let tables = TenantMetrics.tables();
    let before = dump(&mut conn, tables).await;
    apply(&TenantMetrics, &mut conn, &log.events).await;
    apply(&TenantMetrics, &mut conn, &log.events[3..5]).await;
    assert_eq!(dump(&mut conn, tables).await, before);
}

#[tokio::test]
async fn a_batch_with_events_delivered_twice_applies_like_one_event_at_a_time() {
    let log = two_days();
    let (_one, mut one_by_one) = projected(&log).await;
    let db = testkit::test_database().await.expect("a database");
    let mut batched = db.pool.acquire().await.expect("a connection");
    let mut twice = log.events.clone();
    twice.extend(log.events[2..7].iter().cloned());
    TenantMetrics
        .handle_batch(&mut batched, &twice[..9])
        .await
        .expect("applied");
    TenantMetrics
        .handle_batch(&mut batched, &twice[9..])
        .await
        .expect("applied");
    let tables = TenantMetrics.tables();
    assert_eq!(
        dump(&mut batched, tables).await,
        dump(&mut one_by_one, tables).await
    );
}
