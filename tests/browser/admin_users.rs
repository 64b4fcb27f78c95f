//! Platform users and the admin's trail (issue 18, F46), clicked as an admin would: the
//! platform users page (create an auditor, see the password once, disable and enable
//! them), then a walk through every page with an action that writes no event of its own,
//! after which the audit log shows each action with the admin who took it and how it
//! ended.

use crate::admin_ops::paying_tenant;
use crate::harness::{screenshot_dir, Console};
use crate::stripe_support::{deliver, event, SECRET};
use aggregates::ConversationCommand;
use chromiumoxide::cdp::browser_protocol::browser::{
    SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
};
use read_api::auth::Role;
use schemas::events::MessageContent;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::MockServer;

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Waits until `selector`'s text contains `text`.
async fn shows(console: &Console, selector: &str, text: &str) {
    console
        .wait_until(
            &format!("{selector} shows {text:?}"),
            &format!(
                "document.querySelector({})?.innerText.includes({})",
                js(selector),
                js(text)
            ),
        )
        .await;
}

fn row(email: &str) -> String {
    format!("#platform-users tr[data-email='{email}']")
}

/// Creates a platform user on the users page and returns the password shown once.
async fn create_on_page(console: &Console, email: &str, role: &str) -> String {
    console.click("#new-user").await;
    console.fill("#user-email", email).await;
    console.fill("#user-role", role).await;
    console.click("#create-user").await;
    shows(console, "#user-created", email).await;
    let password = console.text("#user-password").await;
    console.wait_for(&row(email)).await;
    password
}

/// Disables (or enables) `email` on the users page, through the confirmation.
async fn change_on_page(console: &Console, email: &str, disable: bool) {
    let (button, state) = if disable {
        ("disable", "desativado")
    } else {
        ("enable", "ativo")
    };
    console
        .click(&format!("button[data-{button}='{email}']"))
        .await;
    console.wait_for("#confirm-user[open]").await;
    console.click("#confirm-user-ok").await;
    console
        .wait_until(
            &format!("{email} is {state}"),
            &format!(
                "document.querySelector({})?.querySelector('td:nth-of-type(2)').innerText.trim() === {}",
                js(&row(email)),
                js(state)
            ),
        )
        .await;
}

#[tokio::test]
async fn an_admin_creates_an_auditor_sees_the_password_once_then_disables_and_enables_them() {
    let console = Console::start().await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    let chief = console
        .app
        .create_user("chefe@atende.example", Role::SuperAdmin, None)
        .await;
    console
        .app
        .create_user("antiga@atende.example", Role::Auditor, None)
        .await;
    console.sign_in(&admin).await;
    console.click("#main-nav a[href='/admin/users']").await;
    console.wait_for(&row(&chief.email)).await;
    let operations: Vec<String> = console
        .eval(
            "[...document.querySelectorAll('#main-nav a')].map((a) => a.getAttribute('href'))
               .filter((h) => ['/admin/users', '/admin/security', '/admin/system', '/admin/privacy'].includes(h))",
        )
        .await;
    assert_eq!(operations[0], "/admin/users", "first of the operations");
    let mine = console.text(&row(&admin.email)).await;
    assert!(mine.contains("você"), "{mine}");
    let offered: bool = console
        .eval(&format!(
            "!!document.querySelector({}) || !!document.querySelector({})",
            js(&format!("{} button", row(&admin.email))),
            js(&format!("{} button", row(&chief.email)))
        ))
        .await;
    assert!(
        !offered,
        "an admin is offered no change to themself nor to a super admin"
    );

    console.click("#new-user").await;
    let roles: Vec<String> = console
        .eval("[...document.querySelectorAll('#user-role option')].map((o) => o.value)")
        .await;
    assert_eq!(roles, ["admin", "auditor"], "only a super admin makes one");
    console.click("#user-form button[type='button']").await;
    let password = create_on_page(&console, "auditora@atende.example", "auditor").await;
    assert!(console
        .text("#user-created")
        .await
        .contains("aparece só agora"));
    assert_eq!(
        console
            .app
            .login("auditora@atende.example", &password)
            .await
            .status(),
        200,
        "the password shown works"
    );
    let listed = console.text(&row("auditora@atende.example")).await;
    assert!(
        listed.contains("Auditor") && listed.contains("ativo"),
        "{listed}"
    );
    console.judge("admin-users").await;
    console.click("#close-user-created").await;
    assert!(
        !console.text("main").await.contains(&password),
        "the password is gone once closed"
    );

    change_on_page(&console, "auditora@atende.example", true).await;
    shows(&console, "main", "auditora@atende.example foi desativado").await;
    assert_eq!(
        console
            .app
            .login("auditora@atende.example", &password)
            .await
            .status(),
        401
    );
    console.screenshot("admin-users-disabled").await;
    change_on_page(&console, "auditora@atende.example", false).await;
    assert_eq!(
        console
            .app
            .login("auditora@atende.example", &password)
            .await
            .status(),
        200
    );
    console.assert_no_js_errors().await;
}

/// `customer.subscription.updated` for `customer`'s subscription, as Stripe sends it.
fn subscription_updated(customer: &str, cancel_at_period_end: bool, created: i64) -> Value {
    let mut e = event(
        "customer.subscription.updated",
        json!({
            "id": format!("sub_of_{customer}"),
            "object": "subscription",
            "customer": customer,
            "status": "active",
            "cancel_at_period_end": cancel_at_period_end,
            "metadata": {},
            "items": { "object": "list", "data": [
                { "id": "si_1", "price": { "id": "price_pro", "lookup_key": "pro", "metadata": {} } }
            ] },
        }),
    );
    e["created"] = json!(created);
    e
}

/// What the audit log shows of one entry.
#[derive(Debug, serde::Deserialize)]
struct Shown {
    what: String,
    outcome: String,
    actor: String,
}

#[tokio::test]
async fn every_action_an_admin_clicks_through_the_console_shows_in_the_audit_log_with_the_admin_and_the_outcome(
) {
    let stripe = MockServer::start().await;
    let uri = stripe.uri();
    let console = Console::start_with(|config| {
        config.background.billing.stripe_secret_key = Some("sk_test_atende".into());
        config.background.billing.stripe_api_base = uri;
        config.background.billing.stripe_prices = Some("basic=price_basic,pro=price_pro".into());
        config.background.stripe_webhooks.stripe_webhook_secret = SECRET.into();
    })
    .await;
    let (padaria, cus) = paying_tenant(&console, &stripe).await;
    let academia = console.tenant("Academia Força").await;
    let contact = "5511987654321";
    console
        .app
        .app
        .bus
        .conversations
        .execute(
            &conversation_id(academia.id, contact).to_string(),
            ConversationCommand::ReceiveMessage {
                tenant_id: academia.id,
                contact_wa_id: Personal::from(contact),
                contact_name: Some(Personal::from("Joana")),
                provider_message_id: "wamid.1".into(),
                content: MessageContent::Text(Personal::from("Quero apagar meus dados")),
                sent_at: chrono::Utc::now(),
            },
            &CommandMetadata::new(
                Actor {
                    kind: ActorKind::Customer,
                    id: "whatsapp".into(),
                },
                Some(academia.id),
            ),
        )
        .await
        .unwrap();
    let downloads = screenshot_dir().join(format!("downloads-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&downloads).unwrap();
    console
        .page
        .execute(
            SetDownloadBehaviorParams::builder()
                .behavior(SetDownloadBehaviorBehavior::Allow)
                .download_path(downloads.to_string_lossy().into_owned())
                .build()
                .unwrap(),
        )
        .await
        .expect("downloads are allowed");
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;

    // Platform users: an admin and an auditor, then the admin disabled.
    console.click("#main-nav a[href='/admin/users']").await;
    create_on_page(&console, "nova-admin@atende.example", "admin").await;
    console.click("#close-user-created").await;
    create_on_page(&console, "auditor@atende.example", "auditor").await;
    console.click("#close-user-created").await;
    change_on_page(&console, "nova-admin@atende.example", true).await;

    // The admin's workspace: its team page invites an agent and disables another.
    console.click("#main-nav a[href='/admin/workspace']").await;
    console.wait_for(".workspace-bar").await;
    let workspace: Uuid =
        sqlx::query_scalar("SELECT tenant_id FROM admin_workspaces WHERE admin_id = $1")
            .bind(admin.id)
            .fetch_one(&console.app.db.pool)
            .await
            .unwrap();
    let agent = console
        .app
        .create_user("agente@espaco.example", Role::Agent, Some(workspace))
        .await;
    console.click("#main-nav a[href='/team']").await;
    console
        .fill("#invite-email", "convidada@espaco.example")
        .await;
    console.click("#send-invite").await;
    shows(&console, "#invitations", "convidada@espaco.example").await;
    console.click(&format!("#disable-{}", agent.id)).await;
    console.click("#members .confirm button.danger-solid").await;
    shows(&console, "main", "agente@espaco.example foi desativado").await;
    console.click("#leave-workspace").await;

    // Security: five wrong passwords block this IP; the admin lifts the block.
    for _ in 0..5 {
        let wrong = console.app.login(&academia.owner.email, "errada").await;
        assert_eq!(wrong.status(), 401);
    }
    let owner = &academia.owner;
    let blocked = console.app.login(&owner.email, &owner.password).await;
    assert_eq!(blocked.status(), 429);
    console.click("#main-nav a[href='/admin/security']").await;
    console.click("button[data-lift='127.0.0.1']").await;
    console.wait_for("#confirm-lift[open]").await;
    console.click("#confirm-lift-ok").await;
    console.wait_for("#no-blocks").await;

    // A tenant's page: the owner's password reset.
    console.click("#main-nav a[href='/admin/tenants']").await;
    console
        .click(&format!(
            "#tenants-table a[href='/admin/tenants/{}']",
            academia.id
        ))
        .await;
    console.click("#reset-owner-password").await;
    console.click("#confirm-reset").await;
    shows(&console, "main", &academia.owner.email).await;

    // Privacy: the contact's data downloaded, then the contact erased.
    console.click("#main-nav a[href='/admin/privacy']").await;
    console
        .wait_for(&format!("#privacy-tenant option[value='{}']", academia.id))
        .await;
    console
        .fill("#privacy-tenant", &academia.id.to_string())
        .await;
    console.fill("#privacy-contact", contact).await;
    console.click("#privacy-export").await;
    shows(&console, "main", "baixado").await;
    console.click("#privacy-erase").await;
    console.wait_for("#confirm-erase[open]").await;
    console.fill("#erase-reason", "a titular pediu").await;
    console.click("#confirm-erase-ok").await;
    shows(&console, "#erasures", "a titular pediu").await;

    // System: a read model rebuilt.
    console.click("#main-nav a[href='/admin/system']").await;
    console.click("button[data-replay='aggregate_index']").await;
    console.wait_for("#confirm-replay[open]").await;
    console.click("#confirm-replay-ok").await;
    shows(&console, "main", "reconstruído").await;

    // Subscriptions: cancelled at the period's end, then reactivated; Stripe confirms each
    // through its webhook.
    console
        .click("#main-nav a[href='/admin/subscriptions']")
        .await;
    let sub_row = format!("#subscriptions tr[data-tenant='{padaria}']");
    console
        .click(&format!("{sub_row} button[data-action='cancel']"))
        .await;
    console.wait_for("#confirm-billing[open]").await;
    console.click("#confirm-billing-ok").await;
    shows(&console, "main", "agendado").await;
    let now = chrono::Utc::now().timestamp();
    deliver(&console.app, &subscription_updated(&cus, true, now)).await;
    console
        .click(&format!("{sub_row} button[data-action='reactivate']"))
        .await;
    console.wait_for("#confirm-billing[open]").await;
    console.click("#confirm-billing-ok").await;
    deliver(&console.app, &subscription_updated(&cus, false, now + 1)).await;
    console
        .wait_until(
            "the subscription no longer ends with the period",
            &format!("!document.querySelector(\"{sub_row} button[data-action='reactivate']\")"),
        )
        .await;

    // Plans: the pro plan's price revised.
    console.click("#main-nav a[href='/admin/plans']").await;
    console.click("#edit-pro").await;
    console.fill("#plan-price", "449.00").await;
    console.click("#plan-save").await;
    shows(&console, "#plan-pro", "449,00").await;

    // The audit log, filtered to this admin's actions.
    console.click("#main-nav a[href='/audit/log']").await;
    console.fill("#f-actor", &admin.id.to_string()).await;
    console.fill("#f-kind", "action").await;
    console.click("#apply-filters").await;
    let expected = [
        ("Criou usuário da plataforma", 2),
        ("Desativou usuário da plataforma", 1),
        ("Convidou usuário", 1),
        ("Desativou atendente", 1),
        ("Desbloqueou IP", 1),
        ("Redefiniu a senha do proprietário", 1),
        ("Exportou dados de contato", 1),
        ("Apagou dados de contato", 1),
        ("Reconstruiu modelo de leitura", 1),
        ("Cancelou assinatura", 1),
        ("Reativou assinatura", 1),
    ];
    console
        .wait_until(
            "the log shows the last traced action",
            "[...document.querySelectorAll('#log .audit-type')].some((e) => e.innerText.includes('Reativou assinatura'))",
        )
        .await;
    let shown: Vec<Shown> = console
        .eval(
            "[...document.querySelectorAll('#log li.audit-item')].map((li) => ({
               what: li.querySelector('.audit-type').innerText.trim(),
               outcome: li.querySelector('.audit-head .badge:not(:first-child)')?.innerText.trim() || '',
               actor: li.querySelector('.audit-actor').innerText }))",
        )
        .await;
    for (what, times) in expected {
        let rows: Vec<&Shown> = shown.iter().filter(|s| s.what == what).collect();
        assert_eq!(rows.len(), times, "{what} in the log: {shown:#?}");
        for s in rows {
            assert_eq!(s.outcome, "feito", "{what}: {s:?}");
            assert!(
                s.actor.contains(&admin.email) && s.actor.contains(&admin.id.to_string()),
                "{what} names the admin: {s:?}"
            );
        }
    }
    let revised = shown
        .iter()
        .find(|s| s.what == "PlanSet")
        .unwrap_or_else(|| panic!("the plan's revision in the log: {shown:#?}"));
    assert!(revised.actor.contains(&admin.email), "{revised:?}");
    console.judge("audit-log-after-walk").await;
    let _ = std::fs::remove_dir_all(&downloads);
    console.assert_no_js_errors().await;
}
