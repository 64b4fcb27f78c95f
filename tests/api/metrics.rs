//! `GET /api/v1/metrics`: a tenant's figures per day, from real conversation commands.

use crate::helpers::{spawn_app, TestApp};
use crate::tenants::onboard;
use aggregates::ConversationCommand;
use chrono::Utc;
use read_api::auth::Role;
use schemas::events::MessageContent;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use serde_json::Value;
use uuid::Uuid;

/// Runs conversation commands of one contact of one tenant, as the webhook and the AI
/// worker would.
pub struct Chat<'a> {
    pub app: &'a TestApp,
    pub tenant: Uuid,
    pub contact: String,
}

impl Chat<'_> {
    pub async fn run(&self, command: ConversationCommand) {
        let md = CommandMetadata::new(
            Actor {
                kind: ActorKind::Customer,
                id: "whatsapp".into(),
            },
            Some(self.tenant),
        );
        self.app
            .app
            .bus
            .conversations
            .execute(
                &conversation_id(self.tenant, &self.contact).to_string(),
                command,
                &md,
            )
            .await
            .expect("the conversation command succeeds");
    }

    pub async fn customer_writes(&self) {
        self.run(ConversationCommand::ReceiveMessage {
            tenant_id: self.tenant,
            contact_wa_id: Personal::from(self.contact.as_str()),
            contact_name: None,
            provider_message_id: format!("wamid.{}", Uuid::now_v7()),
            content: MessageContent::Text(Personal::from("Qual o horário?")),
            sent_at: Utc::now(),
        })
        .await;
    }

    pub async fn ai_answers(&self, model: &str, tokens_in: u32, tokens_out: u32) {
        self.run(ConversationCommand::RecordAiReply {
            text: Personal::from("Das 8h às 18h."),
            confidence: 0.9,
            sources: vec![],
            model: model.into(),
            tokens_in,
            tokens_out,
            run: None,
        })
        .await;
    }

    pub async fn ai_is_unsure(&self) {
        self.run(ConversationCommand::RecordLowConfidence {
            confidence: 0.1,
            question: Personal::from("?"),
            reason: None,
        })
        .await;
    }

    pub async fn human_answers(&self, agent: Uuid) {
        self.run(ConversationCommand::ReplyAsHuman {
            agent_id: agent,
            text: Personal::from("Olá, sou a Ana."),
        })
        .await;
    }

    pub async fn resolve(&self) {
        self.run(ConversationCommand::Resolve).await;
    }
}

async fn metrics(app: &TestApp, token: &str, query: &str) -> Value {
    let resp = app.get_as(&format!("/api/v1/metrics{query}"), token).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_tenant_reads_todays_messages_handoffs_resolutions_and_response_times() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, owner, token) = onboard(&app, &admin, "Padaria").await;
    let handed_off = Chat {
        app: &app,
        tenant,
        contact: "5511900000001".into(),
    };
    handed_off.customer_writes().await;
    handed_off.ai_answers("gpt-4o-mini", 100, 20).await;
    handed_off.customer_writes().await;
    handed_off.ai_is_unsure().await;
    handed_off.human_answers(owner.id).await;
    handed_off.resolve().await;
    let ai_only = Chat {
        app: &app,
        tenant,
        contact: "5511900000002".into(),
    };
    ai_only.customer_writes().await;
    ai_only.ai_answers("gpt-4o-mini", 100, 20).await;
    ai_only.resolve().await;

    app.eventually("both resolutions are projected", || async {
        metrics(&app, &token, "").await["totals"]["resolved_conversations"] == 2
    })
    .await;
    let body = metrics(&app, &token, "").await;
    let days = body["days"].as_array().unwrap();
    assert_eq!(days.len(), 30, "the last 30 days by default");
    let today = days.last().unwrap();
    assert_eq!(today["day"], Utc::now().date_naive().to_string());
    assert_eq!(today["inbound_messages"], 3);
    assert_eq!(today["ai_replies"], 2);
    assert_eq!(today["handoffs"], 1);
    assert_eq!(today["resolved_by_ai"], 1);
    assert_eq!(today["ai_resolution_rate"], 0.5);
    for median in [
        "median_ai_first_response_secs",
        "median_human_first_response_secs",
        "median_human_response_secs",
    ] {
        assert!(
            today[median].as_f64().is_some_and(|s| s >= 0.0),
            "{median}: {today}"
        );
    }
    assert_eq!(days[0]["inbound_messages"], 0);
    assert_eq!(days[0]["ai_resolution_rate"], Value::Null);
    assert_eq!(body["totals"]["inbound_messages"], 3);
}

#[tokio::test]
async fn another_tenant_sees_none_of_those_figures() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (a, _, a_token) = onboard(&app, &admin, "A").await;
    let (_, _, b_token) = onboard(&app, &admin, "B").await;
    let chat = Chat {
        app: &app,
        tenant: a,
        contact: "5511900000003".into(),
    };
    chat.customer_writes().await;
    app.eventually("A's message is projected", || async {
        metrics(&app, &a_token, "").await["totals"]["inbound_messages"] == 1
    })
    .await;
    assert_eq!(
        metrics(&app, &b_token, "").await["totals"]["inbound_messages"],
        0
    );
}

#[tokio::test]
async fn a_range_is_checked_and_platform_users_are_refused() {
    let app = spawn_app().await;
    let (_, token) = app.signed_in(Role::Agent).await;
    for (query, code) in [
        ("?from=2026-02-01&to=2026-01-01", "invalid_range"),
        ("?from=2025-01-01&to=2026-01-02", "range_too_long"),
        ("?from=01-02-2026", "invalid_date"),
    ] {
        let resp = app.get_as(&format!("/api/v1/metrics{query}"), &token).await;
        assert_eq!(resp.status(), 422, "{query}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], code, "{query}");
    }
    let year = metrics(&app, &token, "?from=2024-01-01&to=2024-12-31").await;
    assert_eq!(year["days"].as_array().unwrap().len(), 366);
    let (_, admin) = app.signed_in(Role::Admin).await;
    assert_eq!(app.get_as("/api/v1/metrics", &admin).await.status(), 403);
}
