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
pub(crate) async fn three_tenants(app: &TestApp, admin: &str) -> (Uuid, Uuid, Uuid) {
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

pub(crate) async fn wait_for_payment(app: &TestApp, admin: &str) {
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
                "payments": 1, "refunded_cents": 0, "refunds": 0}])
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
            "/api/v1/admin/reports/overview",
        ] {
            assert_eq!(
                app.get_as(path, &token).await.status(),
                403,
                "{role} {path}"
            );
        }
    }
}

/// A tenant registered without the admin route, with a subscription started from a checkout
/// on `plan`, with a trial or not.
async fn subscribed(app: &TestApp, name: &str, plan: &str, trial: bool) -> Uuid {
    let tenant = app
        .register_tenant(
            name,
            &format!("{}@overview.example", Uuid::now_v7().simple()),
        )
        .await;
    subscription(
        app,
        tenant,
        SubscriptionCommand::StartFromCheckout {
            tenant_id: tenant,
            stripe_customer_id: format!("cus_{}", tenant.simple()),
            stripe_subscription_id: format!("sub_{}", tenant.simple()),
            plan: Plan::from(plan),
            trial_end: trial.then(|| Utc::now() + chrono::Duration::days(14)),
        },
    )
    .await;
    tenant
}

async fn paid(app: &TestApp, tenant: Uuid, invoice: &str, cents: i64, currency: &str) {
    subscription(
        app,
        tenant,
        SubscriptionCommand::RecordPayment {
            invoice_id: invoice.into(),
            amount_cents: cents,
            currency: currency.into(),
            period_end: Utc::now() + chrono::Duration::days(30),
        },
    )
    .await;
}

/// Prices that make the average's rounding visible: 50,00 and 100,01 average 75,005.
const THREE_PLANS: &str = r#"[
    {"id": "basic", "name": "B", "monthly_price_cents": 5000, "currency": "brl", "monthly_ai_message_quota": null},
    {"id": "pro", "name": "P", "monthly_price_cents": 10001, "currency": "brl", "monthly_ai_message_quota": null},
    {"id": "intl", "name": "I", "monthly_price_cents": 2000, "currency": "usd", "monthly_ai_message_quota": null}
]"#;

#[tokio::test]
async fn the_overview_counts_decided_trials_only_and_a_zero_invoice_converts_nothing() {
    let app = spawn_app_with(|c| c.background.plans = Some(THREE_PLANS.into())).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    // Still in its trial: Stripe's zero invoice makes it active, but it never paid.
    let running = subscribed(&app, "Em teste", "legacy", true).await;
    paid(&app, running, "in_zero", 0, "brl").await;
    // Paid after its trial: converted.
    let converted = subscribed(&app, "Converteu", "pro", true).await;
    paid(&app, converted, "in_trial", 0, "brl").await;
    paid(&app, converted, "in_first", 10_001, "brl").await;
    // Cancelled during its trial, and a failed first charge: decided, not converted.
    let gave_up = subscribed(&app, "Desistiu", "pro", true).await;
    subscription(
        &app,
        gave_up,
        SubscriptionCommand::Cancel {
            reason: "trial".into(),
        },
    )
    .await;
    let failed = subscribed(&app, "Falhou", "pro", true).await;
    subscription(
        &app,
        failed,
        SubscriptionCommand::RecordPaymentFailure {
            invoice_id: "in_failed".into(),
            attempt: 1,
        },
    )
    .await;
    // No trial at all, and a complimentary tenant: no trial to convert.
    let direct = subscribed(&app, "Direto", "basic", false).await;
    paid(&app, direct, "in_direct", 5_000, "brl").await;
    let abroad = subscribed(&app, "Exterior", "intl", false).await;
    paid(&app, abroad, "in_abroad", 2_000, "usd").await;
    onboard(&app, &admin, "Cortesia").await;

    app.eventually("every subscription is projected", || async {
        let body = report(&app, "/api/v1/admin/reports/overview", &admin).await;
        body["conversion"]["trials"] == 4
            && body["month"]["revenue_cents"]["usd"] == 2_000
            && body["month"]["revenue_cents"]["brl"] == 15_001
    })
    .await;
    let body = report(&app, "/api/v1/admin/reports/overview", &admin).await;
    assert_eq!(
        body["conversion"],
        json!({"trials": 4, "running": 1, "converted": 1, "rate": 1.0 / 3.0})
    );
    // MRR: basic 50,00 + pro 100,01 (the converted one) in BRL; the running trial's plan is
    // not in the catalogue, so it stays out of every average.
    assert_eq!(
        body["average_revenue"],
        json!([
            {"currency": "brl", "mrr_cents": 15_001, "paying_subscriptions": 2, "average_cents": 7_501},
            {"currency": "usd", "mrr_cents": 2_000, "paying_subscriptions": 1, "average_cents": 2_000}
        ])
    );
}

#[tokio::test]
async fn the_overview_sets_a_months_ai_cost_against_its_revenue_and_no_other_months() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Ótica").await;
    let chat = crate::metrics::Chat {
        app: &app,
        tenant,
        contact: "5511999990000".into(),
    };
    chat.customer_writes().await;
    chat.ai_answers("gpt-4o-mini", 1_000_000, 500_000).await;
    chat.customer_writes().await;
    chat.ai_answers("house-model", 10, 5).await;
    let payer = subscribed(&app, "Paga", "pro", false).await;
    paid(&app, payer, "in_1", 39_900, "BRL").await;
    app.eventually("the replies and the payment are projected", || async {
        let body = report(&app, "/api/v1/admin/reports/overview", &admin).await;
        body["month"]["ai_replies"] == 2 && body["month"]["revenue_cents"]["brl"] == 39_900
    })
    .await;
    let today = Utc::now().date_naive();
    let first = today.with_day(1).unwrap();
    // Any day of the month names the month, its first day included.
    for day in [today, first] {
        let body = report(
            &app,
            &format!("/api/v1/admin/reports/overview?month={day}"),
            &admin,
        )
        .await;
        let month = &body["month"];
        assert_eq!(month["month"], first.to_string());
        // gpt-4o-mini: 0.15 USD per million in, 0.60 per million out.
        let cost = month["ai_cost_usd"].as_f64().unwrap();
        assert!((cost - 0.45).abs() < 1e-9, "{cost}");
        assert_eq!(month["unpriced_models"], json!(["house-model"]));
        assert_eq!(month["revenue_cents"], json!({"brl": 39_900}));
    }
    // The day before the month and the first day of the next are other months.
    let before = first.pred_opt().unwrap();
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
    for day in [before, next] {
        let body = report(
            &app,
            &format!("/api/v1/admin/reports/overview?month={day}"),
            &admin,
        )
        .await;
        assert_eq!(body["month"]["ai_replies"], 0, "{day}");
        assert_eq!(body["month"]["ai_cost_usd"], 0.0, "{day}");
        assert_eq!(body["month"]["revenue_cents"], json!({}), "{day}");
    }
    let bad = app
        .get_as("/api/v1/admin/reports/overview?month=2026-13-01", &admin)
        .await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn an_empty_platform_has_an_overview_without_rates_or_averages() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    for path in [
        "/api/v1/admin/reports/status",
        "/api/v1/admin/reports/mrr",
        "/api/v1/admin/reports/revenue",
        "/api/v1/admin/reports/signups",
        "/api/v1/admin/reports/recent-tenants?limit=5",
    ] {
        report(&app, path, &admin).await;
    }
    let body = report(&app, "/api/v1/admin/reports/overview", &admin).await;
    assert_eq!(
        body["conversion"],
        json!({"trials": 0, "running": 0, "converted": 0, "rate": null})
    );
    assert_eq!(body["average_revenue"], json!([]));
    assert_eq!(body["month"]["ai_replies"], 0);
    assert_eq!(body["month"]["revenue_cents"], json!({}));
}
