//! The usage monitor in the console (issue 18): an admin sees the top AI spenders of the
//! month, sets the global AI spend threshold and one tenant's own, opens that tenant's
//! history, and finds the change in the audit log with themselves as its actor; the pages
//! are clean in both themes and fit a phone.

use crate::harness::Console;
use aggregates::ConversationCommand;
use read_api::auth::Role;
use schemas::events::MessageContent;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use uuid::Uuid;

/// `house-model` costs US$ 1 per million prompt tokens, so costs are round.
const PRICES: &str =
    r#"{"house-model": {"input_usd_per_million": 1, "output_usd_per_million": 0}}"#;

/// A customer of `tenant` writes and the AI answers with `tokens_in` prompt tokens.
async fn ai_answers(console: &Console, tenant: Uuid, tokens_in: u32) {
    let contact = format!("55119{}", Uuid::now_v7().as_u128() % 100_000_000);
    let md = CommandMetadata::new(
        Actor {
            kind: ActorKind::Customer,
            id: "whatsapp".into(),
        },
        Some(tenant),
    );
    let id = conversation_id(tenant, &contact).to_string();
    let bus = &console.app.app.bus;
    bus.conversations
        .execute(
            &id,
            ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from(contact.as_str()),
                contact_name: None,
                provider_message_id: format!("wamid.{}", Uuid::now_v7()),
                content: MessageContent::Text(Personal::from("Quanto custa?")),
                sent_at: chrono::Utc::now(),
            },
            &md,
        )
        .await
        .unwrap();
    bus.conversations
        .execute(
            &id,
            ConversationCommand::RecordAiReply {
                text: Personal::from("R$ 10."),
                confidence: 0.9,
                sources: vec![],
                model: "house-model".into(),
                tokens_in,
                tokens_out: 0,
                run: None,
            },
            &md,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_admin_sets_spend_thresholds_from_the_usage_monitor_and_the_audit_log_names_them() {
    let console = Console::start_with(|c| c.background.model_prices = Some(PRICES.into())).await;
    let big = console.tenant("Mercado Grande").await;
    let small = console.tenant("Quiosque Pequeno").await;
    ai_answers(&console, big.id, 2_000_000).await;
    ai_answers(&console, big.id, 1_000_000).await;
    ai_answers(&console, small.id, 250_000).await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;

    console.click("#main-nav a[href='/admin/usage']").await;
    console
        .wait_until(
            "both tenants are listed, the biggest spender first",
            "document.querySelectorAll('#spenders-table tbody tr').length === 2
               && document.querySelector('#spenders-table tbody tr').innerText.includes('Mercado Grande')",
        )
        .await;
    let top = console.text("#spenders-table tbody tr").await;
    assert!(top.contains("3,00"), "{top}");
    assert!(console.text("#main-nav").await.contains("Monitor de uso"));
    assert!(console
        .text("#quota-alerts")
        .await
        .contains("Nenhum cliente"));

    console.fill("#global-threshold-amount", "2,50").await;
    console.click("#global-threshold-save").await;
    console
        .wait_until(
            "the global threshold is saved and the top spender has reached it",
            "(document.querySelector('#spend-thresholds') || {innerText: ''}).innerText.includes('Limite salvo')
               && (document.querySelector('#spenders-table tbody tr') || {innerText: ''}).innerText.includes('Alcançado')",
        )
        .await;
    assert!(console
        .text("#spend-thresholds")
        .await
        .contains(&admin.email));
    let small_row = console.text("#spenders-table tbody tr:nth-child(2)").await;
    assert!(small_row.contains("2,50"), "{small_row}");
    assert!(
        small_row.contains("10"),
        "a quarter dollar is 10% of it: {small_row}"
    );
    console.screenshot("admin-usage-monitor").await;

    console
        .click(&format!(
            "#spenders-table a[href='/admin/usage/{}']",
            small.id
        ))
        .await;
    console.wait_for("#tenant-spend").await;
    assert!(console
        .text("#tenant-threshold-state")
        .await
        .contains("limite global de US$\u{a0}2,50"));
    console.fill("#tenant-threshold-amount", "0.20").await;
    console.click("#tenant-threshold-save").await;
    console
        .wait_until(
            "the tenant's own threshold is in force",
            "document.querySelector('#tenant-threshold-state').innerText.includes('limite próprio de US$\\u00a00,20')",
        )
        .await;
    console.wait_for("#chart-days canvas").await;
    let months = console.text("#tenant-months tbody tr").await;
    assert!(months.contains("0,25"), "this month first: {months}");
    console.assert_axe_clean("a tenant's usage history").await;
    console.screenshot("admin-usage-tenant").await;

    // The tenant reached its own 20 cents with the quarter dollar it spent before: the
    // next answer is judged against it and raises the notification.
    ai_answers(&console, small.id, 1).await;
    console.open("/admin/notifications").await;
    console
        .wait_until(
            "the spend notification arrives",
            "document.body.innerText.includes('Quiosque Pequeno alcançou o limite de gasto com IA')",
        )
        .await;
    console.assert_axe_clean("the spend notification").await;
    console.screenshot("admin-usage-notification").await;

    console
        .open(&format!("/audit/log?actor={}&kind=action", admin.id))
        .await;
    console
        .wait_until(
            "the threshold changes are in the audit log",
            "[...document.querySelectorAll('#log .audit-item')].filter(e => e.innerText.includes('AiSpendThresholdSet')).length === 2",
        )
        .await;
    let entry: String = console
        .eval(&format!(
            "[...document.querySelectorAll('#log .audit-item')]
               .find(e => e.innerText.includes('AiSpendThresholdSet') && e.innerText.includes('{}'))
               .innerText",
            small.id
        ))
        .await;
    // The audit log names a platform user by role, e-mail and id.
    assert!(
        entry.contains("administrador") && entry.contains(&admin.id.to_string()),
        "{entry}"
    );
    console.screenshot("admin-usage-audit-log").await;

    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        console.viewport(1280, 860).await;
        console.open("/admin/usage").await;
        console.wait_for("#spenders-table").await;
        console
            .assert_axe_clean(&format!("/admin/usage ({scheme})"))
            .await;
        console.screenshot(&format!("admin-usage-{scheme}")).await;
        console.open(&format!("/admin/usage/{}", small.id)).await;
        console.wait_for("#chart-days canvas").await;
        console
            .assert_axe_clean(&format!("/admin/usage/:id ({scheme})"))
            .await;
        console
            .screenshot(&format!("admin-usage-tenant-{scheme}"))
            .await;
    }
    console.prefer_color_scheme("light").await;
    console.viewport(360, 740).await;
    for (path, ready, name) in [
        (
            "/admin/usage".to_owned(),
            "#spenders-table",
            "phone-admin-usage",
        ),
        (
            format!("/admin/usage/{}", small.id),
            "#chart-days canvas",
            "phone-admin-usage-tenant",
        ),
    ] {
        console.open(&path).await;
        console.wait_for(ready).await;
        assert!(
            !console.scrolls_sideways().await,
            "{path} scrolls sideways at 360 px: {:?}",
            console.too_wide().await
        );
        console.assert_axe_clean(&format!("{path} (phone)")).await;
        console.screenshot(name).await;
    }
    console.assert_no_js_errors().await;
}
