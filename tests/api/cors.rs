//! CORS (`ATENDE_CORS_ORIGINS`): allowed origins get answers to their preflights; others
//! and servers with CORS off get no CORS header at all.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use reqwest::Method;

const ALLOWED: &str = "https://painel.atende.example";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(
            Method::OPTIONS,
            format!("{}/api/v1/settings/bot", app.address),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap()
}

async fn with_origins(origins: &str) -> TestApp {
    let origins = origins.parse().unwrap();
    spawn_app_with(|c| c.cors_origins = origins).await
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_answered_and_sees_the_request_id() {
    let app = with_origins(&format!("{ALLOWED}, http://localhost:5173")).await;
    let resp = preflight(&app, ALLOWED).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], ALLOWED);
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("PUT"));
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for wanted in [
        "authorization",
        "content-type",
        "idempotency-key",
        "last-event-id",
    ] {
        assert!(allowed.contains(wanted), "{wanted} not in {allowed}");
    }

    let get = app
        .client
        .get(format!("{}/health", app.address))
        .header("Origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(get.headers()["access-control-allow-origin"], ALLOWED);
    assert!(get.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("x-request-id"));
}

#[tokio::test]
async fn a_foreign_origin_gets_no_cors_headers() {
    let app = with_origins(ALLOWED).await;
    let resp = preflight(&app, "https://evil.example").await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_configured_origins_no_cors_header_is_sent() {
    let app = spawn_app().await;
    let resp = preflight(&app, ALLOWED).await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_wildcard_allows_any_origin_only_when_asked_for() {
    let app = with_origins("*").await;
    let resp = preflight(&app, "https://anyone.example").await;
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}
