//! The live stream (F41): a tenant's users hear of their conversations' changes, and only of
//! theirs.

use crate::conversations::{converse, message, tenant_user};
use crate::helpers::{spawn_app, TestApp};
use crate::tickets::opened;
use read_api::auth::Role;
use schemas::conversation_id;
use serde_json::Value;
use std::time::{Duration, Instant};

/// An open event stream.
pub(crate) struct Events {
    resp: reqwest::Response,
    buffer: String,
}

impl Events {
    pub(crate) async fn open(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = app.client.get(format!("{}{}", app.address, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    pub(crate) async fn connect(app: &TestApp, path: &str, token: Option<&str>) -> Self {
        let resp = Self::open(app, path, token).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Self {
            resp,
            buffer: String::new(),
        }
    }

    /// The next event's name and data, within `wait`.
    pub(crate) async fn next(&mut self, wait: Duration) -> Option<(String, Value)> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name).map(str::trim).map(str::to_owned))
                };
                // Keep-alive comments have neither.
                if let (Some(event), Some(data)) = (field("event:"), field("data:")) {
                    return Some((event, serde_json::from_str(&data).unwrap()));
                }
                continue;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}

#[tokio::test]
async fn a_connected_user_receives_their_tenants_change_and_never_another_tenants() {
    let app = spawn_app().await;
    let (a, _, a_token) = tenant_user(&app, Role::Agent).await;
    let (b, _, _) = tenant_user(&app, Role::Owner).await;
    let mut events = Events::connect(&app, "/api/v1/stream", Some(&a_token)).await;

    // B's change commits first: had it been forwarded to A, it would arrive first.
    converse(
        &app,
        b,
        "5511900000001",
        message(b, "5511900000001", "Bia", "w1", "Oi"),
    )
    .await;
    converse(
        &app,
        a,
        "5511900000002",
        message(a, "5511900000002", "Ana", "w1", "Oi"),
    )
    .await;

    let (event, data) = events
        .next(Duration::from_secs(5))
        .await
        .expect("a change within 5 s");
    assert_eq!(event, "conversation");
    assert_eq!(
        data["conversation_id"],
        serde_json::json!(conversation_id(a, "5511900000002"))
    );
    assert_eq!(data["status"], "ai_active");
    assert!(data["position"].as_i64().unwrap() > 0);
    assert!(data.get("tenant_id").is_none());
    assert!(
        events.next(Duration::from_millis(500)).await.is_none(),
        "another event arrived"
    );
}

#[tokio::test]
async fn a_tenant_hears_of_its_own_ticket_changes_and_never_of_another_tenants() {
    let app = spawn_app().await;
    let (_, _, a_token) = tenant_user(&app, Role::Agent).await;
    let (_, _, b_token) = tenant_user(&app, Role::Owner).await;
    let mut events = Events::connect(&app, "/api/v1/stream", Some(&a_token)).await;

    // B's ticket is opened first: had its change been forwarded to A, it would come first.
    let b_ticket = opened(&app, &b_token, "Cobrança", "Fui cobrado duas vezes.").await;
    let a_ticket = opened(&app, &a_token, "WhatsApp", "Meu número caiu.").await;

    let (event, data) = events
        .next(Duration::from_secs(5))
        .await
        .expect("a ticket change within 5 s");
    assert_eq!(event, "ticket");
    assert_eq!(data["ticket_id"], serde_json::json!(a_ticket));
    assert_eq!(data["status"], "open");
    assert!(data["position"].as_i64().unwrap() > 0);
    assert!(data.get("tenant_id").is_none());
    // Whatever else follows (the support AI's judgement) is about A's ticket only.
    while let Some((event, data)) = events.next(Duration::from_millis(1500)).await {
        assert_eq!(event, "ticket");
        assert_ne!(
            data["ticket_id"],
            serde_json::json!(b_ticket),
            "B's change reached A"
        );
        assert_eq!(data["ticket_id"], serde_json::json!(a_ticket));
    }
}

#[tokio::test]
async fn the_token_may_come_in_the_query_for_event_source_clients() {
    let app = spawn_app().await;
    let (a, _, token) = tenant_user(&app, Role::Owner).await;
    let mut events =
        Events::connect(&app, &format!("/api/v1/stream?access_token={token}"), None).await;
    converse(
        &app,
        a,
        "5511900000003",
        message(a, "5511900000003", "Ana", "w1", "Oi"),
    )
    .await;
    let (event, _) = events
        .next(Duration::from_secs(5))
        .await
        .expect("a change within 5 s");
    assert_eq!(event, "conversation");
}

#[tokio::test]
async fn only_signed_in_tenant_users_and_admins_may_open_the_stream() {
    let app = spawn_app().await;
    let no_token = Events::open(&app, "/api/v1/stream", None).await;
    assert_eq!(no_token.status(), 401);
    let forged = Events::open(&app, "/api/v1/stream?access_token=forged", None).await;
    assert_eq!(forged.status(), 401);
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let resp = Events::open(&app, "/api/v1/stream", Some(&auditor)).await;
    assert_eq!(resp.status(), 403);
    // Admins hear of admin notifications only (tests/api/notifications.rs).
    let (_, admin) = app.signed_in(Role::Admin).await;
    let resp = Events::open(&app, "/api/v1/stream", Some(&admin)).await;
    assert_eq!(resp.status(), 200);
}
