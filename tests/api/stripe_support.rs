//! Stripe webhooks as Stripe sends them: payloads shaped like its documentation's, signed
//! here with hmac (not with the code under test).

use crate::helpers::{spawn_app_with_clock, TestApp};
use aggregates::{Clock, SystemClock};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::Arc;
use testkit::smtp::SmtpSink;
use uuid::Uuid;

pub const SECRET: &str = "whsec_test_current";
pub const OLD_SECRET: &str = "whsec_test_previous";

/// The hex HMAC-SHA256 of `"<t>.<body>"` under `secret`.
pub fn sign(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// An app accepting `SECRET` and `OLD_SECRET`, mailing to `sink` when given, on `clock`.
pub async fn stripe_app(clock: Arc<dyn Clock>, sink: Option<&SmtpSink>) -> TestApp {
    let smtp = sink.map(SmtpSink::url);
    spawn_app_with_clock(clock, |config| {
        config.background.stripe_webhooks.stripe_webhook_secret = format!("{OLD_SECRET}, {SECRET}");
        // The timer runs at start, then waits for the test to fire it by hand.
        config.background.stripe_webhooks.grace_check_ms = 3_600_000;
        config.background.mail.smtp_url = smtp;
        config.background.mail.public_url = "https://painel.atende.example".parse().unwrap();
    })
    .await
}

/// An app on the system clock.
pub async fn stripe_app_now(sink: Option<&SmtpSink>) -> TestApp {
    stripe_app(Arc::new(SystemClock), sink).await
}

/// POSTs `body` with `signature` as the `Stripe-Signature` header (none when `None`).
pub async fn post_raw(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/webhooks/stripe", app.address))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(s) = signature {
        req = req.header("Stripe-Signature", s);
    }
    req.send().await.unwrap()
}

/// Delivers `event` signed with `SECRET` at `t`.
pub async fn deliver_at(app: &TestApp, event: &Value, t: i64) -> reqwest::Response {
    let body = event.to_string();
    let header = format!("t={t},v1={}", sign(SECRET, t, &body));
    post_raw(app, &body, Some(header)).await
}

/// Delivers `event` signed now (by the real clock) and expects 200; returns the answer.
pub async fn deliver(app: &TestApp, event: &Value) -> Value {
    let resp = deliver_at(app, event, chrono::Utc::now().timestamp()).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "delivering {}: {body}", event["type"]);
    body
}

/// A Stripe event envelope.
pub fn event(kind: &str, object: Value) -> Value {
    json!({
        "id": format!("evt_{}", Uuid::now_v7().simple()),
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": chrono::Utc::now().timestamp(),
        "livemode": false,
        "type": kind,
        "data": { "object": object },
    })
}

/// `checkout.session.completed` for `customer`, buying `plan`, paid or not yet.
pub fn checkout_completed(customer: &str, email: &str, plan: &str, paid: bool) -> Value {
    event(
        "checkout.session.completed",
        json!({
            "id": format!("cs_test_{}", Uuid::now_v7().simple()),
            "object": "checkout.session",
            "mode": "subscription",
            "status": "complete",
            "customer": customer,
            "subscription": format!("sub_of_{customer}"),
            "client_reference_id": "ref-1",
            "customer_email": null,
            "customer_details": { "email": email, "name": "Padaria Pão Quente" },
            "metadata": { "plan": plan, "business_name": "Padaria Pão Quente" },
            "payment_status": if paid { "paid" } else { "unpaid" },
        }),
    )
}

/// An invoice event (`invoice.paid`, `invoice.payment_failed`, …) in the 2025 shape.
pub fn invoice_event(
    kind: &str,
    customer: &str,
    invoice: &str,
    email: &str,
    attempt: u32,
) -> Value {
    let period_end = chrono::Utc::now().timestamp() + 30 * 86_400;
    event(
        kind,
        json!({
            "id": invoice,
            "object": "invoice",
            "customer": customer,
            "customer_email": email,
            "customer_name": "Padaria Pão Quente",
            "parent": { "type": "subscription_details",
                        "subscription_details": { "subscription": format!("sub_of_{customer}") } },
            "amount_paid": if kind == "invoice.payment_failed" { 0 } else { 39_900 },
            "currency": "brl",
            "attempt_count": attempt,
            "period_end": period_end,
            "lines": { "object": "list", "data": [
                { "id": "il_1", "period": { "start": period_end - 30 * 86_400, "end": period_end } }
            ] },
        }),
    )
}

/// A new customer id.
pub fn customer() -> String {
    format!("cus_{}", Uuid::now_v7().simple())
}

/// The tenant (and subscription) id a customer maps to.
pub fn tenant_of(customer: &str) -> Uuid {
    schemas::ids::tenant_for_stripe_customer(customer)
}

/// The event types of one aggregate, in order.
pub async fn event_types(app: &TestApp, aggregate_type: &str, id: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT event_type FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
          ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(id.to_string())
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

/// How many rows `sql` (a `SELECT count(*)` with `$1` = `id`) counts.
pub async fn count(app: &TestApp, sql: &str, id: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Waits until the provisioning saga has started `tenant`'s subscription (its last step).
pub async fn provisioned(app: &TestApp, tenant: Uuid) {
    app.eventually("the provisioning saga starts the subscription", || async {
        event_types(app, "subscription", tenant)
            .await
            .iter()
            .any(|t| t == "SubscriptionStarted")
    })
    .await;
}

// Refunds (issue 18): Stripe's side of a refund, at the HTTP boundary -------------------

/// The fake's answer to `GET /v1/invoice_payments`: the invoice was paid by PaymentIntent
/// `pi_of_<invoice>`, as Stripe's InvoicePayment object says.
struct InvoicePaymentsApi;

impl wiremock::Respond for InvoicePaymentsApi {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let invoice = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "invoice")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "url": "/v1/invoice_payments",
            "has_more": false,
            "data": [{
                "id": format!("inpay_{invoice}"),
                "object": "invoice_payment",
                "invoice": invoice,
                "status": "paid",
                "is_default": true,
                "amount_paid": 39_900,
                "currency": "brl",
                "payment": { "type": "payment_intent", "payment_intent": format!("pi_of_{invoice}") },
            }],
        }))
    }
}

/// The Refund objects the fake Stripe created, oldest first: what its webhooks carry.
pub type Refunds = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;

/// The fake's answer to `POST /v1/refunds` (form-encoded, as Stripe takes it): a Refund
/// object echoing the amount, PaymentIntent and metadata asked for, `succeeded`.
struct RefundsApi(Refunds);

impl wiremock::Respond for RefundsApi {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let form = form_of(request);
        let metadata: serde_json::Map<String, Value> = form
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
                Some((key.to_owned(), json!(v)))
            })
            .collect();
        let refund = json!({
            "id": format!("re_{}", Uuid::now_v7().simple()),
            "object": "refund",
            "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()),
            "currency": "brl",
            "status": "succeeded",
            "payment_intent": form.get("payment_intent"),
            "charge": form.get("charge"),
            "metadata": metadata,
            "created": chrono::Utc::now().timestamp(),
        });
        self.0.lock().unwrap().push(refund.clone());
        wiremock::ResponseTemplate::new(200).set_body_json(refund)
    }
}

/// Mounts Stripe's invoice-payments and refunds endpoints on `stripe`; the refunds it
/// creates are kept in the answer.
pub async fn refunds_api(stripe: &wiremock::MockServer) -> Refunds {
    use wiremock::matchers::{method, path};
    let created = Refunds::default();
    wiremock::Mock::given(method("GET"))
        .and(path("/v1/invoice_payments"))
        .respond_with(InvoicePaymentsApi)
        .mount(stripe)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(RefundsApi(created.clone()))
        .mount(stripe)
        .await;
    created
}

/// A form body (`application/x-www-form-urlencoded`) as key → value, keys decoded.
pub fn form_of(request: &wiremock::Request) -> std::collections::BTreeMap<String, String> {
    let body = String::from_utf8_lossy(&request.body);
    reqwest::Url::parse(&format!("http://form.invalid/?{body}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}
