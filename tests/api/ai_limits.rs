//! Per-tenant AI limits (issue 18): `GET`/`PUT /api/v1/admin/tenants/{id}/ai-limits`, and
//! the usage pages' quota following the plan revision a subscription started under.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::tenants::{onboard, send};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

async fn call(
    app: &TestApp,
    m: Method,
    path: &str,
    body: Option<&Value>,
    token: &str,
) -> (u16, Value) {
    let resp = send(app, m, path, body, token).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn limits_path(tenant: Uuid) -> String {
    format!("/api/v1/admin/tenants/{tenant}/ai-limits")
}

#[tokio::test]
async fn an_admin_sets_a_tenants_own_limits_sees_them_in_force_and_clears_them_to_the_defaults() {
    let app = spawn_app_with(|c| c.background.ai.ai_requests_per_hour = 7).await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let (tenant, _, _) = onboard(&app, &admin, "Ótica").await;

    let (status, before) = call(&app, Method::GET, &limits_path(tenant), None, &admin).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        before["requests_per_hour"],
        json!({"effective": 7.0, "own": null, "default": 7.0, "source": "default"})
    );
    assert_eq!(before["tokens_per_day"]["effective"], 2_000_000.0);
    assert_eq!(before["cost_per_month_usd"]["source"], "default");

    let own = json!({"requests_per_hour": 2, "cost_per_month_usd": 0});
    let (status, set) = call(&app, Method::PUT, &limits_path(tenant), Some(&own), &admin).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(
        set["requests_per_hour"],
        json!({"effective": 2.0, "own": 2.0, "default": 7.0, "source": "tenant"})
    );
    // 0 is the tenant's own "unlimited", not the default.
    assert_eq!(
        set["cost_per_month_usd"],
        json!({"effective": 0.0, "own": 0.0, "default": 100.0, "source": "tenant"})
    );
    assert_eq!(set["tokens_per_day"]["source"], "default");
    let (_, read) = call(&app, Method::GET, &limits_path(tenant), None, &admin).await;
    assert_eq!(read, set);

    // The change is the tenant's event, with the admin as actor, in the audit log.
    let (status, log) = call(
        &app,
        Method::GET,
        &format!("/api/v1/audit/log?kind=action&tenant={tenant}"),
        None,
        &auditor,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    let changes: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "AiLimitsChanged")
        .collect();
    assert_eq!(changes.len(), 1, "{log}");
    assert_eq!(changes[0]["actor_id"], admin_user.id.to_string());
    assert_eq!(changes[0]["actor_kind"], "admin");

    let (status, cleared) = call(
        &app,
        Method::PUT,
        &limits_path(tenant),
        Some(&json!({})),
        &admin,
    )
    .await;
    assert_eq!(status, 200, "{cleared}");
    for limit in ["requests_per_hour", "tokens_per_day", "cost_per_month_usd"] {
        assert_eq!(cleared[limit]["source"], "default", "{limit}");
        assert_eq!(cleared[limit]["own"], Value::Null, "{limit}");
    }
    assert_eq!(cleared["requests_per_hour"]["effective"], 7.0);
}

#[tokio::test]
async fn bad_limits_are_refused_with_a_json_error_and_nothing_is_recorded() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Ótica").await;
    for (body, status, code) in [
        (json!({"requests_per_hour": -1}), 422, "invalid_ai_limit"),
        (
            json!({"requests_per_hour": 1_000_001}),
            422,
            "invalid_ai_limit",
        ),
        (
            json!({"tokens_per_day": 10_000_000_001_i64}),
            422,
            "invalid_ai_limit",
        ),
        (json!({"cost_per_month_usd": -0.5}), 422, "invalid_ai_limit"),
        (json!({"cost_per_month_usd": 1e9}), 422, "invalid_ai_limit"),
        // Not the shape at all: the body is unreadable.
        (json!({"requests_per_hour": "many"}), 400, "invalid_body"),
        (json!({"requests_per_hour": 1.5}), 400, "invalid_body"),
        (json!({"requests_per_minute": 1}), 400, "invalid_body"),
    ] {
        let (got, answer) =
            call(&app, Method::PUT, &limits_path(tenant), Some(&body), &admin).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert!(answer["message"].is_string(), "{body} → {answer}");
        assert_eq!(answer["code"], code, "{body}");
    }
    // At the limits' maxima it is accepted.
    let most = json!({"requests_per_hour": 1_000_000, "tokens_per_day": 10_000_000_000_i64,
                      "cost_per_month_usd": 1_000_000});
    let (status, _) = call(&app, Method::PUT, &limits_path(tenant), Some(&most), &admin).await;
    assert_eq!(status, 200);
    let changes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'AiLimitsChanged'",
    )
    .bind(tenant.to_string())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(changes, 1, "only the valid change was recorded");

    let unknown = limits_path(Uuid::now_v7());
    let (status, body) = call(&app, Method::GET, &unknown, None, &admin).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("tenant_not_found"))
    );
    let (status, body) = call(&app, Method::PUT, &unknown, Some(&json!({})), &admin).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("tenant_not_found"))
    );
}

#[tokio::test]
async fn a_tenants_own_users_and_auditors_cannot_read_or_change_its_limits() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, owner) = onboard(&app, &admin, "Ótica").await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    for token in [&owner, &auditor] {
        for m in [Method::GET, Method::PUT] {
            let body = json!({"requests_per_hour": 1_000});
            let (status, answer) =
                call(&app, m.clone(), &limits_path(tenant), Some(&body), token).await;
            assert_eq!(status, 403, "{m} {answer}");
        }
    }
    let (_, read) = call(&app, Method::GET, &limits_path(tenant), None, &admin).await;
    assert_eq!(read["requests_per_hour"]["source"], "default");
}

// The usage pages follow plans managed by admins (issue 18).

#[tokio::test]
async fn the_usage_quota_is_the_plan_revision_in_force_when_the_subscription_began() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (earlier, _, earlier_token) = onboard(&app, &admin, "Antes").await;
    let (_, pro) = call(&app, Method::GET, "/api/v1/plans", None, &admin).await;
    let pro = pro["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "pro")
        .unwrap()
        .clone();
    let quota = pro["monthly_ai_message_quota"].as_i64().unwrap();
    let revised = json!({"name": pro["name"], "monthly_price_cents": pro["monthly_price_cents"],
        "currency": pro["currency"], "monthly_ai_message_quota": 10,
        "features": pro["features"]});
    let (status, answer) = call(
        &app,
        Method::PUT,
        "/api/v1/admin/plans/pro",
        Some(&revised),
        &admin,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (later, _, later_token) = onboard(&app, &admin, "Depois").await;
    let quota_of = |token: String| {
        let app = &app;
        async move {
            call(app, Method::GET, "/api/v1/usage", None, &token)
                .await
                .1["ai_message_quota"]
                .clone()
        }
    };
    app.eventually("the later subscriber's quota is the revision's", || async {
        quota_of(later_token.clone()).await == 10
    })
    .await;
    assert_eq!(quota_of(earlier_token.clone()).await, quota);
    let (_, page) = call(&app, Method::GET, "/api/v1/admin/usage", None, &admin).await;
    let quota_in_page = |tenant: Uuid| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["tenant_id"] == tenant.to_string())
            .map(|u| u["ai_message_quota"].clone())
    };
    assert_eq!(quota_in_page(later), Some(json!(10)));
    assert_eq!(quota_in_page(earlier), Some(json!(quota)));
}
