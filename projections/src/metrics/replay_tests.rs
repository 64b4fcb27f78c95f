//! Replaying the metrics, usage and report projections from the stored log rebuilds exactly
//! the tables the live projections built, byte for byte, however often it runs.

use super::test_log::{apply, dump, store, Log};
use serde_json::json;
use stream::replay::replay;
use stream::{Checkpoint, EventHandler, Tail};
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(7);

/// A tenant that subscribes, pays, is suspended, and talks with two customers.
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
        json!({"SubscriptionStarted": {"tenant_id": TENANT, "stripe_customer_id": "cus_1",
            "stripe_subscription_id": "sub_1", "plan": "pro", "trial_end": null,
            "status": "active", "at": "2026-01-31T09:00:00Z"}}),
    );
    log.push(
        "subscription",
        &t,
        json!({"PaymentSucceeded": {"invoice_id": "in_1", "amount_cents": 39900,
            "currency": "brl", "period_end": "2026-02-28T09:00:00Z",
            "at": "2026-01-31T09:00:01Z"}}),
    );
    for (c, minute) in [("c1", 10), ("c2", 20), ("c1", 30)] {
        let at = |s: u32| format!("2026-03-01T10:{minute}:{s:02}.123456Z");
        log.push(
            "conversation",
            c,
            json!({"MessageReceived": {"tenant_id": TENANT, "contact_wa_id": {"$pii": "x"},
                "contact_name": null, "provider_message_id": format!("m{minute}"),
                "content": {"text": {"$pii": "x"}}, "sent_at": at(0), "at": at(0)}}),
        );
        log.push(
            "conversation",
            c,
            json!({"AiReplied": {"outbound_id": Uuid::nil(), "text": {"$pii": "x"},
                "confidence": 0.9, "sources": [], "model": "gpt-4o-mini", "tokens_in": 120,
                "tokens_out": 30, "at": at(3)}}),
        );
        log.push(
            "conversation",
            c,
            json!({"HumanRequested": {"outbound_id": Uuid::nil(), "question": {"$pii": "x"},
                "at": at(5)}}),
        );
        log.push(
            "conversation",
            c,
            json!({"HumanReplied": {"outbound_id": Uuid::nil(), "agent_id": Uuid::nil(),
                "text": {"$pii": "x"}, "at": at(47)}}),
        );
        log.push(
            "conversation",
            c,
            json!({"ConversationResolved": {"at": at(59)}}),
        );
    }
    log.push(
        "tenant",
        &t,
        json!({"TenantSuspended": {"reason": "x", "at": "2026-03-02T00:00:00Z"}}),
    );
    log
}

#[tokio::test]
async fn replays_rebuild_the_live_tables_byte_for_byte() {
    let db = testkit::test_database().await.expect("a database");
    let log = log();
    store(&db.pool, &log.events).await;
    let tail = Tail::new(db.pool.clone());
    // The tail reads only below every open transaction of the cluster, and other tests'
    // transactions may hold it back for a moment.
    for _ in 0..500 {
        let visible = tail.read_after(Checkpoint::START).await.expect("a read");
        if visible.len() == log.events.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let handlers: [std::sync::Arc<dyn EventHandler>; 3] = [
        std::sync::Arc::new(super::TenantMetrics),
        std::sync::Arc::new(crate::usage::TenantUsage),
        std::sync::Arc::new(crate::reports::AdminReports),
    ];
    for handler in handlers {
        let handler = &handler;
        let live = {
            let mut conn = db.pool.acquire().await.expect("a connection");
            apply(handler.as_ref(), &mut conn, &log.events).await;
            dump(&mut conn, handler.tables()).await
        };
        assert!(
            live.iter().all(|rows| rows != &json!([])),
            "{}: every table has rows",
            handler.name()
        );
        for round in 1..=2 {
            replay(&tail, handler.clone())
                .await
                .expect("the replay succeeds");
            let mut conn = db.pool.acquire().await.expect("a connection");
            assert_eq!(
                dump(&mut conn, handler.tables()).await,
                live,
                "{} after replay {round}",
                handler.name()
            );
        }
    }
}
