//! The billing projection against a real database.

use super::BillingAdmin;
use crate::metrics::test_log::{apply, dump, Log};
use serde_json::{json, Value};
use stream::EventHandler;
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(9);

fn subscription(log: &mut Log, body: Value) {
    log.push("subscription", &TENANT.to_string(), body);
}

/// A log holding one active Stripe subscription's start.
fn subscribed() -> Log {
    let mut log = Log::default();
    subscription(
        &mut log,
        json!({"SubscriptionStarted": {"tenant_id": TENANT, "stripe_customer_id": "cus_9",
            "stripe_subscription_id": "sub_9", "plan": "pro", "trial_end": null,
            "status": "active", "at": "2026-01-10T09:00:00Z"}}),
    );
    log
}

fn subscribed_then_failed_suspended_and_paid() -> Log {
    let mut log = subscribed();
    subscription(
        &mut log,
        json!({"PaymentFailed": {"invoice_id": "in_1", "attempt": 1,
            "at": "2026-02-10T09:00:00Z"}}),
    );
    subscription(
        &mut log,
        json!({"GracePeriodExpired": {"at": "2026-02-17T09:00:00Z"}}),
    );
    subscription(
        &mut log,
        json!({"PaymentFailed": {"invoice_id": "in_1", "attempt": 2,
            "at": "2026-02-18T09:00:00Z"}}),
    );
    log
}

async fn row(conn: &mut sqlx::PgConnection) -> (String, String, Option<String>, Option<String>) {
    sqlx::query_as(
        "SELECT status, plan, stripe_customer_id, stripe_subscription_id
           FROM billing_subscriptions WHERE tenant_id = $1",
    )
    .bind(TENANT)
    .fetch_one(conn)
    .await
    .expect("the subscription")
}

/// A payment row: status, amount, currency, attempt.
type PaymentRow = (String, Option<i64>, Option<String>, Option<i32>);

#[tokio::test]
async fn a_failed_retry_after_suspension_keeps_it_suspended_until_a_payment_succeeds() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = subscribed_then_failed_suspended_and_paid();
    apply(&BillingAdmin, &mut conn, &log.events).await;
    let (status, plan, customer, sub) = row(&mut conn).await;
    assert_eq!(status, "suspended");
    assert_eq!(plan, "pro");
    assert_eq!(customer.as_deref(), Some("cus_9"));
    assert_eq!(sub.as_deref(), Some("sub_9"));

    subscription(
        &mut log,
        json!({"PaymentSucceeded": {"invoice_id": "in_1", "amount_cents": 39900,
            "currency": "BRL", "period_end": "2026-03-10T09:00:00Z",
            "at": "2026-02-19T09:00:00Z"}}),
    );
    apply(&BillingAdmin, &mut conn, &log.events[4..]).await;
    assert_eq!(row(&mut conn).await.0, "active");
    let payments: Vec<PaymentRow> = sqlx::query_as(
        "SELECT status, amount_cents, currency, attempt FROM billing_payments ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("payments");
    assert_eq!(
        payments,
        [
            ("failed".to_owned(), None, None, Some(1)),
            ("failed".to_owned(), None, None, Some(2)),
            (
                "succeeded".to_owned(),
                Some(39900),
                Some("brl".to_owned()),
                None
            ),
        ]
    );
}

#[tokio::test]
async fn applying_the_log_twice_leaves_the_same_tables() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let log = subscribed_then_failed_suspended_and_paid();
    apply(&BillingAdmin, &mut conn, &log.events).await;
    let once = dump(&mut conn, BillingAdmin.tables()).await;
    apply(&BillingAdmin, &mut conn, &log.events).await;
    assert_eq!(dump(&mut conn, BillingAdmin.tables()).await, once);
}

#[tokio::test]
async fn a_cancellation_scheduled_for_the_period_end_shows_until_it_is_undone() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = subscribed();
    subscription(
        &mut log,
        json!({"CancelAtPeriodEndChanged": {"cancel_at_period_end": true,
            "at": "2026-01-20T09:00:00Z"}}),
    );
    apply(&BillingAdmin, &mut conn, &log.events).await;
    assert!(scheduled(&mut conn).await);
    assert_eq!(
        row(&mut conn).await.0,
        "active",
        "still active until the end"
    );

    subscription(
        &mut log,
        json!({"CancelAtPeriodEndChanged": {"cancel_at_period_end": false,
            "at": "2026-01-21T09:00:00Z"}}),
    );
    apply(&BillingAdmin, &mut conn, &log.events[2..]).await;
    assert!(!scheduled(&mut conn).await);
    // The schedule delivered again must not come back.
    apply(&BillingAdmin, &mut conn, &log.events[1..2]).await;
    assert!(!scheduled(&mut conn).await);
}

async fn scheduled(conn: &mut sqlx::PgConnection) -> bool {
    sqlx::query_scalar(
        "SELECT cancel_at_period_end FROM billing_subscriptions WHERE tenant_id = $1",
    )
    .bind(TENANT)
    .fetch_one(conn)
    .await
    .expect("the row")
}

#[tokio::test]
async fn each_refund_is_kept_once_beside_the_payment_it_returns() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let mut log = subscribed();
    subscription(
        &mut log,
        json!({"PaymentSucceeded": {"invoice_id": "in_1", "amount_cents": 39900,
            "currency": "brl", "period_end": "2026-02-10T09:00:00Z",
            "at": "2026-01-10T09:00:00Z"}}),
    );
    subscription(
        &mut log,
        json!({"PaymentRefunded": {"refund_id": "re_1", "invoice_id": "in_1",
            "amount_cents": 9900, "currency": "brl", "at": "2026-01-12T09:00:00Z"}}),
    );
    apply(&BillingAdmin, &mut conn, &log.events).await;
    apply(&BillingAdmin, &mut conn, &log.events).await;
    let refunds: Vec<(Uuid, String, String, i64)> = sqlx::query_as(
        "SELECT tenant_id, refund_id, invoice_id, amount_cents FROM billing_refunds",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("rows");
    assert_eq!(refunds, [(TENANT, "re_1".into(), "in_1".into(), 9900)]);
    assert_eq!(
        row(&mut conn).await.0,
        "active",
        "a refund changes no status"
    );
}
