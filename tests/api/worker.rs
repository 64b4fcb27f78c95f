//! `atende worker`: the `--only` selection, and the parts running apart from the API as in
//! the distributed deployment (API with `--no-workers`, workers beside it).

use crate::helpers::{start_app, TestApp};
use crate::whatsapp::{
    await_count, cloud_message, count, linked_tenant, messages_webhook, post_signed,
    whatsapp_config,
};
use aggregates::SystemClock;
use atende::background::Background;
use atende::cli::{Cli, Command};
use atende::worker::{Part, WorkerConfig};
use clap::error::ErrorKind;
use clap::Parser;
use commands::privacy::KeyRing;
use schemas::personal::MasterKey;
use serde_json::json;
use std::sync::Arc;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONTACT: &str = "5511900000077";

fn worker_config(args: &[&str]) -> Result<WorkerConfig, clap::Error> {
    let cli = Cli::try_parse_from(["atende", "worker"].iter().chain(args))?;
    match cli.command {
        Command::Worker(config) => Ok(config),
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn worker_runs_every_part_unless_only_names_some() {
    assert_eq!(worker_config(&[]).unwrap().parts(), Part::ALL.to_vec());
    let picked = worker_config(&["--only", "sender,ai,saga,knowledge,billing"]).unwrap();
    assert_eq!(
        picked.parts(),
        [
            Part::Sender,
            Part::Ai,
            Part::Saga,
            Part::Knowledge,
            Part::Billing
        ]
    );
    let rest = worker_config(&["--only", "projections,relay,mailer,retention"]).unwrap();
    assert_eq!(rest.parts().len(), 4);
}

#[test]
fn an_unknown_part_is_refused_with_its_name_and_the_parts_there_are() {
    let err = worker_config(&["--only", "sender,mailman"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue);
    let message = err.to_string();
    for expected in ["mailman", "possible values", "sender", "billing", "saga"] {
        assert!(message.contains(expected), "{expected} in: {message}");
    }
}

/// A worker process's parts over `app`'s database, with its own key ring.
async fn worker(app: &TestApp, master: &MasterKey, args: &[&str]) -> Background {
    let config = worker_config(args).expect("worker arguments");
    let keys = Arc::new(
        KeyRing::open(app.db.pool.clone(), master.clone())
            .await
            .unwrap(),
    );
    atende::worker::start(app.db.pool.clone(), keys, Arc::new(SystemClock), &config)
        .await
        .expect("the worker starts")
}

#[tokio::test]
async fn a_worker_running_only_the_sender_delivers_the_human_reply_the_api_alone_recorded() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pn-1/messages"))
        .and(header("authorization", "Bearer platform-token"))
        .and(body_partial_json(json!({
            "messaging_product": "whatsapp", "to": CONTACT,
            "type": "text", "text": {"body": "Olá! Aqui é a Ana."}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": CONTACT, "wa_id": CONTACT}],
            "messages": [{"id": "wamid.from-worker"}]})))
        .expect(1)
        .mount(&graph)
        .await;
    let master = MasterKey::generate();
    let db = testkit::test_database().await.expect("a test database");
    // Given the API alone (it has no Graph token: only the worker's settings can send),
    let app = start_app(db, master.clone(), |c| {
        whatsapp_config(None, None)(c);
        c.no_workers = true;
    })
    .await;
    // and a worker process keeping the read models,
    let projections = worker(
        &app,
        &master,
        &["--only", "projections", "--tail-poll-ms", "20"],
    )
    .await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", json!({})).await;
    let hook = messages_webhook("pn-1", vec![cloud_message(CONTACT, "wamid.in", "oi", 5)]);
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    let id = schemas::conversation_id(tenant, CONTACT);
    let conversation = format!("/api/v1/conversations/{id}");
    app.eventually("the conversation is shown", || async {
        app.get_as(&conversation, &owner).await.status() == 200
    })
    .await;
    // when a human replies,
    let resp = app
        .post_json(
            &format!("{conversation}/reply"),
            &json!({"text": "Olá! Aqui é a Ana."}),
            Some(&owner),
        )
        .await;
    assert_eq!(resp.status(), 200, "the reply");
    assert_eq!(count(&app, "OutboundSent").await, 0, "nothing sends it yet");
    // and a second worker process runs only the sender,
    let graph_url = graph.uri();
    let sender = worker(
        &app,
        &master,
        &[
            "--only",
            "sender",
            "--tail-poll-ms",
            "20",
            "--whatsapp-graph-url",
            &graph_url,
            "--whatsapp-token",
            "platform-token",
        ],
    )
    .await;
    // then the reply goes out through the Graph API once, and is recorded as sent.
    await_count(&app, "OutboundSent", 1).await;
    let sent: serde_json::Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'OutboundSent'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        sent["OutboundSent"]["provider_message_id"],
        "wamid.from-worker"
    );
    graph.verify().await;
    sender.stop().await;
    projections.stop().await;
}
