//! A tenant who cancels and subscribes again through Stripe (issue 19): checkout, the
//! subscription deleted in Stripe, a second checkout by the same owner, and the tenant
//! working again on the new subscription: signed in, AI answering, usage reported to its
//! customer, the new subscription on the billing views.

use super::fake::{form, received};
use super::metering_support::answers;
use super::onboarding::{
    check_out, field, first_invoice, onboarding_app, session_completed, sign_in_as_owner,
    the_only_mail,
};
use crate::helpers::TestApp;
use crate::stripe_support::{customer, deliver, event, tenant_of};
use read_api::auth::Role;
use serde_json::{json, Value};
use std::time::Duration;
use testkit::smtp::SmtpSink;
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const METER_PATH: &str = "/v1/billing/meter_events";

async fn suspended(app: &TestApp, tenant: Uuid) -> bool {
    let (t, _) = app.app.bus.tenants.load(&tenant.to_string()).await.unwrap();
    t.is_suspended()
}

/// `customer.subscription.deleted` for `subscription` of `customer`.
fn deleted(customer: &str, subscription: &str) -> Value {
    event(
        "customer.subscription.deleted",
        json!({
            "id": subscription, "object": "subscription", "customer": customer,
            "status": "canceled", "cancel_at_period_end": false,
            "cancellation_details": { "reason": "cancellation_requested" },
        }),
    )
}

/// The admin's view of `tenant`'s subscription, once `ready` holds for it.
async fn admin_row(app: &TestApp, tenant: Uuid, ready: impl Fn(&Value) -> bool) -> Value {
    let (_, admin) = app.signed_in(Role::Admin).await;
    let path = format!("/api/v1/admin/subscriptions?tenant={tenant}");
    let row = || async {
        let page: Value = app.get_as(&path, &admin).await.json().await.unwrap();
        page["items"][0].clone()
    };
    app.eventually("the admin's subscription row", || async {
        ready(&row().await)
    })
    .await;
    row().await
}

#[tokio::test]
async fn a_tenant_who_cancels_and_checks_out_again_works_on_its_new_subscription() {
    let sink = SmtpSink::start().await.unwrap();
    let (app, stripe) = onboarding_app(&sink).await;
    Mock::given(method("POST"))
        .and(path(METER_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "billing.meter_event", "event_name": "atende_ai_answers",
            "identifier": "x", "livemode": false, "created": 1, "timestamp": 1, "payload": {}
        })))
        .mount(&stripe)
        .await;

    // Given a tenant that bought through Checkout and signs in.
    let buyer = json!({"plan": "pro", "email": "ana@padaria.example"});
    let first_form = check_out(&app, &stripe, &buyer, "first-checkout").await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    deliver(&app, &session_completed(&first_form, &cus, "Ana Souza")).await;
    deliver(&app, &first_invoice(&first_form, &cus)).await;
    let welcome = the_only_mail(&sink).await;
    let password = field(&welcome.body("text/plain").unwrap(), "Senha");
    sign_in_as_owner(&app, "ana@padaria.example", &password, tenant).await;

    // When it cancels in Stripe, it is suspended and cannot sign in.
    deliver(&app, &deleted(&cus, &format!("sub_of_{cus}"))).await;
    app.eventually("the tenant is suspended", || suspended(&app, tenant))
        .await;
    admin_row(&app, tenant, |r| r["status"] == "cancelled").await;
    let refused = app.login("ana@padaria.example", &password).await;
    assert_ne!(refused.status(), 200);

    // When the owner checks out again with the same e-mail, Stripe is asked to subscribe
    // the tenant's own customer, so the new subscription maps to the same tenant.
    let again = json!({"plan": "basic", "email": "Ana@Padaria.example"});
    let resp = app
        .client
        .post(format!("{}/api/v1/billing/checkout", app.address))
        .header("Idempotency-Key", "second-checkout")
        .json(&again)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let requests = received(&stripe, "POST", "/v1/checkout/sessions").await;
    assert_eq!(requests.len(), 2);
    let second_form = form(&requests[1]);
    assert_eq!(second_form["customer"], cus);
    assert!(
        !second_form.contains_key("customer_email"),
        "{second_form:?}"
    );
    assert_eq!(second_form["metadata[plan]"], "basic");

    // Stripe's invoice may come before the checkout's completion; both name the customer's
    // e-mail from the customer itself.
    let new_sub = format!("sub_again_{}", Uuid::now_v7().simple());
    let mut as_stripe_fills_it = second_form.clone();
    as_stripe_fills_it.insert("customer_email".into(), "ana@padaria.example".into());
    let mut invoice = first_invoice(&as_stripe_fills_it, &cus);
    invoice["data"]["object"]["parent"]["subscription_details"]["subscription"] = json!(new_sub);
    deliver(&app, &invoice).await;
    let mut completed = session_completed(&as_stripe_fills_it, &cus, "Ana Souza");
    completed["data"]["object"]["subscription"] = json!(new_sub);
    completed["data"]["object"]["customer_email"] = Value::Null;
    completed["data"]["object"]["customer_details"]["email"] = json!("ana@padaria.example");
    deliver(&app, &completed).await;

    // Then the tenant is active again on the new subscription, and says so once.
    app.eventually("the tenant is active again", || async {
        !suspended(&app, tenant).await
    })
    .await;
    let (sub, _) = app
        .app
        .bus
        .subscriptions
        .load(&tenant.to_string())
        .await
        .unwrap();
    assert_eq!(sub.status().unwrap().as_str(), "active");
    assert_eq!(sub.stripe_subscription_id(), new_sub);
    assert_eq!(sub.stripe_customer_id(), cus);
    assert_eq!(sub.plan().as_str(), "basic");
    let mails = sink.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 3, "welcome, suspended, reactivated");
    assert!(mails[2]
        .header("Subject")
        .unwrap()
        .starts_with("Conta reativada"));

    // The owner signs in with the password they had (once the API's set of suspended
    // tenants, re-read every 2 s, has caught up); billing shows the new subscription.
    let tokens: Value = app
        .login("ana@padaria.example", &password)
        .await
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap_or_default();
    app.eventually("the owner's requests are accepted again", || async {
        app.get_as("/api/v1/me", token).await.status() == 200
    })
    .await;
    let owner = sign_in_as_owner(&app, "ana@padaria.example", &password, tenant).await;
    let row = admin_row(&app, tenant, |r| {
        r["status"] == "active" && r["stripe_subscription_id"] == new_sub.as_str()
    })
    .await;
    assert_eq!(row["plan"], "basic");
    assert!(row["cancelled_at"].is_null(), "{row}");
    let usage: Value = app
        .get_as("/api/v1/usage", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["plan"], "basic", "{usage}");

    // A late word about the old subscription does not touch the new one.
    let late = deleted(&cus, &format!("sub_of_{cus}"));
    deliver(&app, &late).await;
    let (sub, _) = app
        .app
        .bus
        .subscriptions
        .load(&tenant.to_string())
        .await
        .unwrap();
    assert_eq!(sub.status().unwrap().as_str(), "active");

    // The AI answers its customers, and the usage reaches Stripe under its customer.
    answers(&app, tenant, 2).await;
    app.eventually("the answers reach the meter", || async {
        received(&stripe, "POST", METER_PATH)
            .await
            .iter()
            .map(form)
            .filter(|f| f["payload[stripe_customer_id]"] == cus)
            .map(|f| f["payload[value]"].parse::<i64>().unwrap())
            .sum::<i64>()
            >= 2
    })
    .await;
    assert!(!suspended(&app, tenant).await);
}
