//! The report projection against a real database.

use super::AdminReports;
use crate::metrics::test_log::{apply, dump, ts, Log};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgConnection;
use stream::EventHandler;
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(7);

fn tenant(log: &mut Log, body: Value) {
    log.push("tenant", &TENANT.to_string(), body);
}

fn subscription(log: &mut Log, body: Value) {
    log.push("subscription", &TENANT.to_string(), body);
}

fn paid(log: &mut Log, invoice: &str, cents: i64, currency: &str, at: &str) {
    subscription(
        log,
        json!({"PaymentSucceeded": {"invoice_id": invoice, "amount_cents": cents,
            "currency": currency, "period_end": at, "at": at}}),
    );
}

fn failed(log: &mut Log, at: &str) {
    subscription(
        log,
        json!({"PaymentFailed": {"invoice_id": "in_x", "attempt": 1, "at": at}}),
    );
}

fn registered_and_subscribed() -> Log {
    let mut log = Log::default();
    tenant(
        &mut log,
        json!({"TenantRegistered": {"tenant_id": TENANT, "name": "Loja",
            "owner_email": {"$pii": "x"}, "plan": "basic", "at": "2026-01-10T08:00:00Z"}}),
    );
    subscription(
        &mut log,
        json!({"SubscriptionStarted": {"tenant_id": TENANT, "stripe_customer_id": "cus_1",
            "stripe_subscription_id": "sub_1", "plan": "pro", "trial_end": null,
            "status": "active", "at": "2026-01-10T09:00:00Z"}}),
    );
    log
}

async fn subscription_row(db: &mut PgConnection) -> (String, String, bool, Option<DateTime<Utc>>) {
    sqlx::query_as(
        "SELECT plan, status, complimentary, cancelled_at FROM report_subscriptions
          WHERE tenant_id = $1",
    )
    .bind(TENANT)
    .fetch_one(db)
    .await
    .expect("the subscription")
}

async fn tenant_status(db: &mut PgConnection) -> String {
    sqlx::query_scalar("SELECT status FROM report_tenants WHERE tenant_id = $1")
        .bind(TENANT)
        .fetch_one(db)
        .await
        .expect("the tenant")
}

#[tokio::test]
async fn a_tenant_reads_as_suspended_until_it_is_reactivated() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = registered_and_subscribed();
    tenant(
        &mut log,
        json!({"TenantSuspended": {"reason": "x", "at": "2026-02-01T00:00:00Z"}}),
    );
    apply(&AdminReports, &mut conn, &log.events).await;
    assert_eq!(tenant_status(&mut conn).await, "suspended");
    tenant(
        &mut log,
        json!({"TenantReactivated": {"at": "2026-02-02T00:00:00Z"}}),
    );
    apply(
        &AdminReports,
        &mut conn,
        &log.events[log.events.len() - 1..],
    )
    .await;
    assert_eq!(tenant_status(&mut conn).await, "active");
}

#[tokio::test]
async fn a_failed_retry_does_not_lift_a_suspended_subscription_and_a_payment_does() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = registered_and_subscribed();
    failed(&mut log, "2026-02-10T00:00:00Z");
    subscription(
        &mut log,
        json!({"GracePeriodExpired": {"at": "2026-02-17T00:00:00Z"}}),
    );
    failed(&mut log, "2026-02-18T00:00:00Z");
    apply(&AdminReports, &mut conn, &log.events).await;
    assert_eq!(subscription_row(&mut conn).await.1, "suspended");
    let n = log.events.len();
    paid(&mut log, "in_1", 39_900, "brl", "2026-02-19T00:00:00Z");
    apply(&AdminReports, &mut conn, &log.events[n..]).await;
    assert_eq!(subscription_row(&mut conn).await.1, "active");
}

#[tokio::test]
async fn a_cancelled_subscription_keeps_its_cancellation_time_and_last_plan() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = registered_and_subscribed();
    subscription(
        &mut log,
        json!({"PlanChanged": {"from": "pro", "to": "enterprise", "at": "2026-02-01T00:00:00Z"}}),
    );
    subscription(
        &mut log,
        json!({"SubscriptionCancelled": {"reason": "x", "at": "2026-03-05T12:00:00Z"}}),
    );
    apply(&AdminReports, &mut conn, &log.events).await;
    assert_eq!(
        subscription_row(&mut conn).await,
        (
            "enterprise".into(),
            "cancelled".into(),
            false,
            Some(ts("2026-03-05T12:00:00Z"))
        )
    );
}

#[tokio::test]
async fn payments_add_up_per_month_of_payment_and_currency() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = registered_and_subscribed();
    paid(&mut log, "in_1", 39_900, "brl", "2026-01-10T09:00:00Z");
    paid(&mut log, "in_2", 39_900, "brl", "2026-01-31T23:59:59Z");
    paid(&mut log, "in_3", 1_000, "usd", "2026-01-15T00:00:00Z");
    paid(&mut log, "in_4", 39_900, "brl", "2026-02-01T00:00:00Z");
    apply(&AdminReports, &mut conn, &log.events).await;
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT month::text, currency, amount_cents, payments FROM report_revenue
          ORDER BY month, currency",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("rows");
    assert_eq!(
        rows,
        [
            ("2026-01-01".into(), "brl".into(), 79_800, 2),
            ("2026-01-01".into(), "usd".into(), 1_000, 1),
            ("2026-02-01".into(), "brl".into(), 39_900, 1),
        ]
    );
}

#[tokio::test]
async fn events_delivered_again_change_nothing() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = registered_and_subscribed();
    paid(&mut log, "in_1", 39_900, "brl", "2026-01-10T09:00:00Z");
    failed(&mut log, "2026-02-10T00:00:00Z");
    tenant(
        &mut log,
        json!({"TenantSuspended": {"reason": "x", "at": "2026-02-11T00:00:00Z"}}),
    );
    apply(&AdminReports, &mut conn, &log.events).await;
    let before = dump(&mut conn, AdminReports.tables()).await;
    apply(&AdminReports, &mut conn, &log.events).await;
    assert_eq!(dump(&mut conn, AdminReports.tables()).await, before);
}

fn refunded(log: &mut Log, refund: &str, invoice: &str, cents: i64, at: &str) {
    subscription(
        log,
        json!({"PaymentRefunded": {"refund_id": refund, "invoice_id": invoice,
            "amount_cents": cents, "currency": "BRL", "at": at}}),
    );
}

#[tokio::test]
async fn a_refund_is_taken_off_the_revenue_of_the_month_it_was_recorded_in_once() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = registered_and_subscribed();
    paid(&mut log, "in_1", 39_900, "brl", "2026-01-10T09:00:00Z");
    paid(&mut log, "in_2", 39_900, "brl", "2026-02-10T09:00:00Z");
    refunded(&mut log, "re_1", "in_2", 10_000, "2026-02-11T09:00:00Z");
    // January's payment refunded in March: January stays as reported.
    refunded(&mut log, "re_2", "in_1", 39_900, "2026-03-02T09:00:00Z");
    apply(&AdminReports, &mut conn, &log.events).await;
    apply(&AdminReports, &mut conn, &log.events).await;
    let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT month::text, amount_cents, payments, refunded_cents, refunds
           FROM report_revenue ORDER BY month",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("rows");
    assert_eq!(
        rows,
        [
            ("2026-01-01".into(), 39_900, 1, 0, 0),
            ("2026-02-01".into(), 29_900, 1, 10_000, 1),
            ("2026-03-01".into(), -39_900, 0, 39_900, 1),
        ]
    );
}
