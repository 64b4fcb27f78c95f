//! The WhatsApp channel (#5 part A): webhooks in, the sender out, and the humans' routes.

mod connect;
mod evolution;
mod humans;
mod inbound;
mod outbound;

use crate::helpers::{spawn_app_with, TestApp};
use crate::tenants::{onboard, send};
use atende::serve::ServeConfig;
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

pub const APP_SECRET: &str = "meta-app-secret";
pub const VERIFY_TOKEN: &str = "verify-me";

/// Webhook secrets set, the Graph API at `graph` (if any), `token` as the platform token,
/// fast retries.
pub fn whatsapp_config(graph: Option<&str>, token: Option<&str>) -> impl FnOnce(&mut ServeConfig) {
    let graph = graph.map(str::to_owned);
    let token = token.map(str::to_owned);
    move |c| {
        c.background.whatsapp.whatsapp_app_secret = Some(APP_SECRET.into());
        c.background.whatsapp.whatsapp_verify_token = Some(VERIFY_TOKEN.into());
        if let Some(g) = graph {
            c.background.whatsapp.whatsapp_graph_url = g;
        }
        c.background.whatsapp.whatsapp_token = token;
        c.background.whatsapp.whatsapp_retry_base_ms = 20;
        c.background.whatsapp.whatsapp_max_attempts = 3;
    }
}

/// The app configured by [`whatsapp_config`].
pub async fn whatsapp_app(graph: Option<&str>, token: Option<&str>) -> TestApp {
    spawn_app_with(whatsapp_config(graph, token)).await
}

/// A tenant whose number `phone_number_id` is linked with `settings` merged in; returns
/// its id and its owner's token.
pub async fn linked_tenant(
    app: &TestApp,
    phone_number_id: &str,
    settings: Value,
) -> (Uuid, String) {
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, owner) = onboard(app, &admin, "Loja").await;
    let mut body =
        json!({"phone_number_id": phone_number_id, "display_phone_number": "+55 11 4000-0000"});
    for (k, v) in settings.as_object().unwrap() {
        body[k] = v.clone();
    }
    let resp = send(
        app,
        Method::PUT,
        "/api/v1/settings/whatsapp",
        Some(&body),
        &owner,
    )
    .await;
    assert_eq!(resp.status(), 200, "linking the number");
    (tenant, owner)
}

/// POSTs `body` to the Cloud API webhook with `signature` (or none).
pub async fn post_webhook(
    app: &TestApp,
    body: &[u8],
    signature: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/webhooks/whatsapp", app.address))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("X-Hub-Signature-256", s);
    }
    req.send().await.unwrap()
}

/// POSTs `payload` signed with the app secret.
pub async fn post_signed(app: &TestApp, payload: &Value) -> reqwest::Response {
    let body = serde_json::to_vec(payload).unwrap();
    let signature = integrations::whatsapp::sign(APP_SECRET.as_bytes(), &body);
    post_webhook(app, &body, Some(&signature)).await
}

/// A Cloud API message as Meta sends it, `seconds_ago` old.
pub fn cloud_message(from: &str, id: &str, text: &str, seconds_ago: i64) -> Value {
    let ts = chrono::Utc::now().timestamp() - seconds_ago;
    json!({"from": from, "id": id, "timestamp": ts.to_string(), "type": "text",
           "text": {"body": text}})
}

/// A webhook envelope with one change of `value` for `phone_number_id`.
pub fn envelope(phone_number_id: &str, mut value: Value) -> Value {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({"display_phone_number": "15550783881", "phone_number_id": phone_number_id});
    json!({"object": "whatsapp_business_account",
           "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]})
}

/// A webhook with the given messages, all from contacts named "Cliente".
pub fn messages_webhook(phone_number_id: &str, messages: Vec<Value>) -> Value {
    let contacts: Vec<Value> = messages
        .iter()
        .map(|m| json!({"profile": {"name": "Cliente"}, "wa_id": m["from"]}))
        .collect();
    envelope(
        phone_number_id,
        json!({"contacts": contacts, "messages": messages}),
    )
}

/// How many events of `event_type` are stored.
pub async fn count(app: &TestApp, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Waits until `n` events of `event_type` are stored.
pub async fn await_count(app: &TestApp, event_type: &str, n: i64) {
    app.eventually(&format!("{n} {event_type}"), || async {
        count(app, event_type).await >= n
    })
    .await;
    assert_eq!(count(app, event_type).await, n, "{event_type}");
}
