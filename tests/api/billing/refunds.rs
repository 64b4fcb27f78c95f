//! Refunds (issue 18): an admin asks Stripe (a fake at the HTTP boundary) to refund a
//! payment; Stripe's signed webhook records it, and revenue is net of it from then on.

use super::fake::{app_with_stripe, header, received, stripe_tenant, subscription};
use crate::helpers::TestApp;
use crate::stripe_support::{deliver, event, event_types, form_of, refunds_api, Refunds, SECRET};
use crate::tenants::send;
use aggregates::SubscriptionCommand;
use chrono::{Datelike, Utc};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An app whose billing calls the fake Stripe and whose webhook takes `SECRET`.
async fn app() -> (TestApp, MockServer) {
    app_with_stripe(|config| {
        config.background.stripe_webhooks.stripe_webhook_secret = SECRET.into();
    })
    .await
}

/// A Stripe tenant whose invoice `invoice` of R$ 399,00 was paid; its payment's id.
async fn paid(app: &TestApp, admin: &str, invoice: &str) -> (Uuid, i64) {
    let customer = format!("cus_{}", Uuid::now_v7().simple());
    let tenant = stripe_tenant(app, "Loja", "pro", &customer, &format!("sub_of_{customer}")).await;
    subscription(
        app,
        tenant,
        SubscriptionCommand::RecordPayment {
            invoice_id: invoice.into(),
            amount_cents: 39_900,
            currency: "brl".into(),
            period_end: Utc::now() + chrono::Duration::days(30),
        },
    )
    .await;
    let position = payment_of(app, admin, tenant, |_| true).await["position"]
        .as_i64()
        .unwrap();
    (tenant, position)
}

/// Waits until `tenant`'s succeeded payment satisfies `ready`; returns it.
async fn payment_of(
    app: &TestApp,
    admin: &str,
    tenant: Uuid,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let found = std::sync::Mutex::new(Value::Null);
    app.eventually("the payment is projected as expected", || async {
        let page: Value = app
            .get_as(
                &format!("/api/v1/admin/payments?tenant={tenant}&status=succeeded"),
                admin,
            )
            .await
            .json()
            .await
            .unwrap();
        match page["items"].get(0) {
            Some(p) if ready(p) => {
                *found.lock().unwrap() = p.clone();
                true
            }
            _ => false,
        }
    })
    .await;
    found.into_inner().unwrap()
}

/// This month's net revenue in BRL, as the revenue report and the overview give it.
async fn revenue_now(app: &TestApp, admin: &str) -> (i64, i64) {
    let report: Value = app
        .get_as("/api/v1/admin/reports/revenue", admin)
        .await
        .json()
        .await
        .unwrap();
    let month = Utc::now().date_naive().with_day(1).unwrap().to_string();
    let monthly = report["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == month.as_str() && m["currency"] == "brl")
        .map_or(0, |m| m["amount_cents"].as_i64().unwrap());
    let overview: Value = app
        .get_as("/api/v1/admin/reports/overview", admin)
        .await
        .json()
        .await
        .unwrap();
    let this_month = overview["month"]["revenue_cents"]["brl"]
        .as_i64()
        .unwrap_or(0);
    (monthly, this_month)
}

async fn refund(app: &TestApp, token: &str, payment: i64, body: Value) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/api/v1/admin/payments/{payment}/refund"),
        Some(&body),
        token,
    )
    .await
}

/// The `n`th refund the fake created (from 1), as Stripe's `refund.*` webhooks carry it.
fn created(refunds: &Refunds, n: usize) -> Value {
    refunds.lock().unwrap()[n - 1].clone()
}

/// `refund_payment` traces of `tenant` in the audit log: (outcome, actor, detail).
async fn refund_traces(app: &TestApp, tenant: Uuid) -> Vec<(String, String, Option<String>)> {
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let log: Value = app
        .get_as(
            &format!("/api/v1/audit/log?kind=action&tenant={tenant}"),
            &auditor,
        )
        .await
        .json()
        .await
        .unwrap();
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "refund_payment")
        .map(|e| {
            (
                e["outcome"].as_str().unwrap().to_owned(),
                e["actor_id"].as_str().unwrap().to_owned(),
                e["detail"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn given_a_paid_invoice_when_an_admin_refunds_part_then_the_rest_then_revenue_is_net_after_each_webhook(
) {
    let (app, stripe) = app().await;
    let created_refunds = refunds_api(&stripe).await;
    let (admin, token) = app.signed_in(Role::Admin).await;
    let (tenant, payment) = paid(&app, &token, "in_refund_1").await;
    app.eventually("this month's revenue counts the payment", || async {
        revenue_now(&app, &token).await == (39_900, 39_900)
    })
    .await;

    let resp = refund(&app, &token, payment, json!({"amount": 10_000})).await;
    assert_eq!(resp.status(), 202);
    let accepted: Value = resp.json().await.unwrap();
    assert_eq!(accepted["amount_cents"], 10_000);
    assert_eq!(accepted["remaining_cents"], 29_900);
    let asked = received(&stripe, "POST", "/v1/refunds").await;
    assert_eq!(asked.len(), 1);
    let form = form_of(&asked[0]);
    assert_eq!(
        form["payment_intent"], "pi_of_in_refund_1",
        "the invoice's PaymentIntent"
    );
    assert_eq!(form["amount"], "10000");
    assert_eq!(form["metadata[atende_invoice]"], "in_refund_1");
    assert_eq!(form["metadata[atende_tenant]"], tenant.to_string());
    assert_eq!(form["metadata[atende_admin]"], admin.id.to_string());
    assert!(header(&asked[0], "idempotency-key").is_some());
    let first = created(&created_refunds, 1);
    assert_eq!(accepted["refund_id"], first["id"]);
    assert_eq!(
        payment_of(&app, &token, tenant, |_| true).await["refunded_cents"],
        0,
        "nothing is recorded before Stripe's webhook"
    );

    let answer = deliver(&app, &event("refund.created", first)).await;
    assert_eq!(answer["outcome"], "applied");
    let row = payment_of(&app, &token, tenant, |p| p["refunded_cents"] == 10_000).await;
    assert_eq!(
        (row["net_cents"].clone(), row["refund_state"].clone()),
        (json!(29_900), json!("partial"))
    );
    app.eventually("revenue is net of the refund", || async {
        revenue_now(&app, &token).await == (29_900, 29_900)
    })
    .await;

    let over = refund(&app, &token, payment, json!({"amount": 29_901})).await;
    assert_eq!(over.status(), 422);
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["code"], "amount_exceeds_refundable");
    assert_eq!(body["details"]["refundable_cents"], 29_900);
    let rest = refund(&app, &token, payment, json!({"amount": 29_900})).await;
    assert_eq!(rest.status(), 202, "exactly what is left can be refunded");
    // Older API versions list the refunds in `charge.refunded`; the charge names the invoice.
    let second = created(&created_refunds, 2);
    let charge = json!({
        "id": "ch_1", "object": "charge", "amount": 39_900, "amount_refunded": 39_900,
        "currency": "brl", "refunded": true, "invoice": "in_refund_1",
        "payment_intent": "pi_of_in_refund_1",
        "refunds": { "object": "list", "data": [created(&created_refunds, 1), second] },
    });
    assert_eq!(
        deliver(&app, &event("charge.refunded", charge)).await["outcome"],
        "applied"
    );
    let row = payment_of(&app, &token, tenant, |p| p["refund_state"] == "full").await;
    assert_eq!(
        (row["refunded_cents"].clone(), row["net_cents"].clone()),
        (json!(39_900), json!(0))
    );
    app.eventually("revenue is net of both refunds", || async {
        revenue_now(&app, &token).await == (0, 0)
    })
    .await;

    let again = refund(&app, &token, payment, json!({})).await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        again.json::<Value>().await.unwrap()["code"],
        "already_refunded"
    );
    assert_eq!(
        received(&stripe, "POST", "/v1/refunds").await.len(),
        2,
        "refusals never reach Stripe"
    );
    let traces = refund_traces(&app, tenant).await;
    let outcomes: Vec<&str> = traces.iter().map(|(o, _, _)| o.as_str()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "done").count(),
        2,
        "{traces:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "refused").count(),
        2,
        "{traces:?}"
    );
    assert!(traces
        .iter()
        .all(|(_, actor, _)| *actor == admin.id.to_string()));
}

#[tokio::test]
async fn given_no_amount_when_an_admin_refunds_then_stripe_is_asked_for_the_whole_payment() {
    let (app, stripe) = app().await;
    let created_refunds = refunds_api(&stripe).await;
    let (_, token) = app.signed_in(Role::Admin).await;
    let (tenant, payment) = paid(&app, &token, "in_full").await;
    let resp = refund(&app, &token, payment, json!({})).await;
    assert_eq!(resp.status(), 202);
    let asked = received(&stripe, "POST", "/v1/refunds").await;
    assert_eq!(form_of(&asked[0])["amount"], "39900");
    deliver(&app, &event("refund.created", created(&created_refunds, 1))).await;
    payment_of(&app, &token, tenant, |p| p["refund_state"] == "full").await;
}

#[tokio::test]
async fn a_refund_webhook_delivered_again_and_again_records_the_refund_once() {
    let (app, stripe) = app().await;
    let created_refunds = refunds_api(&stripe).await;
    let (_, token) = app.signed_in(Role::Admin).await;
    let (tenant, payment) = paid(&app, &token, "in_twice").await;
    assert_eq!(
        refund(&app, &token, payment, json!({"amount": 5_000}))
            .await
            .status(),
        202
    );
    let refund_object = created(&created_refunds, 1);
    let created_event = event("refund.created", refund_object.clone());
    assert_eq!(deliver(&app, &created_event).await["duplicate"], false);
    assert_eq!(deliver(&app, &created_event).await["duplicate"], true);
    assert_eq!(deliver(&app, &created_event).await["duplicate"], true);
    // The same refund in another event (its update) records nothing either.
    let updated = deliver(&app, &event("refund.updated", refund_object)).await;
    assert_eq!(updated["duplicate"], false);
    let refunds = event_types(&app, "subscription", tenant)
        .await
        .into_iter()
        .filter(|t| t == "PaymentRefunded")
        .count();
    assert_eq!(refunds, 1);
    let row = payment_of(&app, &token, tenant, |p| p["refunded_cents"] == 5_000).await;
    assert_eq!(row["net_cents"], 34_900);
}

#[tokio::test]
async fn a_refund_of_a_payment_the_product_never_recorded_is_acknowledged_and_changes_nothing() {
    let (app, _stripe) = app().await;
    let (_, token) = app.signed_in(Role::Admin).await;
    let (tenant, _) = paid(&app, &token, "in_known").await;
    let refund = |metadata: Value, status: &str| {
        event(
            "refund.created",
            json!({"id": format!("re_{}", Uuid::now_v7().simple()), "object": "refund",
                "amount": 100, "currency": "brl", "status": status, "metadata": metadata}),
        )
    };
    for (case, metadata, status) in [
        (
            "an invoice it never recorded",
            json!({"atende_tenant": tenant, "atende_invoice": "in_other"}),
            "succeeded",
        ),
        (
            "a tenant it does not know",
            json!({"atende_tenant": Uuid::now_v7(), "atende_invoice": "in_known"}),
            "succeeded",
        ),
        (
            "no metadata (made in Stripe's dashboard)",
            json!({}),
            "succeeded",
        ),
        (
            "a refund still pending",
            json!({"atende_tenant": tenant, "atende_invoice": "in_known"}),
            "pending",
        ),
    ] {
        let answer = deliver(&app, &refund(metadata, status)).await;
        assert_eq!(answer["outcome"], "ignored", "{case}");
    }
    let charge = json!({"id": "ch_x", "object": "charge", "customer": "cus_nobody",
        "amount_refunded": 100, "currency": "brl"});
    assert_eq!(
        deliver(&app, &event("charge.refunded", charge)).await["outcome"],
        "ignored"
    );
    assert!(!event_types(&app, "subscription", tenant)
        .await
        .iter()
        .any(|t| t == "PaymentRefunded"));
}

#[tokio::test]
async fn refund_requests_that_break_a_rule_are_refused_before_stripe_and_stripe_failures_are_503() {
    let (app, stripe) = app().await;
    let (admin, token) = app.signed_in(Role::Admin).await;
    let (tenant, payment) = paid(&app, &token, "in_rules").await;
    for (body, status, code) in [
        (json!({"amount": 0}), 422, "invalid_amount"),
        (json!({"amount": -1}), 422, "invalid_amount"),
        (json!({"amount": 39_901}), 422, "amount_exceeds_refundable"),
        (json!({"amount": "cem"}), 400, "invalid_body"),
    ] {
        let resp = refund(&app, &token, payment, body.clone()).await;
        assert_eq!(resp.status(), status, "{body}");
        let answer: Value = resp.json().await.unwrap();
        assert!(answer["message"].is_string(), "{body}");
        if status == 422 {
            assert_eq!(answer["code"], code, "{body}");
        }
    }
    let missing = refund(&app, &token, payment + 1_000_000, json!({})).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["code"],
        "payment_not_found"
    );
    assert!(received(&stripe, "POST", "/v1/refunds").await.is_empty());

    Mock::given(method("GET"))
        .and(path("/v1/invoice_payments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "has_more": false, "url": "/v1/invoice_payments",
            "data": [{"id": "inpay_1", "object": "invoice_payment", "status": "paid",
                      "payment": {"type": "payment_intent", "payment_intent": "pi_1"}}]})))
        .mount(&stripe)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "type": "invalid_request_error", "code": "charge_already_refunded",
            "message": "Charge ch_1 has already been refunded."}})))
        .mount(&stripe)
        .await;
    let refused = refund(&app, &token, payment, json!({})).await;
    assert_eq!(refused.status(), 503);
    let answer: Value = refused.json().await.unwrap();
    assert_eq!(answer["code"], "stripe_refused");
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("already been refunded"));
    let traces = refund_traces(&app, tenant).await;
    assert!(
        traces.iter().any(|(o, a, d)| o == "failed"
            && *a == admin.id.to_string()
            && d.as_deref() == Some("stripe_refused")),
        "{traces:?}"
    );
}
