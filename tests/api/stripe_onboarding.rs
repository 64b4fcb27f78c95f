//! The provisioning saga (F22): the first payment creates the tenant, its owner and the
//! welcome mail, exactly once.

use crate::stripe_support::*;
use read_api::auth::Role;
use std::time::Duration;
use testkit::smtp::SmtpSink;

/// The value after `label: ` in the mail's text body.
fn field(text: &str, label: &str) -> String {
    let start = text.find(&format!("{label}: ")).expect(label) + label.len() + 2;
    text[start..].lines().next().unwrap().trim().to_owned()
}

#[tokio::test]
async fn a_first_payment_provisions_the_tenant_and_the_welcome_mail_lets_the_owner_sign_in() {
    let sink = SmtpSink::start().await.unwrap();
    let app = stripe_app_now(Some(&sink)).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    deliver(
        &app,
        &checkout_completed(&cus, "Dona@Padaria.example", "pro", true),
    )
    .await;

    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.header("To").as_deref(), Some("dona@padaria.example"));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Bem-vindo ao atende, Padaria Pão Quente")
    );
    let text = mail.body("text/plain").expect("a text body");
    assert_eq!(field(&text, "E-mail"), "dona@padaria.example");
    let password = field(&text, "Senha");
    assert!(password.len() >= 16, "{password}");
    assert!(
        text.contains("https://painel.atende.example/login"),
        "{text}"
    );

    // Only the hash is stored, and it is argon2id.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(&password));

    let resp = app.login("dona@padaria.example", &password).await;
    assert_eq!(resp.status(), 200);
    let token = resp.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: serde_json::Value = app.get_as("/api/v1/me", &token).await.json().await.unwrap();
    assert_eq!(me["role"], Role::Owner.as_str());
    assert_eq!(me["tenant_id"], tenant.to_string());

    let (registered, _) = app.app.bus.tenants.load(&tenant.to_string()).await.unwrap();
    assert_eq!(registered.name(), "Padaria Pão Quente");
    assert_eq!(registered.plan().as_str(), "pro");
    assert!(!registered.is_suspended());
}

#[tokio::test]
async fn a_saga_that_stopped_half_way_on_a_taken_email_finishes_once_when_the_invoice_arrives() {
    let sink = SmtpSink::start().await.unwrap();
    let app = stripe_app_now(Some(&sink)).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    // The owner step fails: the e-mail signs in to another account. The tenant is
    // registered by then, as a crash after the first step would leave it.
    let squatter = app
        .create_user("dona@padaria.example", Role::Admin, None)
        .await;
    let checkout = checkout_completed(&cus, "dona@padaria.example", "pro", true);
    assert_eq!(deliver(&app, &checkout).await["duplicate"], false);
    // The saga handles the checkout once and moves on: retrying would not free the e-mail.
    app.eventually("the saga is past the checkout", || async {
        count(
            &app,
            "SELECT count(*) FROM stream_checkpoints c JOIN events e
                ON e.aggregate_type = 'subscription' AND e.aggregate_id = $1::text
               AND e.event_type = 'CheckoutCompleted'
             WHERE c.consumer = 'stripe_provisioning'
               AND (c.tx_id, c.position) >= (e.tx_id::text::bigint, e.position)",
            tenant,
        )
        .await
            == 1
    })
    .await;
    assert_eq!(
        event_types(&app, "tenant", tenant).await,
        ["TenantRegistered"]
    );
    assert_eq!(
        event_types(&app, "subscription", tenant).await,
        ["CheckoutCompleted"]
    );

    // The cause is fixed; Stripe sends the checkout's invoice, twice.
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(squatter.id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let invoice = invoice_event("invoice.paid", &cus, "in_1", "dona@padaria.example", 1);
    assert_eq!(deliver(&app, &invoice).await["duplicate"], false);
    assert_eq!(deliver(&app, &invoice).await["duplicate"], true);
    provisioned(&app, tenant).await;

    assert_eq!(
        event_types(&app, "tenant", tenant).await,
        ["TenantRegistered"]
    );
    assert_eq!(
        event_types(&app, "subscription", tenant).await,
        [
            "CheckoutCompleted",
            "PaymentHeld",
            "SubscriptionStarted",
            "PaymentSucceeded"
        ]
    );
    let owners = count(
        &app,
        "SELECT count(*) FROM users WHERE tenant_id = $1",
        tenant,
    )
    .await;
    assert_eq!(owners, 1);
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    // Give a second mail, if one were queued, the time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1, "the welcome mail is sent once");
}

#[tokio::test]
async fn a_paid_checkout_without_a_usable_email_is_refused_and_records_nothing() {
    let app = stripe_app_now(None).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    let checkout = checkout_completed(&cus, "not an e-mail", "pro", true);
    let resp = deliver_at(&app, &checkout, chrono::Utc::now().timestamp()).await;
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "email_missing");
    assert!(event_types(&app, "subscription", tenant).await.is_empty());
    let kept = count(
        &app,
        "SELECT count(*) FROM stripe_checkout_owners WHERE tenant_id = $1",
        tenant,
    )
    .await;
    assert_eq!(kept, 0);
}
