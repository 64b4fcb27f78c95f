//! Two command buses over one database behave like two atende processes: each caches
//! aggregate state, and neither may act on a stale copy.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use aggregates::{ConversationCommand, RandomIds, SystemClock, TenantCommand};
use chrono::Utc;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig};
use schemas::events::{MessageContent, Plan, ResumeReason};
use schemas::personal::MasterKey;
use schemas::{conversation_id, Actor, CommandMetadata, Personal};
use std::sync::Arc;

use uuid::Uuid;

/// One "process": its own caches, the deployment's shared master key.
async fn process(pool: &sqlx::PgPool, master: &MasterKey) -> CommandBus {
    let keys = KeyRing::open(pool.clone(), master.clone()).await.unwrap();
    CommandBus::new(
        pool.clone(),
        Arc::new(SystemClock),
        Arc::new(RandomIds),
        &CommandBusConfig::default(),
        Arc::new(|_, _| {}),
        Arc::new(keys),
    )
}

fn md(tenant: Uuid) -> CommandMetadata {
    CommandMetadata::new(Actor::system("test"), Some(tenant))
}

async fn conversation_with_a_message(bus: &CommandBus) -> (Uuid, String) {
    let tenant = Uuid::now_v7();
    bus.tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::RegisterTenant {
                tenant_id: tenant,
                name: "Loja".into(),
                owner_email: Personal::from("dono@loja.example"),
                plan: Plan("basic".into()),
            },
            &md(tenant),
        )
        .await
        .unwrap();
    let id = conversation_id(tenant, "5511900001111").to_string();
    bus.conversations
        .execute(
            &id,
            ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from("5511900001111"),
                contact_name: None,
                provider_message_id: "wamid.1".into(),
                content: MessageContent::Text(Personal::from("Tem entrega?")),
                sent_at: Utc::now(),
            },
            &md(tenant),
        )
        .await
        .unwrap();
    (tenant, id)
}

async fn event_types(pool: &sqlx::PgPool, id: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence")
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_ai_reply_decided_on_a_stale_cached_state_is_refused_not_recorded() {
    let db = testkit::test_database().await.unwrap();
    let master = MasterKey::generate();
    let (a, b) = (
        process(&db.pool, &master).await,
        process(&db.pool, &master).await,
    );
    // Given process A has the conversation cached in AiActive
    let (tenant, id) = conversation_with_a_message(&a).await;
    // and process B hands it to a human meanwhile
    b.conversations
        .execute(
            &id,
            ConversationCommand::RecordLowConfidence {
                confidence: 0.1,
                question: Personal::from("Tem entrega?"),
                reason: None,
            },
            &md(tenant),
        )
        .await
        .unwrap();
    // When A tries to record an AI reply
    let err = a
        .conversations
        .execute(
            &id,
            ConversationCommand::RecordAiReply {
                text: Personal::from("Temos sim."),
                confidence: 0.9,
                sources: vec![],
                model: "test".into(),
                tokens_in: 1,
                tokens_out: 1,
                run: None,
            },
            &md(tenant),
        )
        .await
        .unwrap_err();
    // Then it is refused on the fresh state and nothing was appended
    assert_eq!(err.code(), "ai_not_allowed");
    assert_eq!(
        event_types(&db.pool, &id).await,
        vec!["MessageReceived", "ConfidenceLow"]
    );
}

#[tokio::test]
async fn a_command_that_looks_like_a_no_op_on_stale_state_is_decided_again_on_fresh_state() {
    let db = testkit::test_database().await.unwrap();
    let master = MasterKey::generate();
    let (a, b) = (
        process(&db.pool, &master).await,
        process(&db.pool, &master).await,
    );
    let (tenant, id) = conversation_with_a_message(&a).await;
    // Given A has the conversation cached as AwaitingHuman
    a.conversations
        .execute(
            &id,
            ConversationCommand::RecordLowConfidence {
                confidence: 0.1,
                question: Personal::from("Tem entrega?"),
                reason: None,
            },
            &md(tenant),
        )
        .await
        .unwrap();
    // and B gives it back to the AI
    b.conversations
        .execute(
            &id,
            ConversationCommand::ResumeAi {
                reason: ResumeReason::Manual,
            },
            &md(tenant),
        )
        .await
        .unwrap();
    // When the customer asks A for a person (a no-op on A's stale AwaitingHuman copy)
    a.conversations
        .execute(
            &id,
            ConversationCommand::RequestHuman {
                question: Personal::from("Quero falar com uma pessoa"),
            },
            &md(tenant),
        )
        .await
        .unwrap();
    // Then the hand-off is recorded, because the real state was AiActive
    assert_eq!(
        event_types(&db.pool, &id).await,
        vec![
            "MessageReceived",
            "ConfidenceLow",
            "AiResumed",
            "HumanRequested"
        ]
    );
}
