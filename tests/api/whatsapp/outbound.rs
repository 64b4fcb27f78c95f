//! The sender: Graph API requests, retries, refusals, restarts, the local outbox and
//! templates outside the 24 h window.

use super::*;
use crate::helpers::start_app;
use aggregates::ConversationCommand;
use schemas::personal::MasterKey;
use schemas::Personal;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONTACT: &str = "5511900000001";

fn accepted(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": CONTACT, "wa_id": CONTACT}],
        "messages": [{"id": id}]}))
}

/// A customer message `seconds_ago` old, then a human reply from the owner.
async fn human_reply(app: &TestApp, tenant: Uuid, owner: &str, seconds_ago: i64) -> Uuid {
    let hook = messages_webhook(
        "pn-1",
        vec![cloud_message(CONTACT, "wamid.in", "oi", seconds_ago)],
    );
    assert_eq!(post_signed(app, &hook).await.status(), 200);
    let id = schemas::conversation_id(tenant, CONTACT);
    let resp = app
        .post_json(
            &format!("/api/v1/conversations/{id}/reply"),
            &json!({"text": "Olá! Aqui é a Ana."}),
            Some(owner),
        )
        .await;
    assert_eq!(resp.status(), 200, "the reply");
    id
}

async fn outbox(app: &TestApp, owner: &str) -> Vec<Value> {
    app.get_as("/api/v1/outbox", owner)
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_human_reply_is_sent_through_the_graph_api_with_the_tenant_token_and_its_statuses_recorded(
) {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pn-1/messages"))
        .and(header("authorization", "Bearer tenant-token"))
        .and(body_partial_json(json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": CONTACT,
            "type": "text", "text": {"preview_url": false, "body": "Olá! Aqui é a Ana."}})))
        .respond_with(accepted("wamid.out"))
        .expect(1)
        .mount(&graph)
        .await;
    let app = whatsapp_app(Some(&graph.uri()), Some("platform-token")).await;
    let (tenant, owner) =
        linked_tenant(&app, "pn-1", json!({"access_token": "tenant-token"})).await;
    let id = human_reply(&app, tenant, &owner, 5).await;
    await_count(&app, "OutboundSent", 1).await;
    let sent: Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'OutboundSent'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(sent["OutboundSent"]["provider_message_id"], "wamid.out");

    let statuses = envelope(
        "pn-1",
        json!({"statuses": [
        {"id": "wamid.out", "status": "read", "timestamp": "1749416400", "recipient_id": CONTACT},
        {"id": "wamid.out", "status": "delivered", "timestamp": "1749416390", "recipient_id": CONTACT}]}),
    );
    assert_eq!(post_signed(&app, &statuses).await.status(), 200);
    assert_eq!(
        count(&app, "OutboundDelivered").await,
        1,
        "a late 'delivered' after 'read' is old news"
    );
    app.eventually("the delivery is shown", || async {
        let detail: Value = app
            .get_as(&format!("/api/v1/conversations/{id}"), &owner)
            .await
            .json()
            .await
            .unwrap_or(Value::Null);
        detail.to_string().contains("\"read\"")
    })
    .await;
    graph.verify().await;
}

#[tokio::test]
async fn a_429_is_retried_and_the_message_then_sent_once() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pn-1/messages"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(json!({"error": {"message": "rate", "code": 130429}})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path("/pn-1/messages"))
        .and(header("authorization", "Bearer platform-token"))
        .respond_with(accepted("wamid.after-429"))
        .expect(1)
        .mount(&graph)
        .await;
    let app = whatsapp_app(Some(&graph.uri()), Some("platform-token")).await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", json!({})).await;
    human_reply(&app, tenant, &owner, 5).await;
    await_count(&app, "OutboundSent", 1).await;
    let rows = outbox(&app, &owner).await;
    assert_eq!(rows[0]["attempts"], 2);
    assert_eq!(rows[0]["provider_message_id"], "wamid.after-429");
    graph.verify().await;
}

#[tokio::test]
async fn a_permanent_refusal_is_recorded_and_shown_as_failed() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": {"message": "Invalid OAuth access token", "code": 190}}),
        ))
        .expect(1)
        .mount(&graph)
        .await;
    let app = whatsapp_app(Some(&graph.uri()), Some("bad-token")).await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", json!({})).await;
    let id = human_reply(&app, tenant, &owner, 5).await;
    await_count(&app, "OutboundRefused", 1).await;
    assert_eq!(count(&app, "OutboundSent").await, 0);
    let rows = outbox(&app, &owner).await;
    assert_eq!(rows[0]["status"], "failed");
    assert!(
        rows[0]["last_error"].as_str().unwrap().contains("190"),
        "{}",
        rows[0]
    );
    app.eventually("the failure is shown in the conversation", || async {
        let detail: Value = app
            .get_as(&format!("/api/v1/conversations/{id}"), &owner)
            .await
            .json()
            .await
            .unwrap_or(Value::Null);
        detail.to_string().contains("Invalid OAuth access token")
    })
    .await;
    graph.verify().await;
}

#[tokio::test]
async fn without_any_token_messages_are_kept_in_the_local_outbox_and_count_as_sent() {
    let app = whatsapp_app(None, None).await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", json!({})).await;
    human_reply(&app, tenant, &owner, 5).await;
    await_count(&app, "OutboundSent", 1).await;
    let rows = outbox(&app, &owner).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["channel"], "local");
    assert_eq!(rows[0]["status"], "sent");
    assert_eq!(rows[0]["text"], "Olá! Aqui é a Ana.");
    assert_eq!(rows[0]["purpose"], "human_reply");
}

#[tokio::test]
async fn outside_the_24_hour_window_the_tenants_template_is_sent() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pn-1/messages"))
        .and(body_partial_json(json!({"to": CONTACT, "type": "template",
            "template": {"name": "retomada", "language": {"code": "pt_BR"}}})))
        .respond_with(accepted("wamid.template"))
        .expect(1)
        .mount(&graph)
        .await;
    let app = whatsapp_app(Some(&graph.uri()), Some("platform-token")).await;
    let settings = json!({"template_name": "retomada", "template_language": "pt_BR"});
    let (tenant, _) = linked_tenant(&app, "pn-1", settings).await;
    let day_ago = 25 * 3600;
    let hook = messages_webhook(
        "pn-1",
        vec![cloud_message(CONTACT, "wamid.old", "oi", day_ago)],
    );
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    // The AI responder hands off (another component); its waiting message goes out late.
    let id = schemas::conversation_id(tenant, CONTACT).to_string();
    app.app
        .bus
        .conversations
        .execute(
            &id,
            ConversationCommand::RequestHuman {
                question: Personal::from("oi"),
            },
            &TestApp::admin_metadata(tenant),
        )
        .await
        .unwrap();
    await_count(&app, "OutboundSent", 1).await;
    graph.verify().await;
}

#[tokio::test]
async fn a_restarted_sender_that_sees_every_event_again_does_not_send_twice() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pn-1/messages"))
        .respond_with(accepted("wamid.once"))
        .expect(1)
        .mount(&graph)
        .await;
    let master = MasterKey::generate();
    let db = testkit::test_database().await.unwrap();
    let config = || whatsapp_config(Some(&graph.uri()), Some("platform-token"));
    let app = start_app(db, master.clone(), config()).await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", json!({})).await;
    human_reply(&app, tenant, &owner, 5).await;
    await_count(&app, "OutboundSent", 1).await;
    let TestApp {
        db, app: running, ..
    } = app;
    running.stop().await.unwrap();
    // As after a lost checkpoint: every event reaches the queue again.
    sqlx::query("DELETE FROM stream_checkpoints WHERE consumer = 'whatsapp_outbound'")
        .execute(&db.pool)
        .await
        .unwrap();
    let app = start_app(db, master, config()).await;
    app.eventually("the queue has seen every event again", || async {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM stream_checkpoints WHERE consumer = 'whatsapp_outbound'",
        )
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        let head: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        at == Some(head)
    })
    .await;
    // Long enough for a resend to happen if the queue had queued it again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM whatsapp_outbound")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(count(&app, "OutboundSent").await, 1);
    graph.verify().await;
}

/// The sender's double-send window (issue 19): a message whose first attempt the provider
/// refused for now, left pending in an app whose workers are stopped, so the test's own
/// senders (standing for worker processes) are the only ones sending it. `provider` is
/// mounted on `fake` after that first attempt.
async fn pending_message(
    fake: &MockServer,
    graph: Option<&str>,
    channel: Value,
    send_path: &str,
) -> TestApp {
    Mock::given(method("POST"))
        .and(path(send_path.to_owned()))
        .respond_with(ResponseTemplate::new(503))
        .mount(fake)
        .await;
    let master = MasterKey::generate();
    let db = testkit::test_database().await.unwrap();
    let config = |no_workers: bool| {
        let graph = graph.map(str::to_owned);
        move |c: &mut atende::serve::ServeConfig| {
            whatsapp_config(graph.as_deref(), Some("platform-token"))(c);
            c.background.whatsapp.whatsapp_retry_base_ms = 60_000;
            c.no_workers = no_workers;
        }
    };
    let app = start_app(db, master.clone(), config(false)).await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", channel).await;
    human_reply(&app, tenant, &owner, 5).await;
    app.eventually("the first attempt", || async {
        !fake
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    })
    .await;
    let TestApp {
        db, app: running, ..
    } = app;
    running.stop().await.unwrap();
    let app = start_app(db, master, config(true)).await;
    // Due again now rather than after the backoff.
    sqlx::query("UPDATE whatsapp_outbound SET next_attempt_at = now()")
        .execute(&app.db.pool)
        .await
        .unwrap();
    fake.reset().await;
    app
}

/// A sender process over `app`'s database, whose claims last `lease`.
fn sender_process(app: &TestApp, graph: Option<&str>, lease: Duration) -> workers::sender::Sender {
    workers::sender::Sender::new(
        app.db.pool.clone(),
        app.app.bus.clone(),
        app.app.keys.clone(),
        std::sync::Arc::new(aggregates::SystemClock),
        workers::sender::SenderConfig {
            graph_url: graph.unwrap_or("http://127.0.0.1:9").to_owned(),
            token: Some("platform-token".into()),
            lease,
            retry_base: Duration::from_millis(10),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Runs a round of `sender` that dies once the provider has received (and, answering
/// slowly, accepted) its request: nothing after the call is recorded.
async fn crash_after_the_provider_accepts(
    sender: workers::sender::Sender,
    fake: &MockServer,
    send_path: &str,
    received_before: usize,
) {
    let round = tokio::spawn(async move { sender.run_once().await });
    let sends = || async {
        fake.received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == send_path)
            .count()
    };
    for _ in 0..500 {
        if sends().await > received_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        sends().await,
        received_before + 1,
        "the provider got the send"
    );
    round.abort();
    let _ = round.await;
}

async fn sends_to(fake: &MockServer, send_path: &str) -> usize {
    fake.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == send_path)
        .count()
}

#[tokio::test]
async fn given_evolution_accepted_a_message_before_its_sender_died_the_retry_finds_it_and_does_not_send_it_again(
) {
    let evolution = MockServer::start().await;
    let send_path = "/message/sendText/loja";
    let channel = json!({"provider": "evolution", "evolution_url": evolution.uri(),
                         "evolution_instance": "loja", "evolution_api_key": "instance-key"});
    let app = pending_message(&evolution, None, channel, send_path).await;
    // Evolution accepts, slower than the sender lives.
    Mock::given(method("POST"))
        .and(path(send_path))
        .and(header("apikey", "instance-key"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(
                    json!({"key": {"remoteJid": format!("{CONTACT}@s.whatsapp.net"),
                                              "fromMe": true, "id": "3EB0-ONCE"},
                                      "message": {"conversation": "Olá! Aqui é a Ana."},
                                      "status": "PENDING"}),
                )
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&evolution)
        .await;
    let lease = Duration::from_millis(300);
    crash_after_the_provider_accepts(sender_process(&app, None, lease), &evolution, send_path, 0)
        .await;
    // What the instance stored when it sent it, as `chat/findMessages` lists it (a
    // Brazilian number may be stored without its ninth digit).
    Mock::given(method("POST"))
        .and(path("/chat/findMessages/loja"))
        .and(header("apikey", "instance-key"))
        .and(body_partial_json(
            json!({"where": {"key": {"fromMe": true}}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"messages": {
            "total": 2, "pages": 1, "currentPage": 1, "records": [
                {"id": "c1", "key": {"remoteJid": "5511977776666@s.whatsapp.net", "fromMe": true,
                                     "id": "3EB0-OTHER"},
                 "message": {"conversation": "Olá! Aqui é a Ana."}, "messageTimestamp": 1},
                {"id": "c2", "key": {"remoteJid": "551100000001@s.whatsapp.net", "fromMe": true,
                                     "id": "3EB0-ONCE"},
                 "message": {"conversation": "Olá! Aqui é a Ana."}, "messageTimestamp": 1}]}})),
        )
        .mount(&evolution)
        .await;

    // When another sender takes the message over after the lease.
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    sender_process(&app, None, lease).run_once().await.unwrap();

    // Then it is recorded as sent under Evolution's id, and was sent once.
    assert_eq!(sends_to(&evolution, send_path).await, 1, "no second send");
    assert_eq!(count(&app, "OutboundSent").await, 1);
    let sent: Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'OutboundSent'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(sent["OutboundSent"]["provider_message_id"], "3EB0-ONCE");
}

#[tokio::test]
async fn given_the_cloud_api_accepted_a_message_before_its_sender_died_it_is_sent_at_most_once_more(
) {
    let graph = MockServer::start().await;
    let send_path = "/pn-1/messages";
    let app = pending_message(&graph, Some(&graph.uri()), json!({}), send_path).await;
    // The Cloud API accepts, slower than the senders live.
    Mock::given(method("POST"))
        .and(path(send_path))
        .respond_with(accepted("wamid.maybe").set_delay(Duration::from_secs(10)))
        .mount(&graph)
        .await;
    let lease = Duration::from_millis(300);
    let uri = graph.uri();
    // A sender dies after the call; the next one, after the lease, sends once more (the
    // Cloud API can neither take our id nor tell what it sent) and dies the same way.
    crash_after_the_provider_accepts(
        sender_process(&app, Some(&uri), lease),
        &graph,
        send_path,
        0,
    )
    .await;
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    crash_after_the_provider_accepts(
        sender_process(&app, Some(&uri), lease),
        &graph,
        send_path,
        1,
    )
    .await;

    // When a third sender takes it over, it does not send a third copy.
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    sender_process(&app, Some(&uri), lease)
        .run_once()
        .await
        .unwrap();
    assert_eq!(sends_to(&graph, send_path).await, 2, "at most once more");
    await_count(&app, "OutboundRefused", 1).await;
    let (status, error): (String, String) =
        sqlx::query_as("SELECT status, last_error FROM whatsapp_outbound")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(status, "failed");
    assert!(error.contains("may have delivered"), "{error}");
}
