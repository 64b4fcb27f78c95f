//! The directory against a real database: what each event does, and that an event
//! delivered again changes nothing.

use super::TenantDirectory;
use chrono::Utc;
use schemas::StoredEvent;
use serde_json::{json, Value};
use sqlx::PgConnection;
use stream::EventHandler;
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(7);

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

async fn row(db: &mut PgConnection) -> (String, String, Option<String>, i64) {
    sqlx::query_as(
        "SELECT plan, status, phone_number_id, last_sequence FROM tenant_directory
          WHERE tenant_id = $1",
    )
    .bind(TENANT)
    .fetch_one(db)
    .await
    .expect("the tenant's row")
}

#[tokio::test]
async fn the_directory_follows_a_tenant_and_ignores_events_delivered_again() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let registered = event(
        "tenant",
        1,
        1,
        json!({"TenantRegistered": {"tenant_id": TENANT, "name": "Loja",
            "owner_email": {"$pii": "sealed"}, "plan": "basic", "at": Utc::now()}}),
    );
    let linked = event(
        "tenant",
        2,
        2,
        json!({"WhatsAppNumberLinked": {"phone_number_id": "123",
            "display_phone_number": {"$pii": "sealed"}}}),
    );
    let subscribed = event(
        "subscription",
        1,
        3,
        json!({"ComplimentarySubscriptionStarted": {"plan": "pro"}}),
    );
    let suspended = event("tenant", 3, 4, json!({"TenantSuspended": {"reason": "x"}}));
    for e in [&registered, &linked, &subscribed, &suspended] {
        TenantDirectory.handle(&mut conn, e).await.expect("applied");
    }
    let expected = (
        "pro".to_owned(),
        "suspended".to_owned(),
        Some("123".to_owned()),
        3,
    );
    assert_eq!(row(&mut conn).await, expected);

    let reactivated = event("tenant", 4, 5, json!({"TenantReactivated": {}}));
    TenantDirectory
        .handle(&mut conn, &reactivated)
        .await
        .expect("applied");
    for e in [&registered, &suspended] {
        TenantDirectory.handle(&mut conn, e).await.expect("applied");
    }
    assert_eq!(
        row(&mut conn).await.1,
        "active",
        "an old suspension came back"
    );
}

#[tokio::test]
async fn a_malformed_registration_is_rejected_rather_than_half_applied() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let broken = event(
        "tenant",
        1,
        1,
        json!({"TenantRegistered": {"plan": "basic"}}),
    );
    assert!(TenantDirectory.handle(&mut conn, &broken).await.is_err());
}

#[tokio::test]
async fn the_directory_keeps_the_language_a_tenant_chose() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let registered = event(
        "tenant",
        1,
        1,
        json!({"TenantRegistered": {"tenant_id": TENANT, "name": "Shop",
            "owner_email": {"$pii": "sealed"}, "plan": "basic", "at": Utc::now()}}),
    );
    TenantDirectory
        .handle(&mut conn, &registered)
        .await
        .expect("applied");
    let locale = || async {
        let mut conn = db.pool.acquire().await.expect("a connection");
        sqlx::query_scalar::<_, String>("SELECT locale FROM tenant_directory WHERE tenant_id = $1")
            .bind(TENANT)
            .fetch_one(&mut *conn)
            .await
            .expect("the tenant's row")
    };
    assert_eq!(locale().await, "pt-BR", "the default before any choice");
    let chosen = event(
        "tenant",
        2,
        2,
        json!({"LocaleChanged": {"locale": "en", "at": Utc::now()}}),
    );
    TenantDirectory
        .handle(&mut conn, &chosen)
        .await
        .expect("applied");
    assert_eq!(locale().await, "en");
}

// Per-tenant AI limits (issue 18).
#[tokio::test]
async fn a_tenants_own_ai_limits_are_kept_as_last_set_and_none_before() {
    use schemas::events::AiLimits;
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    assert_eq!(
        super::ai_limits(&mut conn, TENANT).await.expect("read"),
        AiLimits::default()
    );
    let registered = event(
        "tenant",
        1,
        1,
        json!({"TenantRegistered": {"tenant_id": TENANT, "name": "Loja",
            "owner_email": {"$pii": "sealed"}, "plan": "basic", "at": Utc::now()}}),
    );
    let set = event(
        "tenant",
        2,
        2,
        json!({"AiLimitsChanged": {"limits": {"requests_per_hour": 3, "tokens_per_day": null,
            "cost_per_month_usd": 0.0}, "at": Utc::now()}}),
    );
    for e in [&registered, &set] {
        TenantDirectory.handle(&mut conn, e).await.expect("applied");
    }
    let own = AiLimits {
        requests_per_hour: Some(3),
        tokens_per_day: None,
        cost_per_month_usd: Some(0.0),
    };
    assert_eq!(
        super::ai_limits(&mut conn, TENANT).await.expect("read"),
        own
    );
    let cleared = event(
        "tenant",
        3,
        3,
        json!({"AiLimitsChanged": {"limits": {"requests_per_hour": null,
            "tokens_per_day": null, "cost_per_month_usd": null}, "at": Utc::now()}}),
    );
    TenantDirectory
        .handle(&mut conn, &cleared)
        .await
        .expect("applied");
    // Delivered again, the older setting changes nothing.
    TenantDirectory
        .handle(&mut conn, &set)
        .await
        .expect("applied");
    assert_eq!(
        super::ai_limits(&mut conn, TENANT).await.expect("read"),
        AiLimits::default()
    );
}
