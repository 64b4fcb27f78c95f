//! The inbox live, and a conversation worked from the console: a customer writes on
//! WhatsApp, the open inbox shows it without a reload, and a person replies, assigns,
//! returns it to the AI and resolves it; the API sees each.

use crate::harness::Console;
use read_api::auth::Role;
use serde_json::Value;

async fn api(console: &Console, token: &str, path: &str) -> Value {
    let resp = console.app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_webhook_message_appears_live_and_the_conversation_is_replied_assigned_returned_and_resolved(
) {
    let console = Console::start_with_whatsapp().await;
    let tenant = console.tenant("Oficina do Zé").await;
    let agent = console
        .app
        .create_user("ana@oficina.example", Role::Agent, Some(tenant.id))
        .await;
    let token = console.app.access_token(&tenant.owner).await;
    console.link_number(&token).await;

    console.sign_in(&tenant.owner).await;
    console.wait_for(".inbox .empty").await;
    console
        .wait_until(
            "the stream is connected",
            "document.querySelector('.live:not(.off)')",
        )
        .await;
    // Anything a reload would wipe.
    let _: bool = console.eval("(window.stillTheSamePage = true)").await;

    console
        .customer_writes("Maria Souza", "Oi, vocês abrem domingo?")
        .await;

    let row = console.wait_for("[data-conversation]").await;
    assert!(
        console
            .eval::<bool>("window.stillTheSamePage === true")
            .await,
        "no reload"
    );
    let row_text = row.inner_text().await.unwrap().unwrap_or_default();
    assert!(row_text.contains("Maria Souza"), "{row_text}");
    assert!(row_text.contains("Oi, vocês abrem domingo?"), "{row_text}");
    console.screenshot("inbox-live-conversation").await;

    let id = row.attribute("data-conversation").await.unwrap().unwrap();
    row.click().await.unwrap();
    console.wait_for("#messages .msg.customer").await;
    assert_eq!(console.location().await, format!("/conversations/{id}"));
    let window = console.text("#window").await;
    assert!(
        window.contains("restantes"),
        "the 24 h window is open: {window}"
    );

    // Reply.
    console.wait_for("#reply-text").await.click().await.unwrap();
    console.type_text("Abrimos sim, das 9h às 13h.").await;
    console
        .wait_for(".reply button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    console.wait_for("#messages .msg.agent").await;
    console
        .wait_until(
            "the reply is marked sent",
            "document.querySelector('.msg.agent .tick.sent, .msg.agent .tick.delivered')",
        )
        .await;
    let detail = api(&console, &token, &format!("/api/v1/conversations/{id}")).await;
    assert_eq!(detail["status"], "human_replied");
    let last = detail["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["author"].as_str(), last["body"].as_str()),
        (Some("agent"), Some("Abrimos sim, das 9h às 13h."))
    );
    console.screenshot("conversation-replied").await;

    // Assign to the agent.
    let _: bool = console
        .eval(&format!(
            "(document.getElementById('assign-agent').value = '{}', true)",
            agent.id
        ))
        .await;
    console
        .wait_for(".assign button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_until(
            "the assignee shows",
            "document.getElementById('assignee').textContent.includes('ana@oficina.example')",
        )
        .await;
    let detail = api(&console, &token, &format!("/api/v1/conversations/{id}")).await;
    assert_eq!(detail["assigned_agent"], agent.id.to_string());

    // Return to the AI.
    console
        .wait_for("#return-to-ai")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_until(
            "the status shows the AI",
            "document.querySelector('.conv-title .badge.ai_active')",
        )
        .await;
    let detail = api(&console, &token, &format!("/api/v1/conversations/{id}")).await;
    assert_eq!(detail["status"], "ai_active");

    // Resolve.
    console.wait_for("#resolve").await.click().await.unwrap();
    console
        .wait_until(
            "the status shows resolved",
            "document.querySelector('.conv-title .badge.resolved')",
        )
        .await;
    let detail = api(&console, &token, &format!("/api/v1/conversations/{id}")).await;
    assert_eq!(detail["status"], "resolved");
    // The list followed along without a reload.
    console
        .wait_until(
            "the list shows it resolved",
            "document.querySelector('[data-conversation] .badge.resolved')",
        )
        .await;
    assert!(
        console
            .eval::<bool>("window.stillTheSamePage === true")
            .await
    );
    console.screenshot("conversation-resolved").await;
    console.assert_no_js_errors().await;
}
