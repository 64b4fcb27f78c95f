//! Admin reports (F42), from real commands.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::tenants::{onboard, send};
use aggregates::SubscriptionCommand;
use chrono::{Datelike, Utc};
use read_api::auth::Role;
use reqwest::Method;
use schemas::Plan;
use serde_json::{json, Value};
use uuid::Uuid;

async fn subscription(app: &TestApp, tenant: Uuid, command: SubscriptionCommand) {
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

async fn report(app: &TestApp, path: &str, token: &str) -> Value {
    let resp = app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

/// Two onboarded tenants (complimentary `pro`), one of them suspended and cancelled, and a
/// tenant paying `pro` through Stripe with one payment of R$ 399,00.
async fn three_tenants(app: &TestApp, admin: &str) -> (Uuid, Uuid, Uuid) {
    let (free, _, _) = onboard(app, admin, "Cortesia").await;
    let (gone, _, _) = onboard(app, admin, "Saiu").await;
    let suspended = send(
        app,
        Method::POST,
        &format!("/api/v1/admin/tenants/{gone}/suspend"),
        Some(&json!({"reason": "pediu"})),
        admin,
    )
    .await;
    assert!(suspended.status().is_success(), "{}", suspended.status());
    subscription(
        app,
        gone,
        SubscriptionCommand::Cancel {
            reason: "pediu".into(),
        },
    )
    .await;
    let paying = app.register_tenant("Paga", "dona@paga.example").await;
    subscription(
        app,
        paying,
        SubscriptionCommand::StartFromCheckout {
            tenant_id: paying,
            stripe_customer_id: "cus_1".into(),
            stripe_subscription_id: "sub_1".into(),
            plan: Plan::from("pro"),
            trial_end: None,
        },
    )
    .await;
    subscription(
        app,
        paying,
        SubscriptionCommand::RecordPayment {
            invoice_id: "in_1".into(),
            amount_cents: 39_900,
            currency: "BRL".into(),
            period_end: Utc::now(),
        },
    )
    .await;
    (free, gone, paying)
}

async fn wait_for_payment(app: &TestApp, admin: &str) {
    app.eventually("the payment is projected", || async {
        report(app, "/api/v1/admin/reports/revenue", admin).await["months"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    })
    .await;
}

#[tokio::test]
async fn tenants_and_subscriptions_are_counted_by_status() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    let body = report(&app, "/api/v1/admin/reports/status", &admin).await;
    assert_eq!(
        body["tenants"],
        json!([{"status": "active", "count": 2}, {"status": "suspended", "count": 1}])
    );
    assert_eq!(
        body["subscriptions"],
        json!([{"status": "active", "count": 2}, {"status": "cancelled", "count": 1}])
    );
    assert_eq!(
        body["complimentary_subscriptions"],
        json!([{"status": "active", "count": 1}, {"status": "cancelled", "count": 1}])
    );
    assert_eq!(body["tenants_without_subscription"], 0);
}

#[tokio::test]
async fn mrr_counts_active_paying_subscriptions_at_catalogue_prices_and_complimentary_ones_apart() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    let body = report(&app, "/api/v1/admin/reports/mrr", &admin).await;
    assert_eq!(body["mrr_cents"], json!({"brl": 39_900}));
    assert_eq!(body["paying_subscriptions"], 1);
    assert_eq!(body["complimentary_subscriptions"], 1);
    assert_eq!(body["unpriced_plans"], json!([]));
}

#[tokio::test]
async fn mrr_follows_the_configured_catalogue_and_lists_plans_it_does_not_price() {
    let app = spawn_app_with(|c| {
        c.background.plans = Some(
            r#"[{"id": "basic", "name": "B", "monthly_price_cents": 5000, "currency": "brl",
                 "monthly_ai_message_quota": null}]"#
                .into(),
        );
    })
    .await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    let body = report(&app, "/api/v1/admin/reports/mrr", &admin).await;
    assert_eq!(body["mrr_cents"], json!({}));
    assert_eq!(body["unpriced_plans"], json!(["pro"]));
    assert_eq!(body["plans"][0]["amount_cents"], Value::Null);
}

#[tokio::test]
async fn new_and_cancelled_tenants_are_counted_per_day_week_and_month() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    let today = Utc::now().date_naive();
    let days = report(&app, "/api/v1/admin/reports/signups", &admin).await;
    let buckets = days["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 30);
    assert_eq!(
        buckets.last().unwrap(),
        &json!({"start": today.to_string(), "new_tenants": 3, "cancelled_tenants": 1})
    );
    let month = report(
        &app,
        "/api/v1/admin/reports/signups?granularity=month",
        &admin,
    )
    .await;
    let last = month["buckets"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["start"], today.with_day(1).unwrap().to_string());
    assert_eq!(last["new_tenants"], 3);
    let week = report(
        &app,
        "/api/v1/admin/reports/signups?granularity=week",
        &admin,
    )
    .await;
    let last = week["buckets"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["cancelled_tenants"], 1);
    let bad = app
        .get_as("/api/v1/admin/reports/signups?granularity=year", &admin)
        .await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn revenue_is_summed_per_month_and_currency() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    let body = report(&app, "/api/v1/admin/reports/revenue", &admin).await;
    let month = Utc::now().date_naive().with_day(1).unwrap();
    assert_eq!(
        body["months"],
        json!([{"month": month.to_string(), "currency": "brl", "amount_cents": 39_900,
                "payments": 1}])
    );
    assert_eq!(body["total_cents"], json!({"brl": 39_900}));
}

#[tokio::test]
async fn recent_tenants_come_newest_first_one_page_at_a_time() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (free, gone, paying) = three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    let first = report(&app, "/api/v1/admin/reports/recent-tenants?limit=2", &admin).await;
    let ids: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [paying.to_string(), gone.to_string()]);
    assert_eq!(first["items"][1]["status"], "suspended");
    assert_eq!(first["items"][1]["subscription_status"], "cancelled");
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = report(
        &app,
        &format!("/api/v1/admin/reports/recent-tenants?limit=2&cursor={cursor}"),
        &admin,
    )
    .await;
    assert_eq!(rest["items"][0]["tenant_id"], free.to_string());
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);
}

#[tokio::test]
async fn only_admins_read_reports() {
    let app = spawn_app().await;
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for path in [
            "/api/v1/admin/reports/status",
            "/api/v1/admin/reports/mrr",
            "/api/v1/admin/reports/signups",
            "/api/v1/admin/reports/revenue",
            "/api/v1/admin/reports/recent-tenants",
        ] {
            assert_eq!(
                app.get_as(path, &token).await.status(),
                403,
                "{role} {path}"
            );
        }
    }
}
