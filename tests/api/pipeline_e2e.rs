//! The conversation pipeline end to end (#5), on the embedded stack with the AI on: a signed
//! Cloud API webhook in, the knowledge retrieved, the LLM (fake, OpenAI chat completions) asked,
//! the reply sent through the Graph API (fake); a question the knowledge cannot answer handed
//! to a human (fallback, e-mail over SMTP), the human's reply sent, and 24 h later (a clock the
//! test moves) the AI back with the tenant's return message.

use crate::helpers::{spawn_app_with, spawn_app_with_clock, TestApp};
use crate::settings::bot_settings;
use crate::tenants::send;
use crate::whatsapp::{
    await_count, cloud_message, count, linked_tenant, messages_webhook, post_signed, post_webhook,
    whatsapp_config, APP_SECRET,
};
use aggregates::FixedClock;
use atende::serve::ServeConfig;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use testkit::smtp::{ReceivedMail, SmtpSink};
use uuid::Uuid;
use wiremock::matchers::{body_partial_json, body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE_NUMBER_ID: &str = "106540352242922";
const CONTACT: &str = "5511987654321";
const PLATFORM_TOKEN: &str = "EAAG-platform-token";
const LLM_KEY: &str = "sk-e2e";
const KNOWLEDGE: &str = "Horário de funcionamento: abrimos de segunda a sábado das 7h às 20h.\n\
    Entregas: entregamos pães e bolos no bairro por R$ 5,00.\n\
    Pagamento: aceitamos Pix e cartão de crédito.";
const LLM_ANSWER: &str = "Abrimos de segunda a sábado, das 7h às 20h.";

/// The app with the AI on (short burst), the fake Graph API and the fake LLM.
fn pipeline_config(graph: &MockServer, llm: &MockServer) -> impl FnOnce(&mut ServeConfig) {
    let whatsapp = whatsapp_config(Some(&graph.uri()), Some(PLATFORM_TOKEN));
    let llm = format!("{}/v1", llm.uri());
    move |c| {
        whatsapp(c);
        c.background.ai.ai_enabled = true;
        c.background.ai.ai_burst_ms = 50;
        c.background.ai.openai_api_key = Some(LLM_KEY.into());
        c.background.ai.openai_base_url = llm;
        c.background.ai.openai_model = "gpt-4o-mini".into();
        c.background.ai.saga_poll_ms = 50;
    }
}

/// An OpenAI chat completion answering `text`.
fn completion(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-e2e",
        "object": "chat.completion",
        "created": 1_733_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 120, "completion_tokens": 14, "total_tokens": 134},
        "system_fingerprint": "fp_e2e"
    }))
}

/// The Graph API's answer to an accepted message.
fn accepted(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": CONTACT, "wa_id": CONTACT}],
        "messages": [{"id": id}]}))
}

/// Expects exactly one free-text message with `body` to the contact, with the platform token.
async fn expect_text_sent(graph: &MockServer, body: &str, provider_id: &str) {
    Mock::given(method("POST"))
        .and(path(format!("/{PHONE_NUMBER_ID}/messages")))
        .and(header("authorization", format!("Bearer {PLATFORM_TOKEN}")))
        .and(body_partial_json(json!({
            "messaging_product": "whatsapp", "to": CONTACT, "type": "text",
            "text": {"body": body}})))
        .respond_with(accepted(provider_id))
        .expect(1)
        .named(body.to_owned())
        .mount(graph)
        .await;
}

/// A linked tenant whose owner loaded the knowledge and set the bot's messages; returns its
/// id and the owner's token once the knowledge is indexed.
async fn tenant_with_knowledge(app: &TestApp) -> (Uuid, String) {
    let template = json!({"template_name": "retomada", "template_language": "pt_BR"});
    let (tenant, owner) = linked_tenant(app, PHONE_NUMBER_ID, template).await;
    // The tenant lowers the threshold, as an owner may: the unanswerable question below
    // must still be handed over.
    let settings = bot_settings("Olá!", 0.35);
    let put = send(
        app,
        Method::PUT,
        "/api/v1/settings/bot",
        Some(&settings),
        &owner,
    )
    .await;
    assert_eq!(put.status(), 200, "the bot settings");
    let put = send(
        app,
        Method::PUT,
        "/api/v1/knowledge",
        Some(&json!({ "text": KNOWLEDGE })),
        &owner,
    )
    .await;
    assert_eq!(put.status(), 200, "the knowledge");
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

/// The hand-off e-mails (pt-BR) the SMTP sink received.
fn handed_off(sink: &SmtpSink) -> Vec<ReceivedMail> {
    sink.received()
        .into_iter()
        .filter(|m| {
            m.header("Subject")
                .is_some_and(|s| s.starts_with("Conversa passada para um atendente"))
        })
        .collect()
}

async fn conversation(app: &TestApp, owner: &str, id: Uuid) -> Value {
    app.get_as(&format!("/api/v1/conversations/{id}"), owner)
        .await
        .json()
        .await
        .unwrap_or(Value::Null)
}

async fn wait_status(app: &TestApp, owner: &str, id: Uuid, status: &str) {
    app.eventually(&format!("the conversation is {status}"), || async {
        conversation(app, owner, id).await["status"] == status
    })
    .await;
}

#[tokio::test]
async fn a_question_the_knowledge_answers_is_answered_by_the_llm_through_the_graph_api_once() {
    let (graph, llm) = (MockServer::start().await, MockServer::start().await);
    // The model is asked with the passage the knowledge base retrieved.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {LLM_KEY}")))
        .and(body_partial_json(json!({"model": "gpt-4o-mini"})))
        .and(body_string_contains("das 7h às 20h"))
        .respond_with(completion(LLM_ANSWER))
        .expect(1)
        .mount(&llm)
        .await;
    // A new conversation: the tenant's greeting goes out first.
    expect_text_sent(&graph, "Olá!", "wamid.greeting").await;
    expect_text_sent(&graph, LLM_ANSWER, "wamid.answer").await;
    let app = spawn_app_with(pipeline_config(&graph, &llm)).await;
    let (tenant, owner) = tenant_with_knowledge(&app).await;
    let id = schemas::conversation_id(tenant, CONTACT);

    let hook = messages_webhook(
        PHONE_NUMBER_ID,
        vec![cloud_message(
            CONTACT,
            "wamid.question",
            "Qual o horário de funcionamento?",
            5,
        )],
    );
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    await_count(&app, "MessageReceived", 1).await;
    await_count(&app, "AiReplied", 1).await;
    await_count(&app, "OutboundSent", 2).await;
    let sent: Value = sqlx::query_scalar(
        "SELECT payload FROM events WHERE event_type = 'OutboundSent' ORDER BY position DESC LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(sent["OutboundSent"]["provider_message_id"], "wamid.answer");
    let detail = conversation(&app, &owner, id).await;
    assert_eq!(detail["status"], "ai_active", "{detail}");

    // Meta delivers the same webhook again: recorded once, answered once.
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    // A forged delivery of a new question: refused, nothing recorded, nothing answered.
    let forged = serde_json::to_vec(&messages_webhook(
        PHONE_NUMBER_ID,
        vec![cloud_message(
            CONTACT,
            "wamid.forged",
            "Vocês aceitam Pix?",
            1,
        )],
    ))
    .unwrap();
    let wrong = integrations::whatsapp::sign(b"not-the-app-secret", &forged);
    assert_ne!(
        wrong,
        integrations::whatsapp::sign(APP_SECRET.as_bytes(), &forged)
    );
    assert_eq!(
        post_webhook(&app, &forged, Some(&wrong)).await.status(),
        401
    );
    assert_eq!(post_webhook(&app, &forged, None).await.status(), 401);

    // Long enough for a second answer (burst 50 ms, tail 20 ms) to have been sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for (event, n) in [
        ("MessageReceived", 1),
        ("AiReplied", 1),
        ("GreetingSent", 1),
        ("OutboundSent", 2),
    ] {
        assert_eq!(count(&app, event).await, n, "{event}");
    }
    let stored_forged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE payload::text LIKE '%wamid.forged%'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored_forged, 0, "the forged message is not stored");
    graph.verify().await;
    llm.verify().await;
}

#[tokio::test]
async fn an_unanswerable_question_goes_to_a_human_whose_reply_is_sent_and_a_day_later_the_ai_returns(
) {
    let (graph, llm) = (MockServer::start().await, MockServer::start().await);
    // Nothing in the knowledge is close enough: the model is never asked.
    Mock::given(method("POST"))
        .respond_with(completion("invented"))
        .expect(0)
        .mount(&llm)
        .await;
    expect_text_sent(&graph, "Olá!", "wamid.greeting").await;
    expect_text_sent(&graph, "Vou chamar alguém.", "wamid.fallback").await;
    expect_text_sent(&graph, "Olá, aqui é a Ana.", "wamid.human").await;
    // A day after the customer's message their 24 h window is closed: the return message
    // goes out as the tenant's approved template.
    Mock::given(method("POST"))
        .and(path(format!("/{PHONE_NUMBER_ID}/messages")))
        .and(header("authorization", format!("Bearer {PLATFORM_TOKEN}")))
        .and(body_partial_json(json!({
            "messaging_product": "whatsapp", "to": CONTACT, "type": "template",
            "template": {"name": "retomada", "language": {"code": "pt_BR"}}})))
        .respond_with(accepted("wamid.return"))
        .expect(1)
        .named("the return template")
        .mount(&graph)
        .await;
    let sink = SmtpSink::start().await.unwrap();
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let configure = pipeline_config(&graph, &llm);
    let smtp = sink.url();
    let app = spawn_app_with_clock(clock.clone(), move |c| {
        configure(c);
        c.background.mail.smtp_url = Some(smtp);
    })
    .await;
    let (tenant, owner) = tenant_with_knowledge(&app).await;
    let id = schemas::conversation_id(tenant, CONTACT);

    let hook = messages_webhook(
        PHONE_NUMBER_ID,
        vec![cloud_message(
            CONTACT,
            "wamid.unknown",
            "Vocês consertam bicicletas elétricas?",
            5,
        )],
    );
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    await_count(&app, "MessageReceived", 1).await;
    // The burst window passes on the app's clock.
    clock.advance(chrono::Duration::seconds(1));
    wait_status(&app, &owner, id, "awaiting_human").await;
    await_count(&app, "ConfidenceLow", 1).await;
    await_count(&app, "OutboundSent", 2).await;
    let detail = conversation(&app, &owner, id).await;
    assert_eq!(detail["handoff_reason"], "low_confidence", "{detail}");
    app.eventually("the hand-off e-mail arrives", || async {
        !handed_off(&sink).is_empty()
    })
    .await;
    let mails = handed_off(&sink);
    assert_eq!(mails.len(), 1, "one hand-off e-mail");
    assert!(
        mails[0].rcpt_to.iter().all(|to| to.starts_with("owner-")),
        "to the owner: {:?}",
        mails[0].rcpt_to
    );

    // Two hours later the agent answers from the dashboard.
    clock.advance(chrono::Duration::hours(2));
    let replied = app
        .post_json(
            &format!("/api/v1/conversations/{id}/reply"),
            &json!({"text": "Olá, aqui é a Ana."}),
            Some(&owner),
        )
        .await;
    assert_eq!(replied.status(), 200);
    await_count(&app, "OutboundSent", 3).await;
    wait_status(&app, &owner, id, "human_replied").await;

    // A day after the hand-off but not after the human's reply: the reply moved the
    // deadline, so the AI stays out.
    clock.advance(chrono::Duration::hours(22) + chrono::Duration::minutes(1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        count(&app, "AiResumed").await,
        0,
        "not before 24 h of human silence"
    );

    // A day after the human's reply, the AI takes the conversation back.
    clock.advance(chrono::Duration::hours(2));
    await_count(&app, "AiResumed", 1).await;
    let resumed: Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'AiResumed'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(resumed["AiResumed"]["reason"], "timeout", "{resumed}");
    await_count(&app, "OutboundSent", 4).await;
    wait_status(&app, &owner, id, "ai_active").await;
    assert_eq!(handed_off(&sink).len(), 1, "the hand-off is e-mailed once");
    graph.verify().await;
    llm.verify().await;
}
