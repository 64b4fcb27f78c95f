//! `POST /webhooks/stripe`: signatures, deduplication, order (F21).

use crate::helpers::TestApp;
use crate::stripe_support::*;
use serde_json::{json, Value};

async fn refusal(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

async fn nothing_recorded(app: &TestApp, customer: &str) {
    let tenant = tenant_of(customer);
    assert!(event_types(app, "subscription", tenant).await.is_empty());
    let handled: i64 = sqlx::query_scalar("SELECT count(*) FROM stripe_webhook_events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(handled, 0);
}

#[tokio::test]
async fn a_webhook_signed_with_another_secret_is_refused_and_records_nothing() {
    let app = stripe_app_now(None).await;
    let cus = customer();
    let body = checkout_completed(&cus, "dona@padaria.example", "pro", true).to_string();
    let t = chrono::Utc::now().timestamp();
    let header = format!("t={t},v1={}", sign("whsec_someone_else", t, &body));
    let resp = post_raw(&app, &body, Some(header)).await;
    assert_eq!(refusal(resp).await, (400, "signature_mismatch".into()));
    nothing_recorded(&app, &cus).await;
}

#[tokio::test]
async fn a_stale_or_missing_signature_is_refused_and_records_nothing() {
    let app = stripe_app_now(None).await;
    let cus = customer();
    let body = checkout_completed(&cus, "dona@padaria.example", "pro", true).to_string();
    let stale = chrono::Utc::now().timestamp() - 301;
    let header = format!("t={stale},v1={}", sign(SECRET, stale, &body));
    let resp = post_raw(&app, &body, Some(header)).await;
    assert_eq!(refusal(resp).await, (400, "signature_stale".into()));
    let resp = post_raw(&app, &body, None).await;
    assert_eq!(refusal(resp).await, (400, "signature_missing".into()));
    let resp = post_raw(&app, &body, Some("v1=abc".into())).await;
    assert_eq!(refusal(resp).await, (400, "signature_malformed".into()));
    nothing_recorded(&app, &cus).await;
}

#[tokio::test]
async fn during_a_secret_roll_either_secret_and_any_v1_is_accepted() {
    let app = stripe_app_now(None).await;
    let t = chrono::Utc::now().timestamp();
    // Stripe signs with both secrets while rolling; an unknown first v1 must not matter.
    let first = event("customer.created", json!({"id": customer()})).to_string();
    let header = format!(
        "t={t},v1={},v1={}",
        sign("whsec_unknown", t, &first),
        sign(SECRET, t, &first)
    );
    assert_eq!(post_raw(&app, &first, Some(header)).await.status(), 200);
    let second = event("customer.created", json!({"id": customer()})).to_string();
    let header = format!("t={t},v1={}", sign(OLD_SECRET, t, &second));
    assert_eq!(post_raw(&app, &second, Some(header)).await.status(), 200);
}

#[tokio::test]
async fn malformed_json_after_a_valid_signature_is_refused() {
    let app = stripe_app_now(None).await;
    let t = chrono::Utc::now().timestamp();
    for body in ["{not json", r#"{"id": "evt_1"}"#] {
        let header = format!("t={t},v1={}", sign(SECRET, t, body));
        let resp = post_raw(&app, body, Some(header)).await;
        assert_eq!(
            refusal(resp).await,
            (400, "malformed_event".into()),
            "{body}"
        );
    }
    let bad_invoice = event("invoice.paid", json!({"id": 42})).to_string();
    let header = format!("t={t},v1={}", sign(SECRET, t, &bad_invoice));
    let resp = post_raw(&app, &bad_invoice, Some(header)).await;
    assert_eq!(refusal(resp).await, (400, "malformed_event".into()));
}

#[tokio::test]
async fn an_event_type_the_product_does_not_use_is_acknowledged() {
    let app = stripe_app_now(None).await;
    let body = deliver(&app, &event("charge.refunded", json!({"id": "ch_1"}))).await;
    assert_eq!(body["outcome"], "ignored");
    assert_eq!(body["duplicate"], false);
}

#[tokio::test]
async fn a_redelivered_event_is_acknowledged_and_changes_nothing_even_concurrently() {
    let app = stripe_app_now(None).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    let checkout = checkout_completed(&cus, "dona@padaria.example", "pro", true);
    let t = chrono::Utc::now().timestamp();
    let deliveries = (0..4).map(|_| deliver_at(&app, &checkout, t));
    for resp in futures::future::join_all(deliveries).await {
        assert_eq!(resp.status(), 200);
    }
    let again = deliver(&app, &checkout).await;
    assert_eq!(again["duplicate"], true);
    provisioned(&app, tenant).await;
    assert_eq!(
        event_types(&app, "subscription", tenant).await,
        ["CheckoutCompleted", "SubscriptionStarted"]
    );
    assert_eq!(
        event_types(&app, "tenant", tenant).await,
        ["TenantRegistered"]
    );
    let owners = count(
        &app,
        "SELECT count(*) FROM users WHERE tenant_id = $1",
        tenant,
    )
    .await;
    assert_eq!(owners, 1);
    let welcome: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM mail_outbox WHERE idempotency_key = 'welcome:' || $1::text",
    )
    .bind(tenant)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(welcome, 1);
}

#[tokio::test]
async fn an_invoice_paid_before_its_checkout_is_counted_once_the_subscription_starts() {
    let app = stripe_app_now(None).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    deliver(
        &app,
        &invoice_event("invoice.paid", &cus, "in_first", "dona@padaria.example", 1),
    )
    .await;
    assert_eq!(
        event_types(&app, "subscription", tenant).await,
        ["PaymentHeld"]
    );
    assert!(event_types(&app, "tenant", tenant).await.is_empty());
    deliver(
        &app,
        &checkout_completed(&cus, "dona@padaria.example", "pro", false),
    )
    .await;
    provisioned(&app, tenant).await;
    assert_eq!(
        event_types(&app, "subscription", tenant).await,
        [
            "PaymentHeld",
            "CheckoutCompleted",
            "SubscriptionStarted",
            "PaymentSucceeded"
        ]
    );
    assert_eq!(
        event_types(&app, "tenant", tenant).await,
        ["TenantRegistered"]
    );
}

#[tokio::test]
async fn an_unpaid_checkout_waits_for_its_invoice_to_provision() {
    let app = stripe_app_now(None).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    deliver(
        &app,
        &checkout_completed(&cus, "dona@padaria.example", "basic", false),
    )
    .await;
    assert!(event_types(&app, "tenant", tenant).await.is_empty());
    // A failure before the first payment concerns no subscription yet.
    let failed = invoice_event(
        "invoice.payment_failed",
        &cus,
        "in_1",
        "dona@padaria.example",
        1,
    );
    assert_eq!(deliver(&app, &failed).await["outcome"], "ignored");
    deliver(
        &app,
        &invoice_event(
            "invoice.payment_succeeded",
            &cus,
            "in_1",
            "dona@padaria.example",
            2,
        ),
    )
    .await;
    provisioned(&app, tenant).await;
    assert_eq!(
        event_types(&app, "subscription", tenant).await,
        [
            "CheckoutCompleted",
            "PaymentHeld",
            "SubscriptionStarted",
            "PaymentSucceeded"
        ]
    );
    assert_eq!(
        event_types(&app, "tenant", tenant).await,
        ["TenantRegistered"]
    );
}

fn subscription_updated(cus: &str, plan: &str, cancel: bool, created: i64) -> Value {
    let mut e = event(
        "customer.subscription.updated",
        json!({
            "id": format!("sub_of_{cus}"),
            "object": "subscription",
            "customer": cus,
            "status": "active",
            "cancel_at_period_end": cancel,
            "metadata": {},
            "items": { "object": "list", "data": [
                { "id": "si_1", "price": { "id": "price_1", "lookup_key": plan, "metadata": {} } }
            ] },
        }),
    );
    e["created"] = json!(created);
    e
}

#[tokio::test]
async fn a_subscription_update_changes_the_plan_and_an_older_one_arriving_late_is_ignored() {
    let app = stripe_app_now(None).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    deliver(
        &app,
        &checkout_completed(&cus, "dona@padaria.example", "basic", true),
    )
    .await;
    provisioned(&app, tenant).await;
    let now = chrono::Utc::now().timestamp();
    deliver(&app, &subscription_updated(&cus, "pro", true, now)).await;
    let late = deliver(&app, &subscription_updated(&cus, "basic", false, now - 60)).await;
    assert_eq!(late["outcome"], "ignored");
    assert_eq!(
        event_types(&app, "subscription", tenant).await,
        [
            "CheckoutCompleted",
            "SubscriptionStarted",
            "PlanChanged",
            "CancelAtPeriodEndChanged"
        ]
    );
    let (sub, _) = app
        .app
        .bus
        .subscriptions
        .load(&tenant.to_string())
        .await
        .unwrap();
    assert_eq!(sub.plan().as_str(), "pro");
    assert!(sub.cancels_at_period_end());
}

#[tokio::test]
async fn a_cancellation_scheduled_at_stripe_shows_in_the_admin_subscription_view_until_undone() {
    let app = stripe_app_now(None).await;
    let (_, admin) = app.signed_in(read_api::auth::Role::Admin).await;
    let cus = customer();
    let tenant = tenant_of(&cus);
    deliver(
        &app,
        &checkout_completed(&cus, "dona@padaria.example", "pro", true),
    )
    .await;
    provisioned(&app, tenant).await;
    let now = chrono::Utc::now().timestamp();
    deliver(&app, &subscription_updated(&cus, "pro", true, now)).await;
    let scheduled =
        |flag: bool| {
            let (app, admin) = (&app, admin.clone());
            async move {
                let path = format!("/api/v1/admin/subscriptions?cancel_at_period_end={flag}");
                let page: Value = app.get_as(&path, &admin).await.json().await.unwrap();
                page["items"].as_array().unwrap().iter().any(|i| {
                    i["tenant_id"] == tenant.to_string() && i["cancel_at_period_end"] == flag
                })
            }
        };
    app.eventually("the schedule shows", || scheduled(true))
        .await;
    assert!(!scheduled(false).await, "the filter keeps it out");

    deliver(&app, &subscription_updated(&cus, "pro", false, now + 1)).await;
    app.eventually("the undone schedule shows", || scheduled(false))
        .await;
    assert!(!scheduled(true).await);
}
