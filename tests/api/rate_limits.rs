//! Rate limits (issue 19, F34): per tenant, per platform user, per client IP without a
//! token and per WhatsApp number; 429 `rate_limited` with `Retry-After`, one key's flood
//! never spending another's budget.

use crate::helpers::{spawn_app_with, TestApp};
use crate::whatsapp::{
    cloud_message, count, linked_tenant, messages_webhook, post_signed, whatsapp_config,
};
use atende::serve::ServeConfig;
use futures::stream::{self, StreamExt};
use read_api::auth::Role;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

/// A period long enough that no request comes back during a test (one every 720 s for a
/// limit of 5).
const LONG: u64 = 3600;

/// A tenant route every owner and agent may read.
const TENANT_ROUTE: &str = "/api/v1/conversations";

fn limits(
    configure: impl FnOnce(&mut atende::rate_limits::RateLimitSettings),
) -> impl FnOnce(&mut ServeConfig) {
    move |c| {
        c.rate_limits.rate_limit_period_secs = LONG;
        configure(&mut c.rate_limits);
    }
}

/// `n` GETs of `path` as `token`, 16 at a time; their statuses in no order.
async fn flood(app: &TestApp, path: &str, token: &str, n: usize) -> Vec<u16> {
    stream::iter(0..n)
        .map(|_| async move { app.get_as(path, token).await.status().as_u16() })
        .buffer_unordered(16)
        .collect()
        .await
}

fn tally(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Asserts `resp` is the rate limit's 429 and returns its `Retry-After`.
async fn assert_rate_limited(resp: reqwest::Response) -> u64 {
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json",
        "the JSON error body"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    retry
}

/// The value of the `atende_rate_limited_total` series of `scope` on `/metrics`.
async fn refusals_counted(app: &TestApp, scope: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    let series = format!("atende_rate_limited_total{{scope=\"{scope}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn a_tenant_gets_its_limit_then_429_with_retry_after_and_the_json_error_body() {
    let app = spawn_app_with(limits(|l| l.rate_limit_tenant = 5)).await;
    let (_, owner) = app.signed_in(Role::Owner).await;
    for n in 1..=5 {
        let resp = app.get_as(TENANT_ROUTE, &owner).await;
        assert_eq!(resp.status(), 200, "request {n} of 5");
    }
    let retry = assert_rate_limited(app.get_as(TENANT_ROUTE, &owner).await).await;
    // One request comes back every 3600 / 5 s, rounded up.
    assert!((700..=720).contains(&retry), "Retry-After {retry}");
    // Every route of the tenant shares the one budget.
    assert_eq!(app.get_as("/api/v1/me", &owner).await.status(), 429);
    assert!(refusals_counted(&app, "tenant").await >= 2);
    // Counted, not written to the audit log row by row.
    let recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rejected_attempts WHERE code = 'rate_limited'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(recorded, 0);
}

#[tokio::test]
async fn a_flood_from_one_tenant_is_refused_while_every_request_of_another_succeeds() {
    let app = spawn_app_with(limits(|l| l.rate_limit_tenant = 20)).await;
    let (_, flooder) = app.signed_in(Role::Owner).await;
    let (_, neighbour) = app.signed_in(Role::Agent).await;
    // The other tenant's requests run during the flood, not after it.
    let (flood, calm) = tokio::join!(flood(&app, TENANT_ROUTE, &flooder, 200), async {
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(app.get_as(TENANT_ROUTE, &neighbour).await.status().as_u16());
        }
        statuses
    });
    assert_eq!(tally(&flood, 200), 20, "the flooder gets exactly its limit");
    assert_eq!(tally(&flood, 429), 180);
    assert_eq!(calm, vec![200; 20], "the other tenant is never refused");
}

#[tokio::test]
async fn platform_users_have_their_own_limit_each() {
    let app = spawn_app_with(limits(|l| l.rate_limit_platform_user = 3)).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, other_admin) = app.signed_in(Role::Admin).await;
    let statuses = flood(&app, "/api/v1/admin/tenants", &admin, 5).await;
    assert_eq!((tally(&statuses, 200), tally(&statuses, 429)), (3, 2));
    assert_eq!(
        app.get_as("/api/v1/admin/tenants", &other_admin)
            .await
            .status(),
        200
    );
    assert!(refusals_counted(&app, "platform_user").await >= 2);
}

#[tokio::test]
async fn the_nth_sign_in_from_one_ip_is_answered_and_the_next_is_refused() {
    let app = spawn_app_with(limits(|l| l.rate_limit_ip = 3)).await;
    let user = app
        .create_user("agent@atende.example", Role::Agent, Some(Uuid::now_v7()))
        .await;
    // Wrong passwords: answered (401) up to the limit, below login blocking's five.
    for n in 1..=3 {
        let resp = app.login(&user.email, "not-the-password").await;
        assert_eq!(resp.status(), 401, "attempt {n} of 3");
    }
    // The right password too: the budget is the address's, whatever the request.
    assert_rate_limited(app.login(&user.email, &user.password).await).await;
    // Other unauthenticated routes share it.
    assert_eq!(app.get("/api/v1/plans").await.status(), 429);
    assert!(refusals_counted(&app, "ip").await >= 2);
    // A token's requests spend its tenant's budget, not the address's.
    let token = app
        .auth
        .issue_access_token(&read_api::auth::AuthUser {
            id: user.id,
            role: Role::Agent,
            tenant_id: Some(Uuid::now_v7()),
        })
        .unwrap()
        .token;
    assert_eq!(app.get_as("/api/v1/me", &token).await.status(), 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = spawn_app_with(|c| {
        c.trust_proxy = true;
        limits(|l| l.rate_limit_ip = 2)(c);
    })
    .await;
    let from = |ip: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(format!("{}/api/v1/plans", app.address))
                .header("x-forwarded-for", ip)
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..2 {
        assert_eq!(from("203.0.113.7").await.status(), 200);
    }
    assert_rate_limited(from("203.0.113.7").await).await;
    // The proxy appends the address it saw last: earlier entries are the client's to forge.
    assert_eq!(from("203.0.113.8, 203.0.113.7").await.status(), 429);
    assert_eq!(from("203.0.113.8").await.status(), 200);
    assert_eq!(from("203.0.113.7, 203.0.113.8").await.status(), 200);
}

#[tokio::test]
async fn a_flood_to_one_whatsapp_number_is_refused_while_another_number_is_recorded() {
    let app = spawn_app_with(|c| {
        whatsapp_config(None, None)(c);
        limits(|l| l.rate_limit_provider_number = 3)(c);
    })
    .await;
    linked_tenant(&app, "pn-busy", json!({})).await;
    linked_tenant(&app, "pn-calm", json!({})).await;
    let hook = |number: &str, id: &str| {
        messages_webhook(number, vec![cloud_message("5511988887777", id, "Oi", 0)])
    };
    for n in 1..=3 {
        let resp = post_signed(&app, &hook("pn-busy", &format!("wamid.busy.{n}"))).await;
        assert_eq!(resp.status(), 200, "webhook {n} of 3");
    }
    assert_rate_limited(post_signed(&app, &hook("pn-busy", "wamid.busy.4")).await).await;
    for n in 1..=3 {
        let resp = post_signed(&app, &hook("pn-calm", &format!("wamid.calm.{n}"))).await;
        assert_eq!(resp.status(), 200, "the other number's webhook {n}");
    }
    // The refused webhook recorded nothing: Meta sends it again later.
    assert_eq!(count(&app, "MessageReceived").await, 6);
    assert!(refusals_counted(&app, "provider_number").await >= 1);
}

#[tokio::test]
async fn an_evolution_instance_over_its_limit_is_refused_and_an_unknown_address_spends_nothing() {
    let app = spawn_app_with(|c| {
        whatsapp_config(None, None)(c);
        limits(|l| l.rate_limit_provider_number = 2)(c);
    })
    .await;
    let (_, owner) = linked_tenant(&app, "pn-evo", json!({})).await;
    let settings: Value = app
        .get_as("/api/v1/settings/whatsapp", &owner)
        .await
        .json()
        .await
        .unwrap();
    let path = settings["evolution_webhook_path"].as_str().unwrap();
    let upsert = |id: &str| {
        json!({"event": "messages.upsert", "instance": "loja", "data": {
            "key": {"remoteJid": "5511977776666@s.whatsapp.net", "fromMe": false, "id": id},
            "pushName": "João", "message": {"conversation": "Olá"},
            "messageType": "conversation",
            "messageTimestamp": chrono::Utc::now().timestamp()}})
    };
    for _ in 0..3 {
        let resp = app
            .post_json("/webhooks/evolution/not-a-secret", &upsert("x"), None)
            .await;
        assert_eq!(resp.status(), 404);
    }
    for id in ["3EB0-1", "3EB0-2"] {
        assert_eq!(app.post_json(path, &upsert(id), None).await.status(), 200);
    }
    assert_rate_limited(app.post_json(path, &upsert("3EB0-3"), None).await).await;
    assert_eq!(count(&app, "MessageReceived").await, 2);
}

#[tokio::test]
async fn a_limit_of_zero_is_no_limit() {
    let app = spawn_app_with(limits(|l| {
        l.rate_limit_tenant = 0;
        l.rate_limit_ip = 2;
    }))
    .await;
    let (_, owner) = app.signed_in(Role::Owner).await;
    // More than the default limit of a period.
    let n = read_api::rate_limit::RateLimits::DEFAULT.tenant as usize + 1;
    let statuses = flood(&app, "/api/v1/me", &owner, n).await;
    assert_eq!(tally(&statuses, 200), n);
    // The other limits still hold: the sign-in spent one of the address's two.
    assert_eq!(app.get("/api/v1/plans").await.status(), 200);
    assert_eq!(app.get("/api/v1/plans").await.status(), 429);
}

#[tokio::test]
async fn once_the_period_has_passed_the_whole_budget_is_back() {
    let app = spawn_app_with(|c| {
        c.rate_limits.rate_limit_period_secs = 1;
        c.rate_limits.rate_limit_tenant = 2;
    })
    .await;
    let (_, owner) = app.signed_in(Role::Owner).await;
    for _ in 0..2 {
        assert_eq!(app.get_as(TENANT_ROUTE, &owner).await.status(), 200);
    }
    let retry = assert_rate_limited(app.get_as(TENANT_ROUTE, &owner).await).await;
    assert_eq!(retry, 1, "half a second, rounded up");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..2 {
        assert_eq!(app.get_as(TENANT_ROUTE, &owner).await.status(), 200);
    }
    assert_eq!(app.get_as(TENANT_ROUTE, &owner).await.status(), 429);
}

#[tokio::test]
async fn the_live_stream_opened_with_a_token_in_its_query_spends_the_tenants_budget() {
    let app = spawn_app_with(limits(|l| {
        l.rate_limit_tenant = 2;
        l.rate_limit_ip = 3;
    }))
    .await;
    // The sign-in spends one of the address's three.
    let (_, agent) = app.signed_in(Role::Agent).await;
    let stream = app
        .get(&format!("/api/v1/stream?access_token={agent}"))
        .await;
    assert_eq!(stream.status(), 200);
    drop(stream);
    assert_eq!(app.get_as(TENANT_ROUTE, &agent).await.status(), 200);
    assert_eq!(app.get_as(TENANT_ROUTE, &agent).await.status(), 429);
    // The address still has its other two.
    for _ in 0..2 {
        assert_eq!(app.get("/api/v1/plans").await.status(), 200);
    }
}
