//! The full onboarding of issue #6, across both halves of billing: `POST
//! /api/v1/billing/checkout` against a fake Stripe, then the `checkout.session.completed` and
//! `invoice.paid` Stripe would send for that session (built from the form the checkout
//! posted, signed here), the tenant and owner they provision, the welcome mail received by a
//! real SMTP peer, and the e-mailed password signing in.

use super::fake::{app_with_stripe, form, header, received, PUBLIC_URL};
use crate::helpers::TestApp;
use crate::stripe_support::{
    customer, deliver, event, invoice_event, provisioned, tenant_of, SECRET,
};
use read_api::auth::Role;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use testkit::smtp::{ReceivedMail, SmtpSink};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SESSION: &str = "cs_test_onboarding";

/// An app selling through the fake Stripe, accepting webhooks signed with `SECRET` and
/// mailing to `sink`; the fake answers checkout and portal sessions.
pub(super) async fn onboarding_app(sink: &SmtpSink) -> (TestApp, MockServer) {
    let smtp = sink.url();
    let (app, stripe) = app_with_stripe(|config| {
        config.background.stripe_webhooks.stripe_webhook_secret = SECRET.into();
        config.background.stripe_webhooks.grace_check_ms = 3_600_000;
        config.background.mail.smtp_url = Some(smtp);
    })
    .await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": SESSION, "object": "checkout.session", "mode": "subscription",
            "url": format!("https://checkout.stripe.com/c/pay/{SESSION}")
        })))
        .mount(&stripe)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/billing_portal/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "bps_onboarding", "object": "billing_portal.session",
            "url": "https://billing.stripe.com/p/session/bps_onboarding"
        })))
        .mount(&stripe)
        .await;
    (app, stripe)
}

/// Starts a checkout with `key`, checks what reached Stripe, and returns that form body.
pub(super) async fn check_out(
    app: &TestApp,
    stripe: &MockServer,
    body: &Value,
    key: &str,
) -> BTreeMap<String, String> {
    let resp = app
        .client
        .post(format!("{}/api/v1/billing/checkout", app.address))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let session: Value = resp.json().await.unwrap();
    assert_eq!(session["id"], SESSION);
    assert_eq!(
        session["url"],
        format!("https://checkout.stripe.com/c/pay/{SESSION}")
    );

    let requests = received(stripe, "POST", "/v1/checkout/sessions").await;
    assert_eq!(requests.len(), 1);
    assert_eq!(
        header(&requests[0], "idempotency-key"),
        Some(format!("checkout:{key}"))
    );
    let form = form(&requests[0]);
    assert_eq!(form["mode"], "subscription");
    assert_eq!(form["line_items[0][price]"], "price_pro");
    assert_eq!(form["line_items[0][quantity]"], "1");
    assert_eq!(form["metadata[plan]"], "pro");
    assert_eq!(form["customer_email"], "ana@padaria.example");
    assert_eq!(form["client_reference_id"], session["client_reference_id"]);
    form
}

/// `checkout.session.completed` as Stripe sends it for the session `form` created, once the
/// buyer (who typed `buyer_name` on Stripe's page) paid and became `customer`.
pub(super) fn session_completed(
    form: &BTreeMap<String, String>,
    customer: &str,
    buyer_name: &str,
) -> Value {
    let metadata: Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((key.to_owned(), Value::String(v.clone())))
        })
        .collect();
    event(
        "checkout.session.completed",
        json!({
            "id": SESSION,
            "object": "checkout.session",
            "mode": form["mode"],
            "status": "complete",
            "customer": customer,
            "subscription": format!("sub_of_{customer}"),
            "client_reference_id": form["client_reference_id"],
            "customer_email": form["customer_email"],
            "customer_details": { "email": form["customer_email"], "name": buyer_name },
            "metadata": metadata,
            "payment_status": "paid",
            "success_url": form["success_url"],
            "cancel_url": form["cancel_url"],
        }),
    )
}

/// The subscription's first `invoice.paid`, for the same customer and subscription; the
/// customer's name is the one the buyer typed on Stripe's page, not the business's.
pub(super) fn first_invoice(form: &BTreeMap<String, String>, customer: &str) -> Value {
    let mut invoice = invoice_event(
        "invoice.paid",
        customer,
        &format!("in_{}", Uuid::now_v7().simple()),
        &form["customer_email"],
        1,
    );
    invoice["data"]["object"]["customer_name"] = json!("Ana Souza");
    invoice
}

/// The one mail the sink received, once no second one follows.
pub(super) async fn the_only_mail(sink: &SmtpSink) -> ReceivedMail {
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    // Give a second mail, if one were queued, the time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = sink.received();
    assert_eq!(mails.len(), 1, "one welcome mail");
    mails.into_iter().next().unwrap()
}

/// The value after `label: ` in the mail's text body.
pub(super) fn field(text: &str, label: &str) -> String {
    let start = text.find(&format!("{label}: ")).expect(label) + label.len() + 2;
    text[start..].lines().next().unwrap().trim().to_owned()
}

/// Signs in with the mailed credentials; checks `/me` is the owner of `tenant`; returns
/// the access token.
pub(super) async fn sign_in_as_owner(
    app: &TestApp,
    login: &str,
    password: &str,
    tenant: Uuid,
) -> String {
    let resp = app.login(login, password).await;
    assert_eq!(resp.status(), 200, "the mailed password signs in");
    let tokens: Value = resp.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let me: Value = app.get_as("/api/v1/me", &token).await.json().await.unwrap();
    assert_eq!(me["email"], login);
    assert_eq!(me["role"], Role::Owner.as_str());
    assert_eq!(me["tenant_id"], tenant.to_string());
    token
}

/// What the admin's subscription list shows for `tenant`, once it shows it active.
async fn admin_sees_active(app: &TestApp, tenant: Uuid) -> Value {
    let (_, admin) = app.signed_in(Role::Admin).await;
    let path = format!("/api/v1/admin/subscriptions?tenant={tenant}");
    app.eventually("the admin lists the subscription as active", || async {
        let page: Value = app.get_as(&path, &admin).await.json().await.unwrap();
        page["items"][0]["status"] == "active"
    })
    .await;
    let page: Value = app.get_as(&path, &admin).await.json().await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    items[0].clone()
}

#[tokio::test]
async fn a_buyer_who_checks_out_is_provisioned_from_stripes_webhooks_and_signs_in_with_the_mailed_password(
) {
    let sink = SmtpSink::start().await.unwrap();
    let (app, stripe) = onboarding_app(&sink).await;
    let body = json!({
        "plan": "pro",
        "email": " Ana@Padaria.Example ",
        "business_name": " Padaria Pão Quente ",
        "locale": "en-US",
    });
    let form = check_out(&app, &stripe, &body, "onboarding-1").await;
    assert_eq!(form["metadata[business_name]"], "Padaria Pão Quente");
    assert_eq!(form["metadata[locale]"], "en");

    let cus = customer();
    let tenant = tenant_of(&cus);
    let completed = session_completed(&form, &cus, "Ana Souza");
    assert_eq!(deliver(&app, &completed).await["duplicate"], false);
    assert_eq!(
        deliver(&app, &first_invoice(&form, &cus)).await["duplicate"],
        false
    );
    assert_eq!(
        deliver(&app, &completed).await["duplicate"],
        true,
        "Stripe redelivered the checkout"
    );

    let mail = the_only_mail(&sink).await;
    assert_eq!(mail.rcpt_to, ["ana@padaria.example"]);
    assert_eq!(mail.header("To").as_deref(), Some("ana@padaria.example"));
    assert!(mail
        .header("From")
        .is_some_and(|from| from.contains("atende")));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Welcome to atende, Padaria Pão Quente"),
        "named by the checkout's business name, in the checkout's language"
    );
    let text = mail.body("text/plain").expect("a text body");
    assert_eq!(field(&text, "E-mail"), "ana@padaria.example");
    let password = field(&text, "Password");
    assert!(password.len() >= 16, "{password}");
    assert!(text.contains(&format!("{PUBLIC_URL}/login")), "{text}");
    let html = mail.body("text/html").expect("an HTML body");
    assert!(html.contains(&password), "{html}");

    let owner = sign_in_as_owner(&app, "ana@padaria.example", &password, tenant).await;

    let subscription = admin_sees_active(&app, tenant).await;
    assert_eq!(subscription["plan"], "pro");
    assert_eq!(subscription["stripe_customer_id"], cus);
    assert_eq!(
        subscription["stripe_subscription_id"],
        format!("sub_of_{cus}")
    );
    assert!(subscription["paid_until"].is_string(), "{subscription}");

    let resp = app
        .post_json("/api/v1/billing/portal", &json!({}), Some(&owner))
        .await;
    assert_eq!(resp.status(), 200);
    let portal: Value = resp.json().await.unwrap();
    assert_eq!(
        portal["url"],
        "https://billing.stripe.com/p/session/bps_onboarding"
    );
    let requests = received(&stripe, "POST", "/v1/billing_portal/sessions").await;
    assert_eq!(requests.len(), 1);
    let portal_form = super::fake::form(&requests[0]);
    assert_eq!(portal_form["customer"], cus);
    assert_eq!(portal_form["return_url"], format!("{PUBLIC_URL}/billing"));
    assert!(header(&requests[0], "idempotency-key")
        .is_some_and(|k| k.starts_with(&format!("portal:{tenant}:"))));
}

#[tokio::test]
async fn an_invoice_paid_before_its_checkout_completed_provisions_once_the_checkout_arrives() {
    let sink = SmtpSink::start().await.unwrap();
    let (app, stripe) = onboarding_app(&sink).await;
    // Neither business name nor locale: the webhook side manages without them.
    let body = json!({"plan": "pro", "email": "ana@padaria.example"});
    let form = check_out(&app, &stripe, &body, "onboarding-2").await;
    assert!(!form.contains_key("metadata[business_name]"), "{form:?}");
    assert!(!form.contains_key("metadata[locale]"), "{form:?}");

    let cus = customer();
    let tenant = tenant_of(&cus);
    let invoice = first_invoice(&form, &cus);
    assert_eq!(deliver(&app, &invoice).await["duplicate"], false);
    assert_eq!(deliver(&app, &invoice).await["duplicate"], true);
    let owners: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        owners, 0,
        "a payment alone does not say which plan was bought"
    );

    deliver(&app, &session_completed(&form, &cus, "Ana Souza")).await;

    let mail = the_only_mail(&sink).await;
    assert_eq!(mail.header("To").as_deref(), Some("ana@padaria.example"));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Bem-vindo ao atende, Ana Souza"),
        "named as the buyer signed on Stripe's page, in the default language"
    );
    let text = mail.body("text/plain").expect("a text body");
    assert_eq!(field(&text, "E-mail"), "ana@padaria.example");
    let password = field(&text, "Senha");
    sign_in_as_owner(&app, "ana@padaria.example", &password, tenant).await;

    let subscription = admin_sees_active(&app, tenant).await;
    assert_eq!(subscription["plan"], "pro");
    assert_eq!(subscription["stripe_customer_id"], cus);
    assert!(
        subscription["paid_until"].is_string(),
        "the early payment counts: {subscription}"
    );
}

#[tokio::test]
async fn a_checkout_with_an_unsupported_locale_or_an_overlong_business_name_never_reaches_stripe() {
    let sink = SmtpSink::start().await.unwrap();
    let (app, stripe) = onboarding_app(&sink).await;
    let cases = [
        (
            json!({"plan": "pro", "email": "ana@padaria.example", "locale": "fr"}),
            "unsupported_locale",
            "locale",
        ),
        (
            json!({"plan": "pro", "email": "ana@padaria.example",
                   "business_name": "P".repeat(201)}),
            "invalid_business_name",
            "business_name",
        ),
    ];
    for (body, code, field) in cases {
        let resp = app.post_json("/api/v1/billing/checkout", &body, None).await;
        assert_eq!(resp.status(), 422, "{code}");
        let error: Value = resp.json().await.unwrap();
        assert_eq!(error["code"], code);
        assert_eq!(error["details"]["field"], field);
    }
    assert!(received(&stripe, "POST", "/v1/checkout/sessions")
        .await
        .is_empty());
}

#[tokio::test]
async fn a_checkout_paid_later_by_its_invoice_provisions_with_the_checkouts_name_and_language() {
    let sink = SmtpSink::start().await.unwrap();
    let (app, stripe) = onboarding_app(&sink).await;
    let body = json!({
        "plan": "pro",
        "email": "ana@padaria.example",
        "business_name": "Padaria Pão Quente",
        "locale": "en",
    });
    let form = check_out(&app, &stripe, &body, "onboarding-4").await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    // A boleto: the checkout completes before the money arrives.
    let mut completed = session_completed(&form, &cus, "Ana Souza");
    completed["data"]["object"]["payment_status"] = json!("unpaid");
    deliver(&app, &completed).await;
    assert!(sink.received().is_empty());

    deliver(&app, &first_invoice(&form, &cus)).await;

    let mail = the_only_mail(&sink).await;
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Welcome to atende, Padaria Pão Quente"),
        "the invoice names neither; the checkout did"
    );
    let text = mail.body("text/plain").expect("a text body");
    let password = field(&text, "Password");
    sign_in_as_owner(&app, "ana@padaria.example", &password, tenant).await;
    app.eventually(
        "the checkout's details are dropped once provisioned",
        || async {
            let kept: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM stripe_checkout_owners WHERE tenant_id = $1",
            )
            .bind(tenant)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            kept == 0
        },
    )
    .await;
}

#[tokio::test]
async fn a_tenant_that_bought_in_english_gets_its_later_mails_in_its_language() {
    let sink = SmtpSink::start().await.unwrap();
    let (app, stripe) = onboarding_app(&sink).await;
    let body = json!({"plan": "pro", "email": "ana@padaria.example", "locale": "en"});
    let form = check_out(&app, &stripe, &body, "onboarding-5").await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    deliver(&app, &session_completed(&form, &cus, "Ana Souza")).await;
    deliver(&app, &first_invoice(&form, &cus)).await;
    let welcome = the_only_mail(&sink).await;
    let password = field(&welcome.body("text/plain").unwrap(), "Password");
    let owner = sign_in_as_owner(&app, "ana@padaria.example", &password, tenant).await;
    provisioned(&app, tenant).await;
    let locale: Value = app
        .get_as("/api/v1/settings/locale", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        locale["locale"], "en",
        "the checkout's language is the tenant's"
    );

    let failed = invoice_event(
        "invoice.payment_failed",
        &cus,
        "in_renewal",
        "ana@padaria.example",
        1,
    );
    deliver(&app, &failed).await;
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 2);
    let mail = &mails[1];
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Payment failed: Ana Souza"),
        "named by the buyer, in the checkout's language"
    );
    let text = mail.body("text/plain").unwrap();
    let date = text.split("until ").nth(1).map(|rest| &rest[..10]);
    assert!(
        date.is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()),
        "an English date: {text}"
    );

    // The owner switches to Portuguese: the next mail follows.
    let resp = app
        .client
        .put(format!("{}/api/v1/settings/locale", app.address))
        .bearer_auth(&owner)
        .json(&json!({"locale": "pt-BR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    app.eventually("the directory knows the new language", || async {
        sqlx::query_scalar::<_, String>("SELECT locale FROM tenant_directory WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(&app.db.pool)
            .await
            .is_ok_and(|l| l == "pt-BR")
    })
    .await;
    let deleted = event(
        "customer.subscription.deleted",
        json!({
            "id": format!("sub_of_{cus}"), "object": "subscription", "customer": cus,
            "status": "canceled", "cancel_at_period_end": false,
        }),
    );
    deliver(&app, &deleted).await;
    let mails = sink.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 3);
    assert!(
        mails[2]
            .header("Subject")
            .is_some_and(|s| s.starts_with("Conta suspensa")),
        "{:?}",
        mails[2].header("Subject")
    );
}
