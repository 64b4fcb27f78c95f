//! Every console page: no JavaScript error, no serious or critical accessibility
//! violation (axe-core), a screenshot; the theme and language switches; a phone's width.

use crate::harness::Console;

/// Checks and photographs the page at `path` once `ready` (a selector) shows.
async fn check(console: &Console, path: &str, ready: &str, name: &str) {
    console.open(path).await;
    console.wait_for(ready).await;
    console.assert_axe_clean(name).await;
    console.screenshot(name).await;
}

#[tokio::test]
async fn every_console_page_has_no_javascript_error_and_no_serious_accessibility_violation() {
    let console = Console::start_with_whatsapp().await;
    let tenant = console.tenant("Floricultura Ipê").await;
    let token = console.app.access_token(&tenant.owner).await;
    console.link_number(&token).await;
    console
        .customer_writes("João Pereira", "Vocês entregam no sábado?")
        .await;

    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        check(&console, "/login", "#email", &format!("sign-in-{scheme}")).await;
        check(
            &console,
            "/forgot-password",
            "#email",
            &format!("forgot-password-{scheme}"),
        )
        .await;
        check(
            &console,
            "/reset-password?token=abc",
            "#password",
            &format!("reset-password-{scheme}"),
        )
        .await;
        check(
            &console,
            "/set-password?token=abc",
            "#password",
            &format!("set-password-{scheme}"),
        )
        .await;
    }
    console.prefer_color_scheme("light").await;

    // The reset page shows the API's refusal of a bad token.
    console.open("/reset-password?token=not-a-real-token").await;
    console.wait_for("#password").await.click().await.unwrap();
    console.type_text("a brand new password 123").await;
    console.wait_for("#confirm").await.click().await.unwrap();
    console.type_text("a brand new password 123").await;
    console.press("Enter").await;
    let error = console.text("[role=alert]").await;
    assert!(error.contains("reset"), "the API's message: {error}");

    console.open("/forgot-password").await;
    console.wait_for("#email").await.click().await.unwrap();
    console.type_text(&tenant.owner.email).await;
    console.press("Enter").await;
    console.wait_for(".success").await;

    console.sign_in(&tenant.owner).await;
    let row = console.wait_for("[data-conversation]").await;
    let id = row.attribute("data-conversation").await.unwrap().unwrap();
    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        check(
            &console,
            "/",
            "[data-conversation]",
            &format!("inbox-{scheme}"),
        )
        .await;
        check(
            &console,
            &format!("/conversations/{id}"),
            "#messages .msg",
            &format!("conversation-{scheme}"),
        )
        .await;
    }
    console.prefer_color_scheme("light").await;
    check(&console, "/no-such-page", "main h1", "not-found").await;
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn the_theme_and_language_switches_apply_at_once_and_are_remembered() {
    let console = Console::start().await;
    let tenant = console.tenant("Pet Shop Amigo").await;
    console.prefer_color_scheme("light").await;
    console.sign_in(&tenant.owner).await;
    assert_eq!(
        console.text("#inbox-title").await,
        "Conversas",
        "pt-BR by default"
    );
    assert_eq!(
        console
            .eval::<String>("document.documentElement.lang")
            .await,
        "pt-BR"
    );
    let light_bg: String = console
        .eval("getComputedStyle(document.body).backgroundColor")
        .await;

    console
        .wait_for("#theme-toggle")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_until(
            "the dark theme applies",
            "document.documentElement.dataset.theme === 'dark'",
        )
        .await;
    let dark_bg: String = console
        .eval("getComputedStyle(document.body).backgroundColor")
        .await;
    assert_ne!(light_bg, dark_bg);

    let _: bool = console
        .eval("(() => { const s = document.getElementById('locale-select'); s.value = 'en'; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()")
        .await;
    console
        .wait_until(
            "the inbox speaks English",
            "document.getElementById('inbox-title').textContent === 'Conversations'",
        )
        .await;
    assert_eq!(
        console
            .eval::<String>("document.documentElement.lang")
            .await,
        "en"
    );
    console.screenshot("inbox-english-dark").await;

    console.page.reload().await.unwrap();
    console.wait_for("#inbox-title").await;
    assert_eq!(
        console.text("#inbox-title").await,
        "Conversations",
        "the language is remembered"
    );
    assert_eq!(
        console
            .eval::<String>("document.documentElement.dataset.theme || ''")
            .await,
        "dark",
        "the theme is remembered"
    );
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn a_360_px_wide_phone_shows_the_inbox_and_a_conversation_without_horizontal_scroll() {
    let console = Console::start_with_whatsapp().await;
    let tenant = console.tenant("Mercadinho Boa Vista").await;
    let token = console.app.access_token(&tenant.owner).await;
    console.link_number(&token).await;
    console
        .customer_writes("Fernanda Albuquerque de Oliveira Santos", "Bom dia! Gostaria de saber se ainda têm o pão integral de ontem e até que horas ficam abertos hoje")
        .await;
    console.viewport(360, 740).await;
    console.sign_in(&tenant.owner).await;
    let row = console.wait_for("[data-conversation]").await;
    assert!(
        !console.scrolls_sideways().await,
        "the inbox scrolls sideways at 360 px"
    );
    console.screenshot("phone-inbox").await;

    row.click().await.unwrap();
    console.wait_for("#messages .msg").await;
    assert!(
        !console.scrolls_sideways().await,
        "the conversation scrolls sideways at 360 px"
    );
    console.screenshot("phone-conversation").await;
    // One column: the list gives way to the conversation, with a way back.
    assert!(
        console
            .eval::<bool>(
                "getComputedStyle(document.querySelector('.inbox-list')).display === 'none'"
            )
            .await
    );
    console.wait_for(".back").await.click().await.unwrap();
    console.wait_for("[data-conversation]").await;

    console
        .wait_for(".menu-toggle")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_until(
            "the menu opens",
            "getComputedStyle(document.getElementById('main-nav')).display !== 'none'",
        )
        .await;
    assert!(!console.scrolls_sideways().await);
    console.screenshot("phone-menu").await;
    console
        .assert_axe_clean("phone inbox with the menu open")
        .await;
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_agent_is_not_shown_the_owners_pages_and_is_refused_them_by_address() {
    let console = Console::start().await;
    let tenant = console.tenant("Ótica Central").await;
    let agent = console
        .app
        .create_user(
            "rafa@otica.example",
            read_api::auth::Role::Agent,
            Some(tenant.id),
        )
        .await;
    console.sign_in(&agent).await;
    let nav: Vec<String> = console
        .eval("[...document.querySelectorAll('#main-nav a')].map(a => a.getAttribute('href'))")
        .await;
    assert!(nav.contains(&"/".to_owned()), "{nav:?}");
    for owner_only in [
        "/knowledge",
        "/bot",
        "/whatsapp",
        "/team",
        "/insights",
        "/usage",
        "/outbox",
    ] {
        assert!(
            !nav.contains(&owner_only.to_owned()),
            "{owner_only} is in an agent's nav: {nav:?}"
        );
    }
    console.open("/team").await;
    assert_eq!(console.text("main h1").await, "Acesso restrito");
    console.screenshot("agent-refused-owner-page").await;
    console.assert_no_js_errors().await;
}
