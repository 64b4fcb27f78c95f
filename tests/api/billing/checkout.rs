//! `GET /api/v1/plans`, `POST /api/v1/billing/checkout` and `POST /api/v1/billing/portal`.

use super::fake::{app_with_stripe, form, header, received, stripe_tenant, PUBLIC_URL, SECRET_KEY};
use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::tenants::onboard;
use read_api::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn checkout(app: &TestApp, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/api/v1/billing/checkout", app.address))
        .json(body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.unwrap()
}

async fn error_code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

async fn mount_checkout(stripe: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cs_test_1", "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_test_1", "mode": "subscription"
        })))
        .mount(stripe)
        .await;
}

#[tokio::test]
async fn anyone_lists_the_plans_with_price_quota_features_and_whether_they_are_sold_online() {
    let (app, _stripe) = app_with_stripe(|_| {}).await;
    let resp = app.get("/api/v1/plans").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let plans = body["items"].as_array().unwrap();
    let ids: Vec<&str> = plans.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["basic", "enterprise", "pro"]);
    let basic = &plans[0];
    assert_eq!(basic["name"], "Básico");
    assert_eq!(basic["monthly_price_cents"], 14_900);
    assert_eq!(basic["currency"], "brl");
    assert_eq!(basic["monthly_ai_message_quota"], 1_000);
    assert_eq!(basic["features"], json!(["ai_answers", "human_handoff"]));
    assert_eq!(basic["purchasable"], true);
    assert_eq!(
        plans[1]["purchasable"], false,
        "enterprise has no Stripe price"
    );
}

#[tokio::test]
async fn a_checkout_asks_stripe_for_a_subscription_session_of_the_plans_price_once_per_key() {
    let (app, stripe) = app_with_stripe(|_| {}).await;
    mount_checkout(&stripe).await;
    let body = json!({"plan": "pro", "email": " Ana@Loja.Example "});
    let resp = checkout(&app, &body, Some("compra-1")).await;
    assert_eq!(resp.status(), 200);
    let session: Value = resp.json().await.unwrap();
    assert_eq!(session["id"], "cs_test_1");
    assert_eq!(
        session["url"],
        "https://checkout.stripe.com/c/pay/cs_test_1"
    );
    let reference = session["client_reference_id"].as_str().unwrap().to_owned();

    let again: Value = checkout(&app, &body, Some("compra-1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["client_reference_id"],
        reference.as_str(),
        "a retry sends the same request"
    );

    let requests = received(&stripe, "POST", "/v1/checkout/sessions").await;
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            header(request, "authorization").as_deref(),
            Some(format!("Bearer {SECRET_KEY}").as_str())
        );
        assert_eq!(
            header(request, "idempotency-key").as_deref(),
            Some("checkout:compra-1")
        );
        let form = form(request);
        assert_eq!(form["mode"], "subscription");
        assert_eq!(form["line_items[0][price]"], "price_pro");
        assert_eq!(form["line_items[0][quantity]"], "1");
        assert_eq!(form["client_reference_id"], reference);
        assert_eq!(form["customer_email"], "ana@loja.example");
        assert_eq!(form["metadata[plan]"], "pro");
        assert_eq!(
            form["success_url"],
            format!("{PUBLIC_URL}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}")
        );
        assert_eq!(form["cancel_url"], format!("{PUBLIC_URL}/plans"));
    }

    let other: Value = checkout(&app, &body, None).await.json().await.unwrap();
    assert_ne!(other["client_reference_id"], reference.as_str());
    let keys: Vec<Option<String>> = received(&stripe, "POST", "/v1/checkout/sessions")
        .await
        .iter()
        .map(|r| header(r, "idempotency-key"))
        .collect();
    assert!(keys[2]
        .as_deref()
        .is_some_and(|k| k.starts_with("checkout:") && k != "checkout:compra-1"));
}

#[tokio::test]
async fn unknown_plans_plans_without_a_price_and_bad_emails_are_refused_before_stripe_is_called() {
    let (app, stripe) = app_with_stripe(|_| {}).await;
    mount_checkout(&stripe).await;
    for (body, code) in [
        (
            json!({"plan": "gold", "email": "a@b.example"}),
            "unknown_plan",
        ),
        (
            json!({"plan": "enterprise", "email": "a@b.example"}),
            "plan_not_purchasable",
        ),
        (
            json!({"plan": "basic", "email": "not an e-mail"}),
            "invalid_email",
        ),
    ] {
        assert_eq!(
            error_code(checkout(&app, &body, None).await).await,
            (422, code.to_owned())
        );
    }
    let (status, _) = error_code(checkout(&app, &json!({"plan": "basic"}), None).await).await;
    assert!(status == 400 || status == 422, "{status}");
    assert!(received(&stripe, "POST", "/v1/checkout/sessions")
        .await
        .is_empty());
}

#[tokio::test]
async fn without_a_stripe_key_checkout_says_billing_is_not_configured_and_nothing_is_sold() {
    let app = spawn_app_with(|config| {
        config.background.billing.stripe_prices = Some("basic=price_basic".into());
    })
    .await;
    let plans: Value = app.get("/api/v1/plans").await.json().await.unwrap();
    assert!(plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["purchasable"] == false));
    let resp = checkout(
        &app,
        &json!({"plan": "basic", "email": "a@b.example"}),
        None,
    )
    .await;
    assert_eq!(
        error_code(resp).await,
        (503, "billing_not_configured".to_owned())
    );
}

#[tokio::test]
async fn a_failing_stripe_is_a_clear_503_not_a_500() {
    let (app, stripe) = app_with_stripe(|_| {}).await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "type": "invalid_request_error", "message": "No such price: 'price_basic'"}})))
        .mount(&stripe)
        .await;
    let resp = checkout(
        &app,
        &json!({"plan": "basic", "email": "a@b.example"}),
        None,
    )
    .await;
    assert_eq!(error_code(resp).await, (503, "stripe_refused".to_owned()));
}

#[tokio::test]
async fn an_owner_opens_the_customer_portal_of_the_tenants_stripe_customer() {
    let (app, stripe) = app_with_stripe(|_| {}).await;
    Mock::given(method("POST"))
        .and(path("/v1/billing_portal/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "bps_1", "object": "billing_portal.session",
            "url": "https://billing.stripe.com/p/session/bps_1"})))
        .mount(&stripe)
        .await;
    let tenant = stripe_tenant(&app, "Loja", "pro", "cus_portal", "sub_portal").await;
    let owner = app
        .create_user(
            &format!("dona-{}@loja.example", Uuid::now_v7().simple()),
            Role::Owner,
            Some(tenant),
        )
        .await;
    let token = app.access_token(&owner).await;
    let resp = app
        .post_json("/api/v1/billing/portal", &json!({}), Some(&token))
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["url"], "https://billing.stripe.com/p/session/bps_1");
    let requests = received(&stripe, "POST", "/v1/billing_portal/sessions").await;
    assert_eq!(requests.len(), 1);
    let form = form(&requests[0]);
    assert_eq!(form["customer"], "cus_portal");
    assert_eq!(form["return_url"], format!("{PUBLIC_URL}/billing"));
    assert!(header(&requests[0], "idempotency-key")
        .is_some_and(|k| k.starts_with(&format!("portal:{tenant}:"))));

    let agent = app
        .create_user(
            &format!("agente-{}@loja.example", Uuid::now_v7().simple()),
            Role::Agent,
            Some(tenant),
        )
        .await;
    let agent_token = app.access_token(&agent).await;
    let resp = app
        .post_json("/api/v1/billing/portal", &json!({}), Some(&agent_token))
        .await;
    assert_eq!(resp.status(), 403, "only the owner manages billing");
}

#[tokio::test]
async fn a_tenant_that_pays_nothing_through_stripe_has_no_portal() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Cortesia").await;
    let resp = app
        .post_json("/api/v1/billing/portal", &json!({}), Some(&owner))
        .await;
    assert_eq!(
        error_code(resp).await,
        (409, "no_stripe_customer".to_owned())
    );
}
