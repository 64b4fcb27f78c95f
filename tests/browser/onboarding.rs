//! A new owner's first steps in the console: connect WhatsApp, load the knowledge and go
//! live, with the progress kept by the API, so a reload resumes where they stopped.

use crate::harness::Console;
use serde_json::Value;

#[tokio::test]
async fn a_new_owner_connects_whatsapp_loads_knowledge_goes_live_and_a_reload_resumes() {
    let console = Console::start().await;
    let tenant = console.tenant("Lavanderia Bolha").await;
    console.sign_in(&tenant.owner).await;
    console.open("/welcome").await;
    assert_eq!(
        console.text("#onboarding-progress").await,
        "0 de 4 passos concluídos"
    );
    console.assert_axe_clean("the first step").await;
    console.screenshot("onboarding-start").await;

    // Step 1: the Cloud API number.
    console.fill("#phone_number_id", "109876543210").await;
    console
        .fill("#display_phone_number", "+55 11 4000-1234")
        .await;
    console
        .wait_for("#panel-cloud_api button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_until(
            "the first step is done and the second open",
            "document.querySelector('.step.done #step-head-whatsapp') && document.getElementById('knowledge-text')",
        )
        .await;

    // Step 2: the knowledge.
    console
        .fill(
            "#knowledge-text",
            "Lavamos e passamos roupas em 24 horas. Buscamos e entregamos no bairro.",
        )
        .await;
    console
        .wait_for("#save-knowledge")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_until(
            "the knowledge step is done",
            "document.querySelector('.step.done #step-head-knowledge')",
        )
        .await;
    console.screenshot("onboarding-two-steps-done").await;

    // A reload resumes at the first step not done.
    console.page.reload().await.unwrap();
    console.wait_for("#onboarding-progress").await;
    assert_eq!(
        console.text("#onboarding-progress").await,
        "2 de 4 passos concluídos"
    );
    assert_eq!(
        console
            .eval::<String>("document.querySelector('.step.current .step-head').id")
            .await,
        "step-head-try"
    );

    console
        .wait_for("#step-head-live")
        .await
        .click()
        .await
        .unwrap();
    console.wait_for("#go-live").await.click().await.unwrap();
    console.wait_for("#onboarding-live").await;
    console.assert_axe_clean("gone live").await;
    console.screenshot("onboarding-live").await;

    let token = console.app.access_token(&tenant.owner).await;
    let progress: Value = console
        .app
        .get_as("/api/v1/onboarding", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(progress["whatsapp_connected"], true);
    assert_eq!(progress["knowledge_loaded"], true);
    assert_eq!(progress["live"], true);
    console.assert_no_js_errors().await;
}
