//! The tenant's own pages, as an owner uses them: every page clean in both themes and at a
//! phone's width, the knowledge edited and indexed, the bot's settings changed, and the
//! pricing page starting a Stripe Checkout against a fake Stripe.

use crate::harness::Console;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Every page an owner has, with a selector that shows once its data is in.
const OWNER_PAGES: &[(&str, &str, &str)] = &[
    ("/welcome", "#onboarding-progress", "onboarding"),
    ("/knowledge", "#knowledge-text", "knowledge"),
    ("/bot", "#threshold", "bot"),
    ("/whatsapp", "#tab-cloud_api", "whatsapp"),
    ("/team", "#members .person", "team"),
    ("/insights", "#metrics-totals", "metrics"),
    ("/usage", "#quota-line", "usage"),
    ("/outbox", "#outbox .out-item", "outbox"),
    ("/profile", "#profile-email", "profile"),
];

async fn api(console: &Console, token: &str, path: &str) -> Value {
    let resp = console.app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn every_tenant_page_is_clean_in_both_themes_and_fits_a_phone() {
    let console = Console::start_with_whatsapp().await;
    let tenant = console.tenant("Doceria Flor de Lis").await;
    let token = console.app.access_token(&tenant.owner).await;
    console.link_number(&token).await;
    // Something in the outbox and the metrics: a customer writes and the owner replies.
    console
        .customer_writes("Beatriz Lima", "Vocês fazem bolo de aniversário?")
        .await;
    let conversation = std::sync::Mutex::new(String::new());
    console
        .app
        .eventually("the conversation is listed", || async {
            let list: Value = console
                .app
                .get_as("/api/v1/conversations", &token)
                .await
                .json()
                .await
                .unwrap();
            match list["items"][0]["id"].as_str() {
                Some(id) => {
                    *conversation.lock().unwrap() = id.to_owned();
                    true
                }
                None => false,
            }
        })
        .await;
    let id = conversation.lock().unwrap().clone();
    let replied = console
        .app
        .client
        .post(console.url(&format!("/api/v1/conversations/{id}/reply")))
        .bearer_auth(&token)
        .json(&json!({"text": "Fazemos sim! Encomendas com dois dias de antecedência."}))
        .send()
        .await
        .unwrap();
    assert!(replied.status().is_success(), "{}", replied.status());
    console
        .app
        .eventually("the reply is in the outbox", || async {
            let list: Value = console
                .app
                .get_as("/api/v1/outbox", &token)
                .await
                .json()
                .await
                .unwrap();
            list.as_array().is_some_and(|l| !l.is_empty())
        })
        .await;

    console.sign_in(&tenant.owner).await;
    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        for (page, ready, name) in OWNER_PAGES {
            console.open(page).await;
            console.wait_for(ready).await;
            console
                .assert_axe_clean(&format!("{page} ({scheme})"))
                .await;
            console.screenshot(&format!("{name}-{scheme}")).await;
        }
    }
    console.prefer_color_scheme("light").await;

    for (page, ready, name) in OWNER_PAGES {
        // A full-page screenshot resets the emulated viewport: set it for each page.
        console.viewport(360, 740).await;
        console.open(page).await;
        console.wait_for(ready).await;
        assert!(
            !console.scrolls_sideways().await,
            "{page} scrolls sideways at 360 px"
        );
        console.screenshot(&format!("phone-{name}")).await;
    }
    for (page, ready, name) in [
        ("/plans", "[data-plan]", "pricing"),
        ("/checkout/success", "main .success", "checkout-success"),
    ] {
        console.viewport(360, 740).await;
        console.open(page).await;
        console.wait_for(ready).await;
        assert!(!console.scrolls_sideways().await, "{page} at 360 px");
        console.assert_axe_clean(page).await;
        console.screenshot(&format!("phone-{name}")).await;
    }
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_owner_edits_the_knowledge_with_a_live_count_and_sees_it_saved_and_indexed() {
    let console = Console::start().await;
    let tenant = console.tenant("Padaria Pão Quente").await;
    console.sign_in(&tenant.owner).await;
    console.open("/knowledge").await;
    console.wait_for("#knowledge-text").await;
    assert_eq!(console.text("#knowledge-state dd").await, "nenhuma ainda");

    console
        .wait_for("#knowledge-text")
        .await
        .click()
        .await
        .unwrap();
    console.type_text("Abrimos as 7h.").await;
    assert_eq!(
        console.text("#char-count").await,
        "14 de 50.000 caracteres",
        "the count follows the typing"
    );
    let text = "Abrimos às 7h. Funcionamos de segunda a sábado, das 7h às 19h.\n\n\
                Entregamos pães e bolos em todo o bairro, com taxa de R$ 5,00.";
    console.fill("#knowledge-text", text).await;
    console
        .wait_until(
            "the count shows the pasted text",
            &format!(
                "document.getElementById('char-count').textContent.startsWith('{} de')",
                text.chars().count()
            ),
        )
        .await;
    console
        .wait_for("#save-knowledge")
        .await
        .click()
        .await
        .unwrap();
    let saved = console.text("main .success").await;
    assert!(saved.contains("versão 1"), "{saved}");
    console
        .wait_until(
            "the new version is indexed",
            "document.querySelector('#index-state .badge.answer')",
        )
        .await;
    assert!(console.text("#index-state").await.contains("versão 1"));
    console.screenshot("knowledge-saved").await;

    let token = console.app.access_token(&tenant.owner).await;
    let doc = api(&console, &token, "/api/v1/knowledge").await;
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["text"], text);

    // Over the limit, the count turns red and saving is refused in the page.
    console.fill("#knowledge-text", &"a".repeat(50_001)).await;
    console
        .wait_until(
            "the count is over the limit",
            "document.querySelector('#char-count.over') && document.getElementById('save-knowledge').disabled",
        )
        .await;
    console.screenshot("knowledge-too-long").await;
    console.page.reload().await.unwrap();
    console.wait_for("#knowledge-text").await;
    assert_eq!(
        console
            .eval::<String>("document.getElementById('knowledge-text').value")
            .await,
        text,
        "a reload shows the saved text"
    );
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_owner_changes_the_bots_tone_threshold_and_greeting_and_the_api_has_them() {
    let console = Console::start().await;
    let tenant = console.tenant("Academia Corpo Leve").await;
    console.sign_in(&tenant.owner).await;
    console.open("/bot").await;
    console.wait_for("#threshold").await;
    console
        .wait_for("input[name=tone][value=casual]")
        .await
        .click()
        .await
        .unwrap();
    console.fill("#threshold", "0.7").await;
    assert_eq!(console.text("#threshold-value").await, "70%");
    console
        .fill(
            "#msg-greeting",
            "Oi! Aqui é a Corpo Leve. Em que posso ajudar?",
        )
        .await;
    console.wait_for("#save-bot").await.click().await.unwrap();
    console.wait_for("main .success").await;

    let token = console.app.access_token(&tenant.owner).await;
    let settings = api(&console, &token, "/api/v1/settings/bot").await;
    assert_eq!(settings["tone"], "casual");
    assert_eq!(settings["confidence_threshold"], 0.7);
    assert_eq!(
        settings["greeting"],
        "Oi! Aqui é a Corpo Leve. Em que posso ajudar?"
    );
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn the_pricing_page_sends_the_buyer_to_the_checkout_session_stripe_created() {
    let stripe = MockServer::start().await;
    let checkout_page = format!("{}/c/pay/cs_test_console", stripe.uri());
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cs_test_console", "object": "checkout.session",
            "url": checkout_page, "mode": "subscription"})))
        .mount(&stripe)
        .await;
    // Stripe's hosted page, as far as this test needs it.
    Mock::given(method("GET"))
        .and(path("/c/pay/cs_test_console"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_string("<!doctype html><title>Stripe Checkout</title><h1>Pay</h1>"),
        )
        .mount(&stripe)
        .await;
    let stripe_uri = stripe.uri();
    let console = Console::start_with(move |c| {
        c.background.billing.stripe_secret_key = Some("sk_test_atende".into());
        c.background.billing.stripe_api_base = stripe_uri;
        c.background.billing.stripe_prices = Some("basic=price_basic,pro=price_pro".into());
    })
    .await;

    console.open("/plans").await;
    console.wait_for("[data-plan=pro] .subscribe").await;
    assert_eq!(
        console
            .eval::<Vec<String>>(
                "[...document.querySelectorAll('[data-plan]')].map(p => p.dataset.plan)"
            )
            .await,
        ["basic", "pro", "enterprise"],
        "cheapest first"
    );
    let pro = console.text("[data-plan=pro]").await;
    assert!(pro.contains("R$"), "{pro}");
    assert!(pro.contains("5.000 respostas da IA por mês"), "{pro}");
    assert!(
        console
            .eval::<bool>("!document.querySelector('[data-plan=enterprise] .subscribe')")
            .await,
        "a plan without a Stripe price cannot be bought here"
    );
    console.assert_axe_clean("pricing").await;
    console.screenshot("pricing").await;

    console
        .wait_for("[data-plan=pro] .subscribe")
        .await
        .click()
        .await
        .unwrap();
    // The form opens with the e-mail focused: type as a buyer would.
    console.wait_for("#email-pro").await;
    console
        .wait_until(
            "the e-mail has the focus",
            "document.activeElement.id === 'email-pro'",
        )
        .await;
    console.type_text("dona@doceria.example").await;
    console.press("Tab").await;
    assert_eq!(console.focused().await, "business-pro");
    console.type_text("Doceria da Dona").await;
    console.screenshot("pricing-checkout-form").await;
    console.press("Enter").await;
    // The page is navigating away: ask the browser where it is rather than the page.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let at = console.page.url().await.ok().flatten().unwrap_or_default();
        if at == checkout_page {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the browser is not on Stripe's page but on {at}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let requests: Vec<_> = stripe
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/v1/checkout/sessions")
        .collect();
    assert_eq!(requests.len(), 1);
    let form = String::from_utf8(requests[0].body.clone()).unwrap();
    assert!(form.contains("price_pro"), "{form}");
    assert!(
        form.contains("customer_email=dona@doceria.example"),
        "{form}"
    );
    assert!(form.contains("Doceria"), "{form}");
}

#[tokio::test]
async fn an_owner_disables_an_agent_after_confirming_and_the_agent_is_disabled_in_the_api() {
    let console = Console::start().await;
    let tenant = console.tenant("Papelaria Lápis de Cor").await;
    let agent = console
        .app
        .create_user(
            "caio@papelaria.example",
            read_api::auth::Role::Agent,
            Some(tenant.id),
        )
        .await;
    console.sign_in(&tenant.owner).await;
    console.open("/team").await;
    let disable = format!("#disable-{}", agent.id);
    console.wait_for(&disable).await.click().await.unwrap();
    // Nothing happens before the owner confirms, in place.
    console.wait_for(".confirm .danger-solid").await;
    console.screenshot("team-confirm-disable").await;
    console
        .wait_for(".confirm .danger-solid")
        .await
        .click()
        .await
        .unwrap();
    let done = console.text("main .success").await;
    assert!(done.contains("caio@papelaria.example"), "{done}");

    let token = console.app.access_token(&tenant.owner).await;
    let users = api(&console, &token, "/api/v1/users").await;
    let caio = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "caio@papelaria.example")
        .unwrap();
    assert!(caio["disabled_at"].is_string(), "{caio}");
    console.assert_no_js_errors().await;
}
