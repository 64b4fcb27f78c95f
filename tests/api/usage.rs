//! `GET /api/v1/usage` and `GET /api/v1/admin/usage`, from real commands.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::metrics::Chat;
use crate::tenants::onboard;
use chrono::{Months, Utc};
use read_api::auth::Role;
use read_api::usage::BillingPeriod;
use serde_json::Value;
use uuid::Uuid;

async fn usage(app: &TestApp, path: &str, token: &str) -> Value {
    let resp = app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

async fn chat_with_ai(app: &TestApp, tenant: Uuid, replies: &[(&str, u32, u32)]) {
    let chat = Chat {
        app,
        tenant,
        contact: format!("55119{}", Uuid::now_v7().as_u128() % 100_000_000),
    };
    for (model, tokens_in, tokens_out) in replies {
        chat.customer_writes().await;
        chat.ai_answers(model, *tokens_in, *tokens_out).await;
    }
}

#[tokio::test]
async fn a_tenant_reads_its_usage_cost_and_quota_for_the_period_its_subscription_began() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, token) = onboard(&app, &admin, "Ótica").await;
    chat_with_ai(
        &app,
        tenant,
        &[("gpt-4o-mini", 1_000_000, 500_000), ("house-model", 10, 5)],
    )
    .await;
    app.eventually("both replies are projected", || async {
        usage(&app, "/api/v1/usage", &token).await["ai_replies"] == 2
    })
    .await;
    let body = usage(&app, "/api/v1/usage", &token).await;
    let today = Utc::now().date_naive();
    // The complimentary subscription started today, so today opens a period.
    let period = BillingPeriod::containing(Some(today), today);
    assert_eq!(period.start, today);
    assert_eq!(body["period"]["start"], period.start.to_string());
    assert_eq!(body["period"]["end"], period.end.to_string());
    assert_eq!(body["plan"], "pro");
    assert_eq!(body["inbound_messages"], 2);
    assert_eq!(body["tokens_in"], 1_000_010);
    assert_eq!(body["tokens_out"], 500_005);
    // gpt-4o-mini: 0.15 USD per million in, 0.60 per million out.
    let cost = body["estimated_cost_usd"].as_f64().unwrap();
    assert!((cost - 0.45).abs() < 1e-9, "{cost}");
    assert_eq!(body["unpriced_models"], serde_json::json!(["house-model"]));
    assert_eq!(body["ai_message_quota"], 5000);
    assert_eq!(body["quota_used"], 2.0 / 5000.0);

    let next = today.checked_add_months(Months::new(1)).unwrap();
    let later = usage(&app, &format!("/api/v1/usage?period={next}"), &token).await;
    assert_eq!(later["ai_replies"], 0, "the next period starts empty");
}

#[tokio::test]
async fn admins_see_every_tenant_top_spenders_first_one_page_at_a_time() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (small, _, _) = onboard(&app, &admin, "Pequena").await;
    let (big, _, _) = onboard(&app, &admin, "Grande").await;
    chat_with_ai(&app, small, &[("gpt-4o-mini", 1_000, 1_000)]).await;
    chat_with_ai(&app, big, &[("gpt-4o", 1_000_000, 1_000_000)]).await;
    app.eventually("both tenants' replies are projected", || async {
        let page = usage(&app, "/api/v1/admin/usage", &admin).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["ai_replies"] == 1)
            .count()
            == 2
    })
    .await;
    let first = usage(&app, "/api/v1/admin/usage?limit=1", &admin).await;
    assert_eq!(first["items"][0]["tenant_id"], big.to_string());
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = usage(
        &app,
        &format!("/api/v1/admin/usage?limit=1&cursor={cursor}"),
        &admin,
    )
    .await;
    assert_eq!(second["items"][0]["tenant_id"], small.to_string());
    assert_eq!(second["next_cursor"], Value::Null);
}

#[tokio::test]
async fn bad_parameters_are_422_and_tenant_users_cannot_read_every_tenants_usage() {
    let app = spawn_app().await;
    let (_, owner) = app.signed_in(Role::Owner).await;
    let resp = app.get_as("/api/v1/usage?period=2026-13-01", &owner).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        app.get_as("/api/v1/admin/usage", &owner).await.status(),
        403
    );
    let (_, admin) = app.signed_in(Role::Admin).await;
    let resp = app
        .get_as("/api/v1/admin/usage?cursor=nonsense", &admin)
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(app.get_as("/api/v1/usage", &admin).await.status(), 403);
}

#[tokio::test]
async fn configured_model_prices_and_plans_price_usage_when_it_is_read() {
    let app = spawn_app_with(|c| {
        c.background.model_prices = Some(
            r#"{"house-model": {"input_usd_per_million": 2, "output_usd_per_million": 4}}"#.into(),
        );
        c.background.plans = Some(
            r#"[{"id": "pro", "name": "Pro", "monthly_price_cents": 100, "currency": "brl",
                 "monthly_ai_message_quota": 4}]"#
                .into(),
        );
    })
    .await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, token) = onboard(&app, &admin, "Config").await;
    chat_with_ai(
        &app,
        tenant,
        &[("house-model", 500_000, 250_000), ("gpt-4o-mini", 10, 10)],
    )
    .await;
    app.eventually("both replies are projected", || async {
        usage(&app, "/api/v1/usage", &token).await["ai_replies"] == 2
    })
    .await;
    let body = usage(&app, "/api/v1/usage", &token).await;
    let cost = body["estimated_cost_usd"].as_f64().unwrap();
    assert!((cost - 2.0).abs() < 1e-9, "{cost}");
    assert_eq!(body["unpriced_models"], serde_json::json!(["gpt-4o-mini"]));
    assert_eq!(body["ai_message_quota"], 4);
    assert_eq!(body["quota_used"], 0.5);
}

#[tokio::test]
async fn a_malformed_plan_catalogue_stops_the_start_and_names_the_setting() {
    let started = tokio::spawn(spawn_app_with(|c| {
        c.background.plans = Some("[{\"id\": 1}]".into())
    }))
    .await;
    let Err(failure) = started else {
        panic!("the app started with a malformed ATENDE_PLANS");
    };
    let panic = failure.into_panic();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("ATENDE_PLANS is not valid JSON"),
        "{message}"
    );
}
