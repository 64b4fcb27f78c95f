//! Answers without a model, end to end (#16): with nothing configured but WhatsApp, an owner
//! loads the knowledge; a customer's question the knowledge answers gets the sentences that
//! answer it, and one it does not answer goes to a person, both through signed webhooks.

use crate::helpers::spawn_app_with;
use crate::settings::bot_settings;
use crate::tenants::send;
use crate::whatsapp::{
    await_count, cloud_message, linked_tenant, messages_webhook, post_signed, whatsapp_config,
};
use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE_NUMBER_ID: &str = "106540352242977";
const TOKEN: &str = "EAAG-answers-token";
const ASKS_HOURS: &str = "5511911110001";
const ASKS_REPAIRS: &str = "5511911110002";
const KNOWLEDGE: &str = include_str!("../../knowledge/tests/fixtures/padaria.txt");

fn accepted(to: &str, id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": id}]}))
}

#[tokio::test]
async fn without_a_model_the_knowledge_answers_what_it_states_and_hands_over_what_it_does_not() {
    let graph = MockServer::start().await;
    // The answer is the line about Saturdays, not the whole section.
    Mock::given(method("POST"))
        .and(path(format!("/{PHONE_NUMBER_ID}/messages")))
        .and(body_partial_json(json!({"to": ASKS_HOURS, "type": "text"})))
        .and(body_string_contains("Sábado: 6h às 14h"))
        .respond_with(accepted(ASKS_HOURS, "wamid.hours"))
        .expect(1)
        .named("the extractive answer")
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/{PHONE_NUMBER_ID}/messages")))
        .and(body_partial_json(json!({
            "to": ASKS_REPAIRS, "type": "text", "text": {"body": "Vou chamar alguém."}})))
        .respond_with(accepted(ASKS_REPAIRS, "wamid.fallback"))
        .expect(1)
        .named("the fallback message")
        .mount(&graph)
        .await;
    let whatsapp = whatsapp_config(Some(&graph.uri()), Some(TOKEN));
    let app = spawn_app_with(move |c| {
        whatsapp(c);
        c.background.ai.ai_enabled = true;
        c.background.ai.ai_burst_ms = 50;
    })
    .await;
    let template = json!({"template_name": "retomada", "template_language": "pt_BR"});
    let (_, owner) = linked_tenant(&app, PHONE_NUMBER_ID, template).await;
    let settings = bot_settings("Olá!", 0.5);
    let put = send(
        &app,
        Method::PUT,
        "/api/v1/settings/bot",
        Some(&settings),
        &owner,
    )
    .await;
    assert_eq!(put.status(), 200);
    let put = send(
        &app,
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

    let hook = messages_webhook(
        PHONE_NUMBER_ID,
        vec![
            cloud_message(
                ASKS_HOURS,
                "wamid.q1",
                "Bom dia! Vcs abrem sabado? Até q horas?",
                5,
            ),
            cloud_message(
                ASKS_REPAIRS,
                "wamid.q2",
                "Vocês consertam bicicletas elétricas?",
                5,
            ),
        ],
    );
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    await_count(&app, "AiReplied", 1).await;
    await_count(&app, "ConfidenceLow", 1).await;
    await_count(&app, "OutboundSent", 2).await;

    let reply: Value = sqlx::query_scalar(
        "SELECT payload->'AiReplied' FROM events WHERE event_type = 'AiReplied'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(reply["model"], "extractive", "{reply}");
    assert!(reply["confidence"].as_f64().unwrap() >= 0.5, "{reply}");
    let low: Value = sqlx::query_scalar(
        "SELECT payload->'ConfidenceLow' FROM events WHERE event_type = 'ConfidenceLow'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(low["confidence"].as_f64().unwrap() < 0.5, "{low}");
    graph.verify().await;
}
