//! The bot's greeting (#15): the first answer of a new conversation is preceded by the
//! tenant's greeting, sent as its own WhatsApp message, once per conversation.

use crate::helpers::{spawn_app_with, TestApp};
use crate::settings::bot_settings;
use crate::tenants::send;
use crate::whatsapp::{
    await_count, cloud_message, count, linked_tenant, messages_webhook, post_signed,
    whatsapp_config,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE_NUMBER_ID: &str = "106540352242999";
const CONTACT: &str = "5511912344321";
const TOKEN: &str = "EAAG-greeting-token";
const GREETING: &str = "Olá! Sou a assistente virtual da Padaria Pão Quente.";
const KNOWLEDGE: &str = "Horário de funcionamento: abrimos de segunda a sábado das 7h às 20h.\n\
    Entregas: entregamos pães e bolos no bairro por R$ 5,00.";

/// The AI on with extractive answers (no model), the Graph API faked.
async fn app_with_ai(graph: &MockServer) -> TestApp {
    let whatsapp = whatsapp_config(Some(&graph.uri()), Some(TOKEN));
    spawn_app_with(move |c| {
        whatsapp(c);
        c.background.ai.ai_enabled = true;
        c.background.ai.ai_burst_ms = 50;
    })
    .await
}

/// A linked tenant with `greeting` and the knowledge loaded and indexed.
async fn tenant(app: &TestApp, greeting: &str) -> (Uuid, String) {
    let (tenant, owner) = linked_tenant(app, PHONE_NUMBER_ID, json!({})).await;
    // The local embedding scores the matching passage at about 0.45.
    let settings = bot_settings(greeting, 0.35);
    let put = send(
        app,
        Method::PUT,
        "/api/v1/settings/bot",
        Some(&settings),
        &owner,
    )
    .await;
    assert_eq!(put.status(), 200);
    let put = send(
        app,
        Method::PUT,
        "/api/v1/knowledge",
        Some(&json!({ "text": KNOWLEDGE })),
        &owner,
    )
    .await;
    assert_eq!(put.status(), 200);
    app.eventually("the knowledge is indexed", || async {
        let doc: Value = app
            .get_as("/api/v1/knowledge", &owner)
            .await
            .json()
            .await
            .unwrap_or(Value::Null);
        doc["index"]["version"] == json!(1)
    })
    .await;
    (tenant, owner)
}

async fn graph_accepting_everything() -> MockServer {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{PHONE_NUMBER_ID}/messages")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": CONTACT, "wa_id": CONTACT}],
            "messages": [{"id": format!("wamid.{}", Uuid::now_v7().simple())}]})))
        .mount(&graph)
        .await;
    graph
}

/// The texts the Graph API was asked to send, in order.
async fn texts_sent(graph: &MockServer) -> Vec<String> {
    graph
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter_map(|r| {
            let body: Value = serde_json::from_slice(&r.body).ok()?;
            body["text"]["body"].as_str().map(str::to_owned)
        })
        .collect()
}

async fn ask(app: &TestApp, id: &str, text: &str) {
    let hook = messages_webhook(PHONE_NUMBER_ID, vec![cloud_message(CONTACT, id, text, 2)]);
    assert_eq!(post_signed(app, &hook).await.status(), 200);
}

#[tokio::test]
async fn the_first_answer_of_a_new_conversation_is_preceded_by_the_greeting_once() {
    let graph = graph_accepting_everything().await;
    let app = app_with_ai(&graph).await;
    let (tenant, owner) = tenant(&app, GREETING).await;
    let id = schemas::conversation_id(tenant, CONTACT);

    ask(&app, "wamid.q1", "Qual o horário de funcionamento?").await;
    await_count(&app, "GreetingSent", 1).await;
    await_count(&app, "AiReplied", 1).await;
    await_count(&app, "OutboundSent", 2).await;
    let sent = texts_sent(&graph).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0], GREETING, "the greeting goes out first");
    assert_ne!(sent[1], GREETING);
    let purposes: Vec<String> =
        sqlx::query_scalar("SELECT purpose FROM whatsapp_outbound ORDER BY position")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(purposes, ["greeting", "ai_reply"]);
    app.eventually("the conversation shows the greeting", || async {
        let detail: Value = app
            .get_as(&format!("/api/v1/conversations/{id}"), &owner)
            .await
            .json()
            .await
            .unwrap_or(Value::Null);
        detail["messages"].as_array().is_some_and(|m| m.len() == 3)
    })
    .await;
    let detail: Value = app
        .get_as(&format!("/api/v1/conversations/{id}"), &owner)
        .await
        .json()
        .await
        .unwrap();
    let messages = detail["messages"].as_array().unwrap();
    assert_eq!(messages[1]["author"], "system", "{detail}");
    assert_eq!(messages[1]["purpose"], "greeting", "{detail}");
    assert_eq!(messages[2]["author"], "ai", "{detail}");
    assert_eq!(detail["status"], "ai_active");

    // The next question of the same conversation is answered without a greeting.
    ask(&app, "wamid.q2", "Qual o horário de funcionamento?").await;
    await_count(&app, "AiReplied", 2).await;
    await_count(&app, "OutboundSent", 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&app, "GreetingSent").await, 1);
    let sent = texts_sent(&graph).await;
    assert_eq!(
        sent.iter().filter(|t| *t == GREETING).count(),
        1,
        "{sent:?}"
    );
}

#[tokio::test]
async fn a_blank_greeting_sends_nothing_before_the_answer() {
    let graph = graph_accepting_everything().await;
    let app = app_with_ai(&graph).await;
    tenant(&app, "  ").await;
    ask(&app, "wamid.q1", "Qual o horário de funcionamento?").await;
    await_count(&app, "AiReplied", 1).await;
    await_count(&app, "OutboundSent", 1).await;
    assert_eq!(count(&app, "GreetingSent").await, 0);
}
