//! The usage meter (F24, F25) against a real database, fed events as a runner would.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use chrono::Utc;
use schemas::plans::PlanCatalogue;
use schemas::StoredEvent;
use serde_json::{json, Value};
use std::sync::Arc;
use stream::EventHandler;
use uuid::Uuid;
use workers::stripe::meter::UsageMeter;

const TENANT: Uuid = Uuid::from_u128(42);

fn event(position: i64, aggregate_type: &str, id: &str, sequence: i64, body: Value) -> StoredEvent {
    StoredEvent {
        position,
        tx_id: position,
        recorded_at: Utc::now(),
        aggregate_type: aggregate_type.into(),
        aggregate_id: id.into(),
        sequence,
        event_type: body.as_object().unwrap().keys().next().unwrap().clone(),
        event_version: "1".into(),
        payload: body,
        metadata: Default::default(),
    }
}

/// A Stripe customer on a plan of 10 answers, and one conversation with `answers` AI
/// answers on 2026-03-05 (the subscription began on 2026-01-20).
fn log(answers: i64) -> Vec<StoredEvent> {
    let tenant = TENANT.to_string();
    let mut events = vec![
        event(
            1,
            "tenant",
            &tenant,
            1,
            json!({"TenantRegistered": {"tenant_id": TENANT,
            "name": "Loja", "owner_email": {"$pii": "x"}, "plan": "small",
            "at": "2026-01-20T08:00:00Z"}}),
        ),
        event(
            2,
            "subscription",
            &tenant,
            1,
            json!({"SubscriptionStarted": {"tenant_id": TENANT,
            "stripe_customer_id": "cus_42", "stripe_subscription_id": "sub_42", "plan": "small",
            "trial_end": null, "status": "active", "at": "2026-01-20T09:00:00Z"}}),
        ),
        event(
            3,
            "conversation",
            "c1",
            1,
            json!({"MessageReceived": {"tenant_id": TENANT,
            "at": "2026-03-05T10:00:00Z"}}),
        ),
    ];
    for n in 0..answers {
        let mut answer = event(
            4 + n,
            "conversation",
            "c1",
            2 + n,
            json!({"AiReplied": {
            "model": "m", "tokens_in": 1, "tokens_out": 1,
            "at": "2026-03-05T10:01:00Z"}}),
        );
        // As stored: every command's metadata names its tenant.
        answer
            .metadata
            .insert("tenant_id".into(), TENANT.to_string());
        events.push(answer);
    }
    events
}

fn meter() -> UsageMeter {
    let plans = PlanCatalogue::from_json(
        r#"[{"id": "small", "name": "Small", "monthly_price_cents": 100, "currency": "brl",
             "monthly_ai_message_quota": 10}]"#,
    )
    .unwrap();
    UsageMeter::new(Arc::new(plans), "https://painel.example".parse().unwrap())
}

async fn apply(meter: &UsageMeter, db: &mut sqlx::PgConnection, events: &[StoredEvent]) {
    for e in events {
        meter.handle(db, e).await.unwrap();
    }
}

#[tokio::test]
async fn answers_delivered_again_are_not_counted_or_billed_twice() {
    let db = testkit::test_database().await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let meter = meter();
    let events = log(3);
    apply(&meter, &mut conn, &events).await;
    apply(&meter, &mut conn, &events).await;
    let rows: Vec<(chrono::NaiveDate, i64, i64)> = sqlx::query_as(
        "SELECT period_start, ai_replies, billable FROM meter_usage WHERE tenant_id = $1",
    )
    .bind(TENANT)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let period = chrono::NaiveDate::from_ymd_opt(2026, 2, 20).unwrap();
    assert_eq!(
        rows,
        [(period, 3, 3)],
        "counted once, in the period from the 20th"
    );
}

#[tokio::test]
async fn the_eighth_answer_of_ten_raises_one_alert_and_queues_one_mail_per_owner() {
    let db = testkit::test_database().await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, role, tenant_id)
         VALUES ($1, 'dona@loja.example', 'x', 'owner', $2)",
    )
    .bind(Uuid::now_v7())
    .bind(TENANT)
    .execute(&mut *conn)
    .await
    .unwrap();
    let meter = meter();
    let events = log(9);
    apply(&meter, &mut conn, &events[..events.len() - 2]).await;
    let alerts: i64 = sqlx::query_scalar("SELECT count(*) FROM quota_alerts")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(alerts, 0, "seven of ten is below 80%");
    apply(&meter, &mut conn, &events[events.len() - 2..]).await;
    let (replies, mailed): (i64, i32) =
        sqlx::query_as("SELECT ai_replies, owners_mailed FROM quota_alerts WHERE tenant_id = $1")
            .bind(TENANT)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!((replies, mailed), (8, 1));
    let mails: Vec<(String, String)> =
        sqlx::query_as("SELECT recipient, template FROM mail_outbox ORDER BY created_at")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    assert_eq!(
        mails,
        [("dona@loja.example".to_owned(), "quota_alert".to_owned())]
    );
    // The admins are told once too, however often the answers arrive again.
    apply(&meter, &mut conn, &events).await;
    let told = stream::notifications::page(&db.pool, Uuid::now_v7(), None, false, 10)
        .await
        .unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        (
            told[0].kind.as_str(),
            told[0].tenant_id,
            &told[0].detail["used"]
        ),
        ("quota_reached", Some(TENANT), &serde_json::json!(8))
    );
}

// The quota alert follows plans managed by admins (issue 18).

/// `tenant` subscribed to `small` at `started`, then four AI answers on 2026-03-05, from
/// log position `from` on.
fn four_answers(tenant: Uuid, started: &str, from: i64) -> Vec<StoredEvent> {
    let id = tenant.to_string();
    let conversation = format!("c-{tenant}");
    let mut events = vec![
        event(
            from,
            "tenant",
            &id,
            1,
            json!({"TenantRegistered": {"tenant_id": tenant, "name": "Loja",
            "owner_email": {"$pii": "x"}, "plan": "small", "at": started}}),
        ),
        event(
            from + 1,
            "subscription",
            &id,
            1,
            json!({"ComplimentarySubscriptionStarted": {"tenant_id": tenant, "plan": "small",
            "status": "active", "at": started}}),
        ),
    ];
    for n in 0..4 {
        let mut answer = event(
            from + 2 + n,
            "conversation",
            &conversation,
            1 + n,
            json!({"AiReplied": {"model": "m", "tokens_in": 1, "tokens_out": 1,
            "at": "2026-03-05T10:01:00Z"}}),
        );
        answer.metadata.insert("tenant_id".into(), id.clone());
        events.push(answer);
    }
    events
}

#[tokio::test]
async fn a_quota_revised_by_an_admin_sets_the_alert_for_later_subscribers_only() {
    let db = testkit::test_database().await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    // The seed's 10 answers become 5 from 2026-02-01: four answers are 80 % of the new
    // quota, 40 % of the old.
    let revised = event(
        1,
        "plan",
        "small",
        1,
        json!({"PlanSet": {"spec": {"id": "small", "name": "Small", "monthly_price_cents": 100,
            "currency": "brl", "monthly_ai_message_quota": 5, "features": []},
            "admin_id": Uuid::from_u128(3), "at": "2026-02-01T00:00:00Z"}}),
    );
    projections::plans::PlanCatalogueModel
        .handle(&mut conn, &revised)
        .await
        .unwrap();
    let earlier = Uuid::from_u128(50);
    let later = Uuid::from_u128(51);
    let meter = meter();
    apply(
        &meter,
        &mut conn,
        &four_answers(earlier, "2026-01-20T09:00:00Z", 10),
    )
    .await;
    apply(
        &meter,
        &mut conn,
        &four_answers(later, "2026-02-10T09:00:00Z", 20),
    )
    .await;
    let alerts: Vec<(Uuid, i64, i64)> =
        sqlx::query_as("SELECT tenant_id, quota, ai_replies FROM quota_alerts")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    assert_eq!(alerts, [(later, 5, 4)]);
}
