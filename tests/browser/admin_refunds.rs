//! Refunds (issue 18), clicked as an admin would: part of a payment refunded from the
//! Subscriptions and payments page through a fake Stripe, Stripe's signed webhook
//! delivered as Stripe would, then the overview's revenue net of it and the refund in the
//! audit log with the admin as its actor.

use crate::harness::Console;
use crate::helpers::TestApp;
use crate::stripe_support::{customer, deliver, event, form_of, refunds_api, tenant_of, SECRET};
use aggregates::{SubscriptionCommand, TenantCommand};
use read_api::auth::Role;
use schemas::{Personal, Plan};
use std::time::Duration;
use wiremock::MockServer;

#[tokio::test]
async fn an_admin_refunds_part_of_a_payment_and_sees_revenue_net_of_it_once_stripe_confirms() {
    let stripe = MockServer::start().await;
    let uri = stripe.uri();
    let console = Console::start_with(|config| {
        config.background.billing.stripe_secret_key = Some("sk_test_atende".into());
        config.background.billing.stripe_api_base = uri;
        config.background.billing.stripe_prices = Some("basic=price_basic,pro=price_pro".into());
        config.background.stripe_webhooks.stripe_webhook_secret = SECRET.into();
    })
    .await;
    let created = refunds_api(&stripe).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
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
            stripe_subscription_id: format!("sub_of_{cus}"),
            plan: Plan("pro".into()),
            trial_end: None,
        },
        SubscriptionCommand::RecordPayment {
            invoice_id: "in_padaria_1".into(),
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
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;
    console
        .click("#main-nav a[href='/admin/subscriptions']")
        .await;
    let refund_button = "#payments button[data-action='refund']";
    console.wait_for(refund_button).await;
    console.judge("admin-refunds").await;

    // Part of it: R$ 100,00 of R$ 399,00.
    console.click(refund_button).await;
    console.wait_for("#confirm-refund[open]").await;
    let summary = console.text("#confirm-refund").await;
    assert!(summary.contains("399,00"), "{summary}");
    console.click("#refund-part").await;
    console.wait_for("#refund-amount").await;
    console.fill("#refund-amount", "399,01").await;
    console.click("#confirm-refund-ok").await;
    console
        .wait_until(
            "an amount above what is left is refused in the dialog",
            "document.querySelector('#refund-amount')?.getAttribute('aria-invalid') === 'true'",
        )
        .await;
    console.fill("#refund-amount", "100,00").await;
    console.screenshot("admin-refunds-confirm").await;
    console.assert_axe_clean("the refund dialog").await;
    console.click("#confirm-refund-ok").await;

    let mut refund = None;
    for _ in 0..300 {
        if let Some(r) = created.lock().unwrap().first().cloned() {
            refund = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refund = refund.expect("the fake Stripe receives the refund");
    let asked = stripe.received_requests().await.unwrap_or_default();
    let asked = asked
        .iter()
        .find(|r| r.url.path() == "/v1/refunds")
        .unwrap();
    let form = form_of(asked);
    assert_eq!(form["amount"], "10000");
    assert_eq!(form["payment_intent"], "pi_of_in_padaria_1");
    console
        .wait_until(
            "the page says Stripe has the request",
            "document.querySelector('[aria-labelledby=payments-title] p.success')?.textContent.includes('Stripe')",
        )
        .await;

    // Stripe confirms through its signed webhook; the row shows the refund.
    deliver(&console.app, &event("refund.created", refund)).await;
    console
        .wait_until(
            "the payment shows it is partly refunded",
            "document.querySelector('#payments .badge.refund-partial')
               && document.querySelector('#payments').textContent.includes('100,00')",
        )
        .await;
    console
        .wait_until(
            "the page says the refund is recorded",
            "document.querySelector('[aria-labelledby=payments-title] p.success')?.textContent.includes('registrado')",
        )
        .await;
    console.judge("admin-refunds-recorded").await;

    // The overview's revenue this month is net of it.
    console.click("#main-nav a[href='/admin/overview']").await;
    console
        .wait_until(
            "this month's revenue is R$ 299,00",
            "document.querySelector('#ai-vs-revenue')?.textContent.includes('299,00')",
        )
        .await;
    console.screenshot("admin-refunds-overview").await;

    // The audit log shows the refund with the admin as its actor.
    console.open("/audit/log").await;
    console.wait_for("#log .audit-item").await;
    console.fill("#f-tenant", &tenant.to_string()).await;
    console.fill("#f-kind", "action").await;
    console.click("#apply-filters").await;
    console
        .wait_until(
            "the refund is in the log",
            "location.search.includes('kind=action')
               && [...document.querySelectorAll('#log .audit-item')]
                    .some(e => e.textContent.includes('Reembolsou pagamento'))",
        )
        .await;
    let entry: String = console
        .eval(
            "[...document.querySelectorAll('#log .audit-item')]
               .find(e => e.textContent.includes('Reembolsou pagamento')).textContent",
        )
        .await;
    assert!(entry.contains("feito"), "{entry}");
    assert!(entry.contains(&admin.id.to_string()), "{entry}");
    assert!(entry.contains("administrador"), "{entry}");
    console.screenshot("admin-refunds-audit-log").await;
    console.assert_no_js_errors().await;
}
