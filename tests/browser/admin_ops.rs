//! The admins' operations pages (issue 18), clicked as an admin would: cancelling a
//! subscription at the period's end and reactivating it through a fake Stripe (its webhook
//! delivered as Stripe would); lifting an IP block; inspecting and retrying a parked event
//! and rebuilding a read model; exporting a contact's data and erasing the contact. Every
//! page clean in both themes and at a phone's width.

use crate::harness::{screenshot_dir, Console};
use crate::helpers::TestApp;
use crate::stripe_support::{customer, deliver, event, tenant_of, SECRET};
use aggregates::{ConversationCommand, SubscriptionCommand, TenantCommand};
use chromiumoxide::cdp::browser_protocol::browser::{
    SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
};
use read_api::auth::Role;
use schemas::events::MessageContent;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal, Plan};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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

/// Waits until the fake Stripe has received `n` updates of `sub`; returns the last body.
async fn stripe_update(stripe: &MockServer, sub: &str, n: usize) -> String {
    for _ in 0..300 {
        let updates: Vec<String> = stripe
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                r.method.as_str() == "POST" && r.url.path() == format!("/v1/subscriptions/{sub}")
            })
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        if updates.len() >= n {
            return updates[n - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("Stripe never received update {n} of {sub}");
}

#[tokio::test]
async fn an_admin_cancels_a_subscription_at_the_period_end_then_reactivates_it_through_stripe() {
    let stripe = MockServer::start().await;
    let uri = stripe.uri();
    let console = Console::start_with(|config| {
        config.background.billing.stripe_secret_key = Some("sk_test_atende".into());
        config.background.billing.stripe_api_base = uri;
        config.background.billing.stripe_prices = Some("basic=price_basic,pro=price_pro".into());
        config.background.stripe_webhooks.stripe_webhook_secret = SECRET.into();
    })
    .await;
    let (tenant, cus) = paying_tenant(&console, &stripe).await;
    let sub = format!("sub_of_{cus}");
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;
    console
        .click("#main-nav a[href='/admin/subscriptions']")
        .await;
    let row = format!("#subscriptions tr[data-tenant='{tenant}']");
    console.wait_for(&row).await;
    console.wait_for("#payments tbody tr").await;
    assert!(console.text("#payments").await.contains("in_1"));
    console.judge("admin-subscriptions").await;

    // Cancel at the end of the period (the default choice).
    console
        .click(&format!("{row} button[data-action='cancel']"))
        .await;
    console.wait_for("#confirm-billing[open]").await;
    assert!(
        console
            .eval::<bool>("document.querySelector('#cancel-at-end').checked")
            .await
    );
    console.screenshot("admin-subscriptions-confirm").await;
    console.assert_axe_clean("the cancellation dialog").await;
    console.click("#confirm-billing-ok").await;
    let body = stripe_update(&stripe, &sub, 1).await;
    assert!(body.contains("cancel_at_period_end=true"), "{body}");
    // Stripe confirms through its webhook; the page sees the row change.
    let now = chrono::Utc::now().timestamp();
    deliver(&console.app, &subscription_updated(&cus, true, now)).await;
    console
        .wait_until(
            "the row says it ends with the period",
            &format!("document.querySelector(\"{row} .sub-ending\")"),
        )
        .await;
    console
        .wait_until(
            "the page says the cancellation is scheduled",
            "document.querySelector('main p.success')?.textContent.includes('agendado')",
        )
        .await;
    console.screenshot("admin-subscriptions-scheduled").await;

    // Undo it.
    console
        .click(&format!("{row} button[data-action='reactivate']"))
        .await;
    console.wait_for("#confirm-billing[open]").await;
    console.click("#confirm-billing-ok").await;
    let body = stripe_update(&stripe, &sub, 2).await;
    assert!(body.contains("cancel_at_period_end=false"), "{body}");
    deliver(&console.app, &subscription_updated(&cus, false, now + 1)).await;
    console
        .wait_until(
            "the row no longer ends with the period",
            &format!(
                "document.querySelector(\"{row}\") && !document.querySelector(\"{row} .sub-ending\")
                 && !document.querySelector(\"{row} button[data-action='reactivate']\")"
            ),
        )
        .await;
    assert!(console.text(&row).await.contains("Ativa"));
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_admin_sees_why_an_ip_is_blocked_and_lifts_the_block() {
    let console = Console::start().await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    let agent = console
        .app
        .create_user("agente@loja.example", Role::Agent, Some(Uuid::now_v7()))
        .await;
    // Signed in before the block: the browser shares the test's IP.
    console.sign_in(&admin).await;
    for _ in 0..5 {
        assert_eq!(
            console.app.login(&agent.email, "errada").await.status(),
            401
        );
    }
    assert_eq!(
        console
            .app
            .login(&agent.email, &agent.password)
            .await
            .status(),
        429
    );

    console.click("#main-nav a[href='/admin/security']").await;
    console.wait_for("#ip-blocks tr[data-ip='127.0.0.1']").await;
    console.wait_for("#attempts tbody tr").await;
    let attempts = console.text("#attempts").await;
    assert!(attempts.contains("agente@loja.example"), "{attempts}");
    assert!(attempts.contains("Recusada (IP bloqueado)"), "{attempts}");
    console.wait_for("#rejected tbody tr").await;
    let rejected = console.text("#rejected").await;
    assert!(rejected.contains("/api/v1/auth/login"), "{rejected}");
    assert!(rejected.contains("429"), "{rejected}");
    console.wait_for("#audit-feed tbody tr").await;
    console.judge("admin-security").await;

    console.click("button[data-lift='127.0.0.1']").await;
    console.wait_for("#confirm-lift[open]").await;
    console.click("#confirm-lift-ok").await;
    console.wait_for("#no-blocks").await;
    assert!(console.text("main").await.contains("127.0.0.1 liberado"));
    assert_eq!(
        console
            .app
            .login(&agent.email, &agent.password)
            .await
            .status(),
        200,
        "the agent signs in again"
    );
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_admin_retries_a_parked_event_and_rebuilds_a_read_model_to_the_end() {
    let console = Console::start().await;
    console
        .app
        .register_tenant("Ótica Visão", "dono@otica.example")
        .await;
    console
        .app
        .eventually("the index has the tenant", || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM aggregate_index")
                .fetch_one(&console.app.db.pool)
                .await
                .unwrap()
                > 0
        })
        .await;
    // Parked by hand, as the runner would have after its retries.
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO parked_events (consumer, position, tx_id, event_type, aggregate_type, aggregate_id, error, attempts)
         SELECT 'aggregate_index', position, tx_id::text::bigint, event_type, aggregate_type, aggregate_id,
                'the index was unreachable', 5
           FROM events ORDER BY position DESC LIMIT 1
         RETURNING position",
    )
    .fetch_one(&console.app.db.pool)
    .await
    .unwrap();
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;
    console.click("#main-nav a[href='/admin/system']").await;
    let row = "#consumers tr[data-consumer='aggregate_index']";
    console.wait_for(row).await;
    console.wait_for("#health").await;
    let health = console.text("#health").await;
    assert!(health.contains("No ar"), "the database is up: {health}");
    assert!(console.text("#mail-queue").await.contains("na fila"));
    assert!(console.text("#meter-queue").await.contains("na fila"));
    assert!(
        console.text("main").await.contains("Degradado"),
        "a parked event degrades the service"
    );

    console
        .click("button[data-inspect='aggregate_index']")
        .await;
    let item = format!(".parked-item[data-position='{position}']");
    console.wait_for(&item).await;
    console
        .click(&format!("{item} button[aria-expanded]"))
        .await;
    console.wait_for(&format!("{item} .facts")).await;
    assert!(console
        .text(&item)
        .await
        .contains("the index was unreachable"));
    console.judge("admin-system").await;

    console
        .click(&format!("button[data-retry='{position}']"))
        .await;
    console
        .wait_until(
            "the event is applied and no longer parked",
            "document.querySelector('#parked p.success') && !document.querySelector('.parked-item')",
        )
        .await;
    let parked: i64 = sqlx::query_scalar("SELECT count(*) FROM parked_events")
        .fetch_one(&console.app.db.pool)
        .await
        .unwrap();
    assert_eq!(parked, 0);

    // The row loses its inspect button once the list is reloaded: click after it has.
    console
        .wait_until(
            "the consumer has nothing parked",
            "!document.querySelector(\"button[data-inspect='aggregate_index']\")",
        )
        .await;
    console.click("button[data-replay='aggregate_index']").await;
    console.wait_for("#confirm-replay[open]").await;
    console.click("#confirm-replay-ok").await;
    console
        .wait_until(
            "the rebuild is reported",
            "document.querySelector('#consumers-title ~ p.success')?.textContent.includes('reconstruído')",
        )
        .await;
    console
        .wait_until(
            "the row shows the finished rebuild",
            &format!(
                "(() => {{ const c = document.querySelector(\"{row} .replay-cell\");
                   return c && !c.querySelector('[role=status]') && c.textContent.includes('eventos'); }})()"
            ),
        )
        .await;
    console.screenshot("admin-system-replayed").await;
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_admin_downloads_a_contacts_data_then_erases_the_contact_with_a_reason() {
    let console = Console::start().await;
    let tenant = console
        .app
        .register_tenant("Ótica Visão", "dono@otica.example")
        .await;
    let contact = "5511987654321";
    let md = CommandMetadata::new(
        Actor {
            kind: ActorKind::Customer,
            id: "whatsapp".into(),
        },
        Some(tenant),
    );
    console
        .app
        .app
        .bus
        .conversations
        .execute(
            &conversation_id(tenant, contact).to_string(),
            ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from(contact),
                contact_name: Some(Personal::from("Joana")),
                provider_message_id: "wamid.1".into(),
                content: MessageContent::Text(Personal::from("Meu óculos ficou pronto?")),
                sent_at: chrono::Utc::now(),
            },
            &md,
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

    let (admin, token) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;
    console.click("#main-nav a[href='/admin/privacy']").await;
    console.wait_for("#no-erasures").await;
    console
        .wait_for(&format!("#privacy-tenant option[value='{tenant}']"))
        .await;
    console.fill("#privacy-tenant", &tenant.to_string()).await;
    console.fill("#privacy-contact", contact).await;
    console.judge("admin-privacy").await;

    console.click("#privacy-export").await;
    let file = downloads.join(format!("contato-{contact}.json"));
    let mut exported = None;
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(&file) {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                exported = Some(v);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exported = exported.expect("the export was downloaded");
    assert_eq!(
        exported["events"][0]["payload"]["MessageReceived"]["content"]["text"],
        "Meu óculos ficou pronto?"
    );
    console
        .wait_until(
            "the page says the file was downloaded",
            "document.querySelector('main p.success')?.textContent.includes('baixado')",
        )
        .await;

    console.click("#privacy-erase").await;
    console.wait_for("#confirm-erase[open]").await;
    console.click("#erase-reason").await;
    console.type_text("titular pediu pelo WhatsApp").await;
    console.screenshot("admin-privacy-confirm").await;
    console.assert_axe_clean("the erasure dialog").await;
    console.click("#confirm-erase-ok").await;
    console.wait_for("#erasures tbody tr").await;
    let listed = console.text("#erasures").await;
    assert!(listed.contains("titular pediu pelo WhatsApp"), "{listed}");
    assert!(listed.contains("Ótica Visão"), "{listed}");
    assert!(listed.contains("você"), "{listed}");
    console.screenshot("admin-privacy-erased").await;

    let after: Value = console
        .app
        .get_as(
            &format!("/api/v1/admin/privacy/export?tenant_id={tenant}&contact={contact}"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["events"][0]["payload"]["MessageReceived"]["content"]["text"],
        "[erased]"
    );
    let _ = std::fs::remove_dir_all(&downloads);
    console.assert_no_js_errors().await;
}

/// A tenant paying through the fake Stripe, with a payment, whose subscription Stripe lets
/// be updated; its id and Stripe customer.
pub(crate) async fn paying_tenant(console: &Console, stripe: &MockServer) -> (Uuid, String) {
    let cus = customer();
    let tenant = tenant_of(&cus);
    let sub = format!("sub_of_{cus}");
    console
        .app
        .tenant_command(
            tenant,
            TenantCommand::RegisterTenant {
                tenant_id: tenant,
                name: "Padaria Pão Quente".into(),
                owner_email: Personal::from("dona@padaria.example"),
                plan: Plan("pro".into()),
            },
        )
        .await;
    for command in [
        SubscriptionCommand::StartFromCheckout {
            tenant_id: tenant,
            stripe_customer_id: cus.clone(),
            stripe_subscription_id: sub.clone(),
            plan: Plan("pro".into()),
            trial_end: None,
        },
        SubscriptionCommand::RecordPayment {
            invoice_id: "in_1".into(),
            amount_cents: 39_900,
            currency: "BRL".into(),
            period_end: chrono::Utc::now() + chrono::Duration::days(30),
        },
    ] {
        console
            .app
            .app
            .bus
            .subscriptions
            .execute(
                &tenant.to_string(),
                command,
                &TestApp::admin_metadata(tenant),
            )
            .await
            .unwrap();
    }
    Mock::given(method("POST"))
        .and(path(format!("/v1/subscriptions/{sub}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": sub, "object": "subscription"})),
        )
        .mount(stripe)
        .await;
    (tenant, cus)
}
