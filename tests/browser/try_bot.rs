//! "Try the bot" on the knowledge page: the owner asks a customer's question and sees the
//! AI's decision, its confidence against the threshold and the passages it found; a
//! request for a person shows the hand-off instead. Nothing reaches a conversation.

use crate::harness::Console;
use serde_json::Value;

async fn ask(console: &Console, question: &str) {
    let input = console.wait_for("#try-question").await;
    input.click().await.unwrap();
    let _: bool = console
        .eval("(() => { document.getElementById('try-question').value = ''; return true; })()")
        .await;
    console.type_text(question).await;
    console.press("Enter").await;
}

#[tokio::test]
async fn an_owner_tries_the_bot_on_the_knowledge_page_and_sees_answer_confidence_and_passages() {
    let console = Console::start().await;
    let tenant = console.tenant("Sorveteria Polo Norte").await;
    let token = console.app.access_token(&tenant.owner).await;
    let saved = console
        .app
        .client
        .put(console.url("/api/v1/knowledge"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"text":
            "Horário de funcionamento: abrimos todos os dias, das 10h às 22h.\n\n\
             Sabores: chocolate, morango, creme, pistache e limão.\n\n\
             Entregas: fazemos entregas pelo aplicativo, com taxa de R$ 6,00."}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    console
        .app
        .eventually("the knowledge is indexed", || async {
            let doc: Value = console
                .app
                .get_as("/api/v1/knowledge", &token)
                .await
                .json()
                .await
                .unwrap();
            doc["index"]["version"] == 1
        })
        .await;

    console.sign_in(&tenant.owner).await;
    console.open("/knowledge").await;
    ask(
        &console,
        "Qual o horario de funcionamento? Abrem todos os dias?",
    )
    .await;
    let decision = console.text("#try-result #try-decision").await;
    assert_eq!(decision, "A IA responderia", "{decision}");
    let passages = console.text("#try-result .passages").await;
    assert!(passages.contains("das 10h às 22h"), "{passages}");
    let meter: (f64, String) = (
        console
            .eval("Number(document.querySelector('#try-result [role=meter]').getAttribute('aria-valuenow'))")
            .await,
        console.text("#try-result .confidence-line").await,
    );
    assert!(meter.0 > 0.0, "the confidence bar is filled: {meter:?}");
    assert!(meter.1.contains("limite"), "{meter:?}");
    console.assert_axe_clean("try the bot").await;
    console.screenshot("knowledge-try-the-bot").await;

    ask(&console, "Quero falar com um atendente").await;
    console
        .wait_until(
            "the hand-off shows",
            "document.querySelector('#try-decision').textContent.includes('atendente')",
        )
        .await;
    console.screenshot("knowledge-try-the-bot-handoff").await;

    let conversations: Value = console
        .app
        .get_as("/api/v1/conversations", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        conversations["items"].as_array().map(Vec::len),
        Some(0),
        "trying the bot records nothing"
    );
    console.assert_no_js_errors().await;
}
