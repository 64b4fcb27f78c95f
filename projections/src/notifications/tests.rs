//! The notifications the event stream raises, against a real database.

use super::AdminNotifications;
use crate::tenants::TenantDirectory;
use chrono::Utc;
use schemas::StoredEvent;
use serde_json::{json, Value};
use stream::EventHandler;
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(11);

fn event(aggregate_type: &str, sequence: i64, position: i64, body: Value) -> StoredEvent {
    let event_type = body
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    StoredEvent {
        position,
        tx_id: position,
        recorded_at: Utc::now(),
        aggregate_type: aggregate_type.into(),
        aggregate_id: TENANT.to_string(),
        sequence,
        event_type,
        event_version: "1".into(),
        payload: body,
        metadata: Default::default(),
    }
}

#[tokio::test]
async fn a_registration_a_failed_payment_and_a_cancellation_each_raise_one_notification() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let at = Utc::now();
    let registered = event(
        "tenant",
        1,
        1,
        json!({"TenantRegistered": {"tenant_id": TENANT, "name": "Loja",
            "owner_email": {"$pii": "sealed"}, "plan": "basic", "at": at}}),
    );
    let failed = event(
        "subscription",
        2,
        2,
        json!({"PaymentFailed": {"invoice_id": "in_1", "attempt": 1, "at": at}}),
    );
    let cancelled = event(
        "subscription",
        3,
        3,
        json!({"SubscriptionCancelled": {"reason": "unpaid", "at": at}}),
    );
    let suspended = event("tenant", 2, 4, json!({"TenantSuspended": {"reason": "x"}}));
    TenantDirectory
        .handle(&mut conn, &registered)
        .await
        .expect("in the directory");
    // Delivered twice, as after a crash before the checkpoint moved.
    for e in [
        &registered,
        &failed,
        &cancelled,
        &suspended,
        &registered,
        &failed,
    ] {
        AdminNotifications
            .handle(&mut conn, e)
            .await
            .expect("applied");
    }
    let rows: Vec<(String, Option<Uuid>, String, Value)> = sqlx::query_as(
        "SELECT kind, tenant_id, subject, detail FROM admin_notifications ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "tenant_registered".to_owned(),
                Some(TENANT),
                "Loja".to_owned(),
                json!({"plan": "basic"})
            ),
            (
                "payment_failed".to_owned(),
                Some(TENANT),
                "Loja".to_owned(),
                json!({"invoice_id": "in_1", "attempt": 1})
            ),
            (
                "subscription_cancelled".to_owned(),
                Some(TENANT),
                "Loja".to_owned(),
                json!({"reason": "unpaid"})
            ),
        ]
    );
    assert!(!AdminNotifications.wants(&suspended));
}
