//! A fake Stripe API (wiremock) and the app configured to call it.

use crate::helpers::{spawn_app_with, TestApp};
use aggregates::SubscriptionCommand;
use atende::serve::ServeConfig;
use schemas::Plan;
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;
use wiremock::{MockServer, Request};

pub const SECRET_KEY: &str = "sk_test_atende";
pub const PUBLIC_URL: &str = "https://painel.atende.example";

/// The fake, and an app whose billing calls it. `basic` and `pro` have Stripe prices.
pub async fn app_with_stripe(configure: impl FnOnce(&mut ServeConfig)) -> (TestApp, MockServer) {
    let stripe = MockServer::start().await;
    let uri = stripe.uri();
    let app = spawn_app_with(|config| {
        config.background.billing.stripe_secret_key = Some(SECRET_KEY.into());
        config.background.billing.stripe_api_base = uri;
        config.background.billing.stripe_prices = Some("basic=price_basic,pro=price_pro".into());
        config.background.billing.stripe_meter_event_name = "atende_ai_answers".into();
        config.background.billing.meter_interval_ms = 50;
        config.background.billing.meter_retry_base = Duration::from_millis(20);
        config.background.mail.public_url = PUBLIC_URL.parse().unwrap();
        configure(config);
    })
    .await;
    (app, stripe)
}

/// A form body (`application/x-www-form-urlencoded`) as key → value, keys decoded
/// (`line_items[0][price]`).
pub fn form(request: &Request) -> BTreeMap<String, String> {
    let decode = |s: &str| -> String {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    let body = std::str::from_utf8(&request.body).unwrap();
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A header of a request the fake received.
pub fn header(request: &Request, name: &str) -> Option<String> {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The requests the fake received with `method` on `path`.
pub async fn received(stripe: &MockServer, method: &str, path: &str) -> Vec<Request> {
    stripe
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == method && r.url.path() == path)
        .collect()
}

/// Runs a subscription command as an admin would.
pub async fn subscription(app: &TestApp, tenant: Uuid, command: SubscriptionCommand) {
    app.app
        .bus
        .subscriptions
        .execute(
            &tenant.to_string(),
            command,
            &TestApp::admin_metadata(tenant),
        )
        .await
        .expect("the subscription command succeeds");
}

/// A tenant registered and paying `plan` through Stripe as `customer` / `sub`.
pub async fn stripe_tenant(
    app: &TestApp,
    name: &str,
    plan: &str,
    customer: &str,
    sub: &str,
) -> Uuid {
    let tenant = app
        .register_tenant(
            name,
            &format!("dono-{}@atende.example", Uuid::now_v7().simple()),
        )
        .await;
    subscription(
        app,
        tenant,
        SubscriptionCommand::StartFromCheckout {
            tenant_id: tenant,
            stripe_customer_id: customer.into(),
            stripe_subscription_id: sub.into(),
            plan: Plan(plan.into()),
            trial_end: None,
        },
    )
    .await;
    tenant
}
