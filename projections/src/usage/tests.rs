//! The usage projection against a real database.

use super::TenantUsage;
use crate::metrics::test_log::{apply, dump, ts, Log};
use chrono::{DateTime, Utc};
use serde_json::json;
use stream::EventHandler;
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(7);

fn log() -> Log {
    let mut log = Log::default();
    let t = TENANT.to_string();
    log.push(
        "tenant",
        &t,
        json!({"TenantRegistered": {"tenant_id": TENANT, "name": "Loja",
            "owner_email": {"$pii": "x"}, "plan": "basic", "at": "2026-01-30T08:00:00Z"}}),
    );
    log.push(
        "subscription",
        &t,
        json!({"ComplimentarySubscriptionStarted": {"tenant_id": TENANT, "plan": "pro",
            "status": "active", "at": "2026-01-31T09:00:00Z"}}),
    );
    for (i, (at, model, tin, tout)) in [
        ("2026-03-01T10:00:00Z", "gpt-4o-mini", 100, 20),
        ("2026-03-01T11:00:00Z", "gpt-4o-mini", 300, 40),
        ("2026-03-02T10:00:00Z", "extractive", 50, 10),
    ]
    .into_iter()
    .enumerate()
    {
        log.push(
            "conversation",
            "c1",
            json!({"MessageReceived": {"tenant_id": TENANT, "contact_wa_id": {"$pii": "x"},
                "contact_name": null, "provider_message_id": format!("m{i}"),
                "content": {"text": {"$pii": "x"}}, "sent_at": at, "at": at}}),
        );
        log.push(
            "conversation",
            "c1",
            json!({"AiReplied": {"outbound_id": Uuid::nil(), "text": {"$pii": "x"},
                "confidence": 0.9, "sources": [], "model": model, "tokens_in": tin,
                "tokens_out": tout, "at": at}}),
        );
    }
    log.push(
        "subscription",
        &t,
        json!({"PlanChanged": {"from": "pro", "to": "enterprise", "at": "2026-03-03T00:00:00Z"}}),
    );
    log
}

#[tokio::test]
async fn customer_messages_are_counted_per_day_and_ai_replies_per_day_and_model_with_tokens() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    apply(&TenantUsage, &mut conn, &log().events).await;
    let inbound: Vec<(String, i64)> = sqlx::query_as(
        "SELECT day::text, inbound_messages FROM usage_daily WHERE tenant_id = $1 ORDER BY day",
    )
    .bind(TENANT)
    .fetch_all(&mut *conn)
    .await
    .expect("rows");
    assert_eq!(
        inbound,
        [("2026-03-01".into(), 2), ("2026-03-02".into(), 1)]
    );
    let models: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT day::text, model, ai_replies, tokens_in, tokens_out FROM usage_model_daily
          WHERE tenant_id = $1 ORDER BY day, model",
    )
    .bind(TENANT)
    .fetch_all(&mut *conn)
    .await
    .expect("rows");
    assert_eq!(
        models,
        [
            ("2026-03-01".into(), "gpt-4o-mini".into(), 2, 400, 60),
            ("2026-03-02".into(), "extractive".into(), 1, 50, 10),
        ]
    );
}

#[tokio::test]
async fn the_billing_anchor_is_the_subscription_start_and_the_plan_follows_plan_changes() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    apply(&TenantUsage, &mut conn, &log().events).await;
    let row: (Option<String>, Option<String>, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT registered_plan, subscription_plan, billing_anchor FROM usage_tenants
          WHERE tenant_id = $1",
    )
    .bind(TENANT)
    .fetch_one(&mut *conn)
    .await
    .expect("the tenant");
    assert_eq!(
        row,
        (
            Some("basic".into()),
            Some("enterprise".into()),
            Some(ts("2026-01-31T09:00:00Z"))
        )
    );
}

#[tokio::test]
async fn events_delivered_again_change_nothing() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let log = log();
    apply(&TenantUsage, &mut conn, &log.events).await;
    let before = dump(&mut conn, TenantUsage.tables()).await;
    apply(&TenantUsage, &mut conn, &log.events).await;
    apply(&TenantUsage, &mut conn, &log.events[1..4]).await;
    assert_eq!(dump(&mut conn, TenantUsage.tables()).await, before);
}

#[tokio::test]
async fn a_batch_with_events_delivered_twice_applies_like_one_event_at_a_time() {
    let log = log();
    let db = testkit::test_database().await.expect("a database");
    let mut one_by_one = db.pool.acquire().await.expect("a connection");
    apply(&TenantUsage, &mut one_by_one, &log.events).await;
    let other = testkit::test_database().await.expect("a database");
    let mut batched = other.pool.acquire().await.expect("a connection");
    let mut twice = log.events.clone();
    twice.extend(log.events[1..6].iter().cloned());
    TenantUsage
        .handle_batch(&mut batched, &twice[..4])
        .await
        .expect("applied");
    TenantUsage
        .handle_batch(&mut batched, &twice[4..])
        .await
        .expect("applied");
    assert_eq!(
        dump(&mut batched, TenantUsage.tables()).await,
        dump(&mut one_by_one, TenantUsage.tables()).await
    );
}
