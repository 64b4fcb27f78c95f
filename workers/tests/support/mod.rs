//! A write side, an event stream and a tenant over a throw-away database, for the AI
//! responder's and the saga's tests.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it

use aggregates::{Clock, ConversationCommand, RandomIds, SubscriptionCommand, TenantCommand};
use chrono::Utc;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig};
use schemas::events::{MessageContent, Plan};
use schemas::personal::{open_json, sealed_key_ids, MasterKey};
use schemas::{conversation_id, Actor, CommandMetadata, Personal};
use serde_json::Value;
use sqlx::PgPool;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use stream::{CommitSignal, Tail};
use uuid::Uuid;

pub struct Env {
    pub db: testkit::TestDatabase,
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
    pub keys: Arc<KeyRing>,
    pub tail: Tail,
}

pub async fn env(clock: Arc<dyn Clock>) -> Env {
    let db = testkit::test_database().await.unwrap();
    let pool = db.pool.clone();
    let keys = Arc::new(
        KeyRing::open(pool.clone(), MasterKey::generate())
            .await
            .unwrap(),
    );
    let signal = CommitSignal::new();
    let notify = signal.clone();
    let bus = Arc::new(CommandBus::new(
        pool.clone(),
        clock,
        Arc::new(RandomIds),
        &CommandBusConfig::default(),
        Arc::new(move |_, _| notify.notify()),
        keys.clone(),
    ));
    let tail = Tail::new(pool.clone())
        .with_commit_signal(&signal)
        .with_idle_poll(Duration::from_millis(20));
    Env {
        db,
        pool,
        bus,
        keys,
        tail,
    }
}

pub fn md(tenant: Uuid) -> CommandMetadata {
    CommandMetadata::new(Actor::system("test"), Some(tenant))
}

pub const OWNER: &str = "dona@padaria.example";

impl Env {
    /// A tenant on `plan` with an active complimentary subscription and an owner account.
    pub async fn tenant(&self, plan: &str) -> Uuid {
        let tenant = self.unsubscribed_tenant(plan).await;
        self.bus
            .subscriptions
            .execute(
                &tenant.to_string(),
                SubscriptionCommand::StartComplimentary {
                    tenant_id: tenant,
                    plan: Plan(plan.into()),
                },
                &md(tenant),
            )
            .await
            .unwrap();
        tenant
    }

    /// A registered tenant with an owner account but no subscription.
    pub async fn unsubscribed_tenant(&self, plan: &str) -> Uuid {
        let tenant = Uuid::now_v7();
        self.bus
            .tenants
            .execute(
                &tenant.to_string(),
                TenantCommand::RegisterTenant {
                    tenant_id: tenant,
                    name: "Padaria Pão Quente".into(),
                    owner_email: Personal::from(OWNER),
                    plan: Plan(plan.into()),
                },
                &md(tenant),
            )
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, role, tenant_id)
             VALUES ($1, $2, 'x', 'owner', $3)",
        )
        .bind(Uuid::now_v7())
        .bind(format!(
            "{}+{tenant}@padaria.example",
            OWNER.split('@').next().unwrap()
        ))
        .bind(tenant)
        .execute(&self.pool)
        .await
        .unwrap();
        tenant
    }

    /// Records a customer's text message; returns the conversation id.
    pub async fn receive(
        &self,
        tenant: Uuid,
        contact: &str,
        message_id: &str,
        text: &str,
    ) -> String {
        let id = conversation_id(tenant, contact).to_string();
        self.bus
            .conversations
            .execute(
                &id,
                ConversationCommand::ReceiveMessage {
                    tenant_id: tenant,
                    contact_wa_id: Personal::from(contact),
                    contact_name: None,
                    provider_message_id: message_id.into(),
                    content: MessageContent::Text(Personal::from(text)),
                    sent_at: Utc::now(),
                },
                &md(tenant),
            )
            .await
            .unwrap();
        id
    }

    pub async fn run(&self, tenant: Uuid, conversation: &str, command: ConversationCommand) {
        self.bus
            .conversations
            .execute(conversation, command, &md(tenant))
            .await
            .unwrap();
    }

    /// The conversation's event types, in order.
    pub async fn event_types(&self, conversation: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    pub async fn count(&self, conversation: &str, event_type: &str) -> usize {
        self.event_types(conversation)
            .await
            .iter()
            .filter(|t| *t == event_type)
            .count()
    }

    /// The bodies of the conversation's events of `event_type`, personal fields opened.
    pub async fn bodies(&self, conversation: &str, event_type: &str) -> Vec<Value> {
        let payloads: Vec<Value> = sqlx::query_scalar(
            "SELECT payload FROM events WHERE aggregate_id = $1 AND event_type = $2
              ORDER BY sequence",
        )
        .bind(conversation)
        .bind(event_type)
        .fetch_all(&self.pool)
        .await
        .unwrap();
        let mut out = Vec::new();
        for mut p in payloads {
            let mut ids = Vec::new();
            sealed_key_ids(&p, &mut ids);
            let opener = self.keys.keys(&ids).await.unwrap();
            open_json(&mut p, &opener);
            out.push(p[event_type].clone());
        }
        out
    }

    /// Mails queued with `template`: (recipient, subject).
    pub async fn mails(&self, template: &str) -> Vec<(String, String)> {
        sqlx::query_as("SELECT recipient, subject FROM mail_outbox WHERE template = $1")
            .bind(template)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

/// Polls `check` until it holds or 15 s pass.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..750 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}
