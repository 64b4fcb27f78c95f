//! The usage monitor (issue 18): admin-set monthly AI spend thresholds, the one notification
//! per tenant and UTC month a tenant reaching its threshold raises, a tenant's usage history
//! and the top spenders per calendar month.
//!
//! Prices are configured so costs are exact: `house-model` costs US$ 1 per million prompt
//! tokens and nothing for completions, so 500 000 prompt tokens cost US$ 0.50 (50 cents).

use crate::helpers::{spawn_app_with, spawn_app_with_clock, TestApp};
use crate::metrics::Chat;
use crate::tenants::{onboard, send};
use aggregates::FixedClock;
use chrono::{TimeZone, Utc};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const PRICES: &str =
    r#"{"house-model": {"input_usd_per_million": 1, "output_usd_per_million": 0}}"#;
const KIND: &str = "ai_spend_threshold_reached";

async fn priced_app() -> TestApp {
    spawn_app_with(|c| c.background.model_prices = Some(PRICES.into())).await
}

fn chat(app: &TestApp, tenant: Uuid) -> Chat<'_> {
    Chat {
        app,
        tenant,
        contact: format!("55119{}", Uuid::now_v7().as_u128() % 100_000_000),
    }
}

/// The customer writes and the AI answers with `tokens_in` prompt tokens of `house-model`.
async fn answer(chat: &Chat<'_>, tokens_in: u32) {
    chat.customer_writes().await;
    chat.ai_answers("house-model", tokens_in, 0).await;
}

/// Waits until the spend watch has counted `answers` answers of `tenant`: whether they
/// raise a notification is decided in the same transaction, so after this the absence of
/// one is a result, not a race.
async fn watched(app: &TestApp, tenant: Uuid, answers: i64) {
    app.eventually("the spend watch counted the answers", || async {
        let counted: Option<i64> = sqlx::query_scalar(
            "SELECT SUM(ai_replies)::int8 FROM ai_spend_monthly WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        counted == Some(answers)
    })
    .await;
}

/// The spend notifications about `tenant` an admin sees.
async fn notified(app: &TestApp, admin: &str, tenant: Uuid) -> Vec<Value> {
    let resp = app
        .get_as("/api/v1/admin/notifications?limit=200", admin)
        .await;
    assert_eq!(resp.status(), 200);
    let page: Value = resp.json().await.unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == KIND && n["tenant_id"] == tenant.to_string())
        .cloned()
        .collect()
}

async fn put(app: &TestApp, path: &str, cents: Value, token: &str) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        path,
        Some(&json!({"monthly_usd_cents": cents})),
        token,
    )
    .await
}

async fn set_global(app: &TestApp, cents: i64, admin: &str) -> Value {
    let resp = put(
        app,
        "/api/v1/admin/ai-spend-thresholds/global",
        json!(cents),
        admin,
    )
    .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn set_tenant(app: &TestApp, tenant: Uuid, cents: i64, admin: &str) -> Value {
    let path = format!("/api/v1/admin/tenants/{tenant}/ai-spend-threshold");
    let resp = put(app, &path, json!(cents), admin).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn given_a_global_threshold_when_a_tenant_spends_a_millionth_below_it_then_nothing_is_raised_and_reaching_it_exactly_raises_one(
) {
    let app = priced_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Padaria Limite").await;
    let listed = set_global(&app, 50, &admin).await;
    assert_eq!(listed["global"]["monthly_usd_cents"], 50);
    let chat = chat(&app, tenant);

    answer(&chat, 499_999).await;
    watched(&app, tenant, 1).await;
    assert!(
        notified(&app, &admin, tenant).await.is_empty(),
        "US$ 0.499999 is below a 50-cent threshold"
    );

    // One more prompt token: US$ 0.50, exactly the threshold. Reaching it counts.
    answer(&chat, 1).await;
    watched(&app, tenant, 2).await;
    let raised = notified(&app, &admin, tenant).await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0]["subject"], "Padaria Limite");
    assert_eq!(raised[0]["detail"]["threshold_usd_cents"], 50);
    assert_eq!(
        raised[0]["detail"]["month"],
        Utc::now().format("%Y-%m").to_string()
    );
    let cost = raised[0]["detail"]["estimated_cost_usd"].as_f64().unwrap();
    assert!((cost - 0.5).abs() < 1e-9, "{cost}");
}

#[tokio::test]
async fn given_a_tenants_own_threshold_when_it_spends_then_its_own_overrides_the_global_one_both_ways(
) {
    let app = priced_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (stricter, _, _) = onboard(&app, &admin, "Estrita").await;
    let (laxer, _, _) = onboard(&app, &admin, "Folgada").await;
    let (plain, _, _) = onboard(&app, &admin, "Comum").await;
    set_global(&app, 100, &admin).await;
    set_tenant(&app, stricter, 20, &admin).await;
    let listed = set_tenant(&app, laxer, 1_000, &admin).await;
    let own: Vec<(&str, i64)> = listed["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tenant_name"].as_str().unwrap(),
                t["monthly_usd_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(own, [("Estrita", 20), ("Folgada", 1_000)]);

    // Each spends US$ 0.50: above the stricter one's own 20 cents, below the global US$ 1
    // that watches the plain one.
    for tenant in [stricter, laxer, plain] {
        answer(&chat(&app, tenant), 500_000).await;
    }
    // US$ 1.50 for the laxer one: above the global US$ 1, still below its own US$ 10.
    answer(&chat(&app, laxer), 1_000_000).await;
    for (tenant, answers) in [(stricter, 1), (laxer, 2), (plain, 1)] {
        watched(&app, tenant, answers).await;
    }
    assert_eq!(notified(&app, &admin, stricter).await.len(), 1);
    assert!(notified(&app, &admin, laxer).await.is_empty());
    assert!(notified(&app, &admin, plain).await.is_empty());

    // Cleared, the laxer one's own threshold gives way to the global one again.
    let path = format!("/api/v1/admin/tenants/{laxer}/ai-spend-threshold");
    let resp = send(&app, Method::DELETE, &path, None, &admin).await;
    assert_eq!(resp.status(), 200);
    let listed: Value = resp.json().await.unwrap();
    assert_eq!(listed["tenants"].as_array().unwrap().len(), 1);
    answer(&chat(&app, laxer), 1).await;
    watched(&app, laxer, 3).await;
    assert_eq!(notified(&app, &admin, laxer).await.len(), 1);
}

#[tokio::test]
async fn given_a_tenant_past_its_threshold_when_it_keeps_answering_then_the_month_has_one_notification(
) {
    let app = priced_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Tagarela").await;
    set_tenant(&app, tenant, 10, &admin).await;
    let chat = chat(&app, tenant);
    for _ in 0..4 {
        answer(&chat, 200_000).await;
    }
    watched(&app, tenant, 4).await;
    // Lowering the threshold after the month's notification raises no second one either.
    set_tenant(&app, tenant, 5, &admin).await;
    answer(&chat, 200_000).await;
    watched(&app, tenant, 5).await;
    assert_eq!(notified(&app, &admin, tenant).await.len(), 1);
}

#[tokio::test]
async fn given_a_tenant_notified_in_november_when_it_reaches_its_threshold_in_december_then_it_is_notified_again(
) {
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 22, 0, 0).unwrap(),
    ));
    let app = spawn_app_with_clock(clock.clone(), |c| {
        c.background.model_prices = Some(PRICES.into())
    })
    .await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Virada").await;
    set_global(&app, 30, &admin).await;
    let chat = chat(&app, tenant);
    answer(&chat, 300_000).await;
    watched(&app, tenant, 1).await;

    // Past midnight UTC on the last day: a new month, counted from zero.
    clock.set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 30, 0).unwrap());
    answer(&chat, 299_999).await;
    watched(&app, tenant, 2).await;
    let admin = app.access_token(&admin_user).await;
    let months = |raised: Vec<Value>| -> Vec<String> {
        raised
            .iter()
            .map(|n| n["detail"]["month"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        months(notified(&app, &admin, tenant).await),
        ["2026-11"],
        "December's US$ 0.299999 is below the threshold"
    );
    answer(&chat, 1).await;
    watched(&app, tenant, 3).await;
    assert_eq!(
        months(notified(&app, &admin, tenant).await),
        ["2026-12", "2026-11"]
    );
    app.eventually("the usage read model counted the answers", || async {
        let history: Value = app
            .get_as(
                &format!("/api/v1/admin/tenants/{tenant}/usage-history?month=2026-12"),
                &admin,
            )
            .await
            .json()
            .await
            .unwrap();
        let per_month: Vec<(String, i64)> = history["months"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["date"].as_str().unwrap().to_owned(),
                    m["ai_replies"].as_i64().unwrap(),
                )
            })
            .collect();
        per_month == [("2026-11-01".to_owned(), 1), ("2026-12-01".to_owned(), 2)]
    })
    .await;
}

#[tokio::test]
async fn given_bad_amounts_or_an_unknown_tenant_when_an_admin_sets_a_threshold_then_the_errors_are_clear_json(
) {
    let app = priced_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Validada").await;
    let tenant_path = format!("/api/v1/admin/tenants/{tenant}/ai-spend-threshold");
    for path in [
        "/api/v1/admin/ai-spend-thresholds/global",
        tenant_path.as_str(),
    ] {
        for (cents, code) in [
            (json!(-1), "invalid_threshold"),
            (json!(100_000_001), "invalid_threshold"),
        ] {
            let resp = put(&app, path, cents.clone(), &admin).await;
            assert_eq!(resp.status(), 422, "{path} {cents}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["code"], code, "{path} {cents}: {body}");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        // Not a whole number of cents: refused at the boundary, with a code and a message.
        for cents in [json!(12.5), json!("10"), json!(null)] {
            let resp = put(&app, path, cents.clone(), &admin).await;
            assert!(resp.status().is_client_error(), "{path} {cents}");
            let body: Value = resp.json().await.unwrap();
            assert!(body["code"].is_string(), "{body}");
        }
        // Zero is a threshold (every answer reaches it), not an absence of one.
        assert_eq!(put(&app, path, json!(0), &admin).await.status(), 200);
    }
    let unknown = format!(
        "/api/v1/admin/tenants/{}/ai-spend-threshold",
        Uuid::now_v7()
    );
    let resp = put(&app, &unknown, json!(100), &admin).await;
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "tenant_not_found");
    let listed: Value = app
        .get_as("/api/v1/admin/ai-spend-thresholds", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["global"]["monthly_usd_cents"], 0);
    assert_eq!(listed["tenants"][0]["tenant_id"], tenant.to_string());
}

#[tokio::test]
async fn given_an_admin_changes_thresholds_then_the_audit_log_shows_each_change_with_the_admin_as_actor(
) {
    let app = priced_app().await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Auditada").await;
    set_global(&app, 700, &admin).await;
    set_tenant(&app, tenant, 300, &admin).await;
    let path = format!("/api/v1/admin/tenants/{tenant}/ai-spend-threshold");
    assert_eq!(
        send(&app, Method::DELETE, &path, None, &admin)
            .await
            .status(),
        200
    );
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let log: Value = app
        .get_as(
            &format!(
                "/api/v1/audit/log?kind=action&actor={}&limit=1000",
                admin_user.id
            ),
            &auditor,
        )
        .await
        .json()
        .await
        .unwrap();
    let changes: Vec<(&str, Option<&str>)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["event_type"]
                .as_str()
                .is_some_and(|t| t.starts_with("AiSpendThreshold"))
        })
        .map(|e| (e["event_type"].as_str().unwrap(), e["tenant_id"].as_str()))
        .collect();
    let tenant = tenant.to_string();
    let mut expected = vec![
        ("AiSpendThresholdSet", None),
        ("AiSpendThresholdSet", Some(tenant.as_str())),
        ("AiSpendThresholdCleared", Some(tenant.as_str())),
    ];
    let mut changes_sorted = changes.clone();
    changes_sorted.sort();
    expected.sort();
    assert_eq!(changes_sorted, expected, "{log}");
}

#[tokio::test]
async fn given_answers_when_an_admin_reads_the_monitor_then_top_spenders_per_calendar_month_and_a_tenants_history_show_them(
) {
    let app = priced_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (small, _, _) = onboard(&app, &admin, "Pequena").await;
    let (big, _, _) = onboard(&app, &admin, "Grande").await;
    set_global(&app, 5_000, &admin).await;
    set_tenant(&app, big, 9_000, &admin).await;
    answer(&chat(&app, small), 100_000).await;
    let big_chat = chat(&app, big);
    answer(&big_chat, 2_000_000).await;
    answer(&big_chat, 1_000_000).await;
    app.eventually("the usage read model counted the answers", || async {
        let page: Value = app
            .get_as("/api/v1/admin/usage?basis=calendar", &admin)
            .await
            .json()
            .await
            .unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["ai_replies"].as_i64().unwrap())
            .sum::<i64>()
            == 3
    })
    .await;
    let page: Value = app
        .get_as("/api/v1/admin/usage?basis=calendar", &admin)
        .await
        .json()
        .await
        .unwrap();
    let today = Utc::now().date_naive();
    let first = today.format("%Y-%m-01").to_string();
    let top = &page["items"][0];
    assert_eq!(top["tenant_id"], big.to_string());
    assert_eq!(top["tenant_name"], "Grande");
    assert_eq!(top["period"]["start"], first);
    assert_eq!(top["ai_replies"], 2);
    assert_eq!(top["tokens_in"], 3_000_000);
    assert!((top["estimated_cost_usd"].as_f64().unwrap() - 3.0).abs() < 1e-9);
    assert_eq!(top["ai_spend_threshold_usd_cents"], 9_000, "its own");
    assert_eq!(page["items"][1]["tenant_name"], "Pequena");
    assert_eq!(
        page["items"][1]["ai_spend_threshold_usd_cents"], 5_000,
        "the global one"
    );

    let history: Value = app
        .get_as(
            &format!("/api/v1/admin/tenants/{big}/usage-history?months=3"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["tenant_name"], "Grande");
    assert_eq!(history["month"], first);
    assert_eq!(history["threshold_usd_cents"], 9_000);
    assert_eq!(history["threshold_source"], "tenant");
    let months = history["months"].as_array().unwrap();
    assert_eq!(months.len(), 1, "none from before it registered");
    assert_eq!(months[0]["date"], first);
    assert_eq!(months[0]["ai_replies"], 2);
    let days = history["days"].as_array().unwrap();
    assert_eq!(
        days.len() as u32,
        today.format("%d").to_string().parse::<u32>().unwrap()
    );
    let last = days.last().unwrap();
    assert_eq!(last["date"], today.to_string());
    assert_eq!(last["tokens_in"], 3_000_000);
    assert!((last["estimated_cost_usd"].as_f64().unwrap() - 3.0).abs() < 1e-9);

    let small_history: Value = app
        .get_as(
            &format!("/api/v1/admin/tenants/{small}/usage-history"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(small_history["months"].as_array().unwrap().len(), 1);
    assert_eq!(small_history["threshold_source"], "global");
    for (query, code) in [
        ("?month=2026-13", "invalid_month"),
        ("?months=0", "invalid_months"),
    ] {
        let resp = app
            .get_as(
                &format!("/api/v1/admin/tenants/{small}/usage-history{query}"),
                &admin,
            )
            .await;
        assert_eq!(resp.status(), 422, "{query}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], code);
    }
    let unknown = app
        .get_as(
            &format!("/api/v1/admin/tenants/{}/usage-history", Uuid::now_v7()),
            &admin,
        )
        .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn the_usage_monitor_routes_are_for_admins_only_and_an_auditor_changes_nothing() {
    let app = priced_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Protegida").await;
    set_global(&app, 123, &admin).await;
    let before: Value = app
        .get_as("/api/v1/admin/ai-spend-thresholds", &admin)
        .await
        .json()
        .await
        .unwrap();
    let routes = [
        (Method::GET, "/api/v1/admin/ai-spend-thresholds".to_owned()),
        (
            Method::PUT,
            "/api/v1/admin/ai-spend-thresholds/global".to_owned(),
        ),
        (
            Method::DELETE,
            "/api/v1/admin/ai-spend-thresholds/global".to_owned(),
        ),
        (
            Method::PUT,
            format!("/api/v1/admin/tenants/{tenant}/ai-spend-threshold"),
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/tenants/{tenant}/ai-spend-threshold"),
        ),
        (
            Method::GET,
            format!("/api/v1/admin/tenants/{tenant}/usage-history"),
        ),
        (Method::GET, "/api/v1/admin/usage?basis=calendar".to_owned()),
    ];
    let (own_tenant, _, own_token) = onboard(&app, &admin, "Curiosa").await;
    let body = json!({"monthly_usd_cents": 1});
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for (method, path) in &routes {
            let resp = send(&app, method.clone(), path, Some(&body), &token).await;
            assert_eq!(resp.status(), 403, "{role} {method} {path}");
        }
    }
    // A real tenant's owner, naming their own tenant, is refused too.
    let own = format!("/api/v1/admin/tenants/{own_tenant}/usage-history");
    assert_eq!(app.get_as(&own, &own_token).await.status(), 403);
    let own = format!("/api/v1/admin/tenants/{own_tenant}/ai-spend-threshold");
    let resp = send(&app, Method::PUT, &own, Some(&body), &own_token).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        app.get("/api/v1/admin/ai-spend-thresholds").await.status(),
        401
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after: Value = app
        .get_as("/api/v1/admin/ai-spend-thresholds", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, before, "a refused caller changed a threshold");
}
