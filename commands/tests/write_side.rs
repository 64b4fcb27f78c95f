//! The write side against a real PostgreSQL: metadata, positions, snapshots, retries and
//! the services behind the aggregates.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use aggregates::{ConversationCommand, ErrorKind, RandomIds, SystemClock, TenantCommand};
use chrono::Utc;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig, CommandError};
use schemas::events::{MessageContent, Plan};
use schemas::personal::MasterKey;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use uuid::Uuid;

async fn bus(pool: &sqlx::PgPool, snapshot_every: usize) -> (Arc<CommandBus>, Arc<AtomicUsize>) {
    let keys = KeyRing::open(pool.clone(), MasterKey::generate())
        .await
        .unwrap();
    let commits = Arc::new(AtomicUsize::new(0));
    let counter = commits.clone();
    let bus = CommandBus::new(
        pool.clone(),
        Arc::new(SystemClock),
        Arc::new(RandomIds),
        &CommandBusConfig {
            snapshot_every,
            ..Default::default()
        },
        Arc::new(move |_, _| {
            counter.fetch_add(1, Ordering::SeqCst);
        }),
        Arc::new(keys),
    );
    (Arc::new(bus), commits)
}

fn admin(tenant: Uuid) -> CommandMetadata {
    CommandMetadata::new(
        Actor {
            kind: ActorKind::Admin,
            id: "admin-1".into(),
        },
        Some(tenant),
    )
}

async fn register(bus: &CommandBus, tenant: Uuid) {
    bus.tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::RegisterTenant {
                tenant_id: tenant,
                name: "Padaria Sol".into(),
                owner_email: Personal::from("dona@padariasol.example"),
                plan: Plan("basic".into()),
            },
            &admin(tenant),
        )
        .await
        .unwrap();
}

fn receive(tenant: Uuid, contact: &str, message_id: &str) -> ConversationCommand {
    ConversationCommand::ReceiveMessage {
        tenant_id: tenant,
        contact_wa_id: Personal::from(contact),
        contact_name: None,
        provider_message_id: message_id.into(),
        content: MessageContent::Text(Personal::from("Vocês abrem domingo?")),
        sent_at: Utc::now(),
    }
}

fn customer(tenant: Uuid) -> CommandMetadata {
    CommandMetadata::new(
        Actor {
            kind: ActorKind::Customer,
            id: "whatsapp".into(),
        },
        Some(tenant),
    )
}

#[tokio::test]
async fn every_event_stores_its_command_metadata_position_time_and_transaction() {
    let db = testkit::test_database().await.unwrap();
    let (bus, commits) = bus(&db.pool, 50).await;
    let tenant = Uuid::now_v7();
    let md = admin(tenant).with_idempotency_key("register-padaria");
    bus.tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::RegisterTenant {
                tenant_id: tenant,
                name: "Padaria Sol".into(),
                owner_email: Personal::from("dona@padariasol.example"),
                plan: Plan("basic".into()),
            },
            &md,
        )
        .await
        .unwrap();

    let (metadata, position, tx_id, age_secs): (serde_json::Value, i64, i64, f64) = sqlx::query_as(
        "SELECT metadata, position, tx_id::text::bigint, extract(epoch FROM now() - recorded_at)::float8
           FROM events WHERE aggregate_id = $1",
    )
    .bind(tenant.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let stored: std::collections::HashMap<String, String> =
        serde_json::from_value(metadata).unwrap();
    assert_eq!(CommandMetadata::from_map(&stored).unwrap(), md);
    assert!(position > 0 && tx_id > 0);
    assert!((0.0..60.0).contains(&age_secs));
    assert_eq!(
        commits.load(Ordering::SeqCst),
        1,
        "the commit hook runs once per command"
    );
}

#[tokio::test]
async fn concurrent_commands_on_one_conversation_are_retried_not_lost() {
    let db = testkit::test_database().await.unwrap();
    let (bus, _) = bus(&db.pool, 50).await;
    let tenant = Uuid::now_v7();
    register(&bus, tenant).await;
    let id = conversation_id(tenant, "5511988887777").to_string();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let bus = bus.clone();
            let id = id.clone();
            tokio::spawn(async move {
                bus.conversations
                    .execute(
                        &id,
                        receive(tenant, "5511988887777", &format!("wamid.{i}")),
                        &customer(tenant),
                    )
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        stored_sequences(&db.pool, &id).await,
        (1..=12).collect::<Vec<i64>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_messages_to_many_conversations_each_land_once_in_order() {
    let db = testkit::test_database().await.unwrap();
    let (bus, _) = bus(&db.pool, 50).await;
    let tenant = Uuid::now_v7();
    register(&bus, tenant).await;
    let contacts: Vec<String> = (0..20).map(|c| format!("55119000{c:05}")).collect();
    // Written together in groups: one conversation's messages race each other within a
    // group as well as across groups.
    let tasks: Vec<_> = (0..5)
        .flat_map(|m| contacts.iter().map(move |c| (m, c.clone())))
        .map(|(m, contact)| {
            let bus = bus.clone();
            tokio::spawn(async move {
                let id = conversation_id(tenant, &contact).to_string();
                bus.conversations
                    .execute(
                        &id,
                        receive(tenant, &contact, &format!("wamid.{contact}.{m}")),
                        &customer(tenant),
                    )
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    for contact in &contacts {
        let id = conversation_id(tenant, contact).to_string();
        let sequences = stored_sequences(&db.pool, &id).await;
        assert_eq!(sequences, (1..=5).collect::<Vec<i64>>(), "{contact}");
        let (state, _) = bus.conversations.load(&id).await.unwrap();
        assert_eq!(state.message_count(), 5, "{contact}");
    }
}

/// The sequences stored for aggregate `id`, in order.
async fn stored_sequences(pool: &sqlx::PgPool, id: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT sequence FROM events WHERE aggregate_id = $1 ORDER BY sequence")
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The id of `contact`'s conversation after `n` messages, one command each.
async fn conversation_of_messages(
    bus: &CommandBus,
    tenant: Uuid,
    contact: &str,
    n: usize,
) -> String {
    let id = conversation_id(tenant, contact).to_string();
    for i in 0..n {
        bus.conversations
            .execute(
                &id,
                receive(tenant, contact, &format!("wamid.{i}")),
                &customer(tenant),
            )
            .await
            .unwrap();
    }
    id
}

#[tokio::test]
async fn a_long_conversation_is_loaded_from_its_snapshot_not_its_whole_history() {
    let db = testkit::test_database().await.unwrap();
    let (bus, _) = bus(&db.pool, 20).await;
    let tenant = Uuid::now_v7();
    register(&bus, tenant).await;
    let id = conversation_of_messages(&bus, tenant, "5511977776666", 45).await;
    let last_snapshot: i64 = sqlx::query_scalar(
        "SELECT last_sequence FROM snapshots WHERE aggregate_type = 'conversation' AND aggregate_id = $1",
    )
    .bind(&id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(last_snapshot, 40);

    // Make the history before the snapshot unreadable: a command that read it would fail.
    sqlx::query("UPDATE events SET payload = '{\"NotAnEvent\":{}}' WHERE aggregate_id = $1 AND sequence <= 40")
        .bind(&id)
        .execute(&db.pool)
        .await
        .unwrap();
    bus.conversations
        .execute(
            &id,
            receive(tenant, "5511977776666", "wamid.45"),
            &customer(tenant),
        )
        .await
        .unwrap();
    let (state, sequence) = bus.conversations.load(&id).await.unwrap();
    assert_eq!(sequence, 46);
    assert_eq!(state.message_count(), 46);
}

#[tokio::test]
async fn a_snapshot_that_no_longer_parses_is_rebuilt_from_the_events() {
    let db = testkit::test_database().await.unwrap();
    let (bus, _) = bus(&db.pool, 5).await;
    let tenant = Uuid::now_v7();
    register(&bus, tenant).await;
    let id = conversation_of_messages(&bus, tenant, "5511977775555", 7).await;
    // As after a change to the aggregate's shape.
    let changed =
        sqlx::query("UPDATE snapshots SET payload = '{\"shape\":\"old\"}' WHERE aggregate_id = $1")
            .bind(&id)
            .execute(&db.pool)
            .await
            .unwrap();
    assert_eq!(changed.rows_affected(), 1);

    let (state, sequence) = bus.conversations.load(&id).await.unwrap();

    assert_eq!(sequence, 7);
    assert_eq!(state.message_count(), 7);
}

#[tokio::test]
async fn a_whatsapp_number_linked_to_one_tenant_cannot_be_linked_to_another() {
    let db = testkit::test_database().await.unwrap();
    let (bus, _) = bus(&db.pool, 50).await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    register(&bus, a).await;
    register(&bus, b).await;
    let link = || TenantCommand::LinkWhatsAppNumber {
        phone_number_id: "106540352242922".into(),
        display_phone_number: Personal::from("+55 11 4000-0000"),
    };
    bus.tenants
        .execute(&a.to_string(), link(), &admin(a))
        .await
        .unwrap();
    let err = bus
        .tenants
        .execute(&b.to_string(), link(), &admin(b))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CommandError::Rejected {
                code: "phone_number_taken",
                kind: ErrorKind::Conflict,
                ..
            }
        ),
        "{err:?}"
    );
    // The owner relinking the same number is not an error.
    bus.tenants
        .execute(&a.to_string(), link(), &admin(a))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_suspended_tenant_still_records_customer_messages_but_the_ai_may_not_reply() {
    let db = testkit::test_database().await.unwrap();
    let (bus, _) = bus(&db.pool, 50).await;
    let tenant = Uuid::now_v7();
    register(&bus, tenant).await;
    bus.tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::Suspend {
                reason: "unpaid".into(),
            },
            &admin(tenant),
        )
        .await
        .unwrap();
    let id = conversation_id(tenant, "5511966665555").to_string();
    bus.conversations
        .execute(
            &id,
            receive(tenant, "5511966665555", "wamid.1"),
            &customer(tenant),
        )
        .await
        .unwrap();
    let err = bus
        .conversations
        .execute(
            &id,
            ConversationCommand::RecordAiReply {
                text: Personal::from("Abrimos sim!"),
                confidence: 0.9,
                sources: vec![],
                model: "test".into(),
                tokens_in: 1,
                tokens_out: 1,
                run: None,
            },
            &CommandMetadata::new(Actor::system("ai-responder"), Some(tenant)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "tenant_suspended");
}

#[tokio::test]
async fn a_message_for_an_unknown_tenant_is_refused() {
    let db = testkit::test_database().await.unwrap();
    let (bus, _) = bus(&db.pool, 50).await;
    let ghost = Uuid::now_v7();
    let id = conversation_id(ghost, "5511955554444").to_string();
    let err = bus
        .conversations
        .execute(
            &id,
            receive(ghost, "5511955554444", "wamid.1"),
            &customer(ghost),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "tenant_not_found");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "a refused command writes nothing");
}
