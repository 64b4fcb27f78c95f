//! `GET /metrics` (Prometheus text) and what `/health` checks beyond the database: the
//! outside services in use, each degrading the report when it does not answer.

use crate::conversations::{converse, message, tenant_user};
use crate::helpers::{spawn_app, spawn_app_with, start_app, TestApp};
use aggregates::{SubscriptionCommand, SystemClock};
use atende::cli::{Cli, Command};
use clap::Parser;
use commands::privacy::KeyRing;
use read_api::auth::Role;
use schemas::events::Plan;
use schemas::personal::MasterKey;
use schemas::{conversation_id, Actor, CommandMetadata};
use serde_json::Value;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use uuid::Uuid;

/// The sample lines (not `# HELP`/`# TYPE`) of a metric, whole names only.
fn samples<'a>(text: &'a str, metric: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .collect()
}

/// Whether `text` holds something shaped like a UUID.
fn has_uuid(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .any(|word| Uuid::parse_str(word).is_ok() && word.len() == 36)
}

async fn scrape(app: &TestApp) -> String {
    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain"), "{kind}");
    resp.text().await.unwrap()
}

/// A TCP port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn after_a_request_with_an_id_metrics_count_it_by_its_route_template_and_never_the_id() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let tenant = app
        .register_tenant("Oficina Zé", "ze@oficina.example")
        .await;
    let path = format!("/api/v1/admin/tenants/{tenant}");
    // Whatever it answers (the directory may not show the tenant yet), it is one request.
    app.get_as(&path, &admin).await;

    let text = scrape(&app).await;
    let requests = samples(&text, "http_requests_total");
    assert!(
        requests
            .iter()
            .any(|l| l.contains(r#"route="/api/v1/admin/tenants/{id}""#)
                && l.contains(r#"method="GET""#)),
        "{requests:#?}"
    );
    assert!(
        samples(&text, "http_request_duration_seconds_bucket")
            .iter()
            .any(|l| l.contains(r#"route="/api/v1/admin/tenants/{id}""#)),
        "latency is a histogram by route"
    );
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(!has_uuid(line), "an id in a label: {line}");
    }
    // The tenant's registration went through the command bus and the grouped append.
    assert!(
        samples(&text, "atende_command_duration_seconds_bucket")
            .iter()
            .any(|l| l.contains(r#"aggregate="tenant""#) && l.contains(r#"outcome="ok""#)),
        "commands are timed per aggregate"
    );
    assert!(!samples(&text, "atende_append_group_size_bucket").is_empty());
}

#[tokio::test]
async fn each_consumer_and_job_queue_has_its_gauges_when_metrics_are_scraped() {
    let app = spawn_app().await;
    app.register_tenant("Padaria", "dona@padaria.example").await;
    app.eventually("the aggregate index's lag is 0 in /metrics", || async {
        let text = scrape(&app).await;
        samples(&text, "atende_consumer_lag_events")
            .iter()
            .any(|l| l.starts_with(r#"atende_consumer_lag_events{consumer="aggregate_index"} 0"#))
    })
    .await;
    let text = scrape(&app).await;
    for metric in [
        "atende_consumer_position",
        "atende_consumer_parked_events",
        "atende_event_store_head_position",
    ] {
        assert!(!samples(&text, metric).is_empty(), "{metric} in:\n{text}");
    }
    assert!(samples(&text, "atende_consumer_position")
        .iter()
        .any(|l| l.contains(r#"consumer="aggregate_index""#)));
    let depths = samples(&text, "atende_job_queue_depth");
    for queue in ["mail", "whatsapp_outbound", "usage_reports", "ai_bursts"] {
        assert!(
            depths
                .iter()
                .any(|l| l.contains(&format!(r#"queue="{queue}""#))),
            "{queue} in {depths:#?}"
        );
        assert!(samples(&text, "atende_job_queue_oldest_age_seconds")
            .iter()
            .any(|l| l.contains(&format!(r#"queue="{queue}""#))));
    }
}

/// GET /metrics as if through a reverse proxy on this machine (the peer is loopback, the
/// client is not), with `token` as bearer when given.
async fn forwarded_scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .get(format!("{}/metrics", app.address))
        .header("x-forwarded-for", "203.0.113.9");
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn without_a_metrics_token_a_client_that_is_not_local_is_refused() {
    let app = spawn_app().await;
    let resp = forwarded_scrape(&app, None).await;
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "metrics_local_only");
    assert!(body["message"].is_string());
    // A token means nothing while none is configured.
    assert_eq!(forwarded_scrape(&app, Some("guess")).await.status(), 403);
}

#[tokio::test]
async fn with_a_metrics_token_other_clients_are_answered_only_with_the_right_one() {
    let app = spawn_app_with(|c| c.background.metrics_token = Some("s3cret-scrape".into())).await;
    let missing = forwarded_scrape(&app, None).await;
    assert_eq!(missing.status(), 401);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");

    let wrong = forwarded_scrape(&app, Some("s3cret-scrapf")).await;
    assert_eq!(wrong.status(), 403);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "metrics_token_invalid");

    let right = forwarded_scrape(&app, Some("s3cret-scrape")).await;
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("http_requests_total"));
    // Local clients still need none.
    assert_eq!(app.get("/metrics").await.status(), 200);
}

/// The `services` entry named `name` of a /health body.
fn service<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["services"]
        .as_array()
        .expect("services are listed")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {body}"))
}

async fn health(app: &TestApp) -> Value {
    let resp = app.get("/health").await;
    assert_eq!(resp.status(), 200, "a service down degrades, never fails");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn health_checks_no_service_that_is_not_configured() {
    let app = spawn_app().await;
    let body = health(&app).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["services"], serde_json::json!([]));
}

#[tokio::test]
async fn an_unreachable_smtp_server_degrades_health() {
    let port = closed_port().await;
    let app = spawn_app_with(|c| {
        c.background.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    })
    .await;
    let body = health(&app).await;
    assert_eq!(body["status"], "degraded", "{body}");
    let smtp = service(&body, "smtp");
    assert_eq!(smtp["ok"], false);
    assert!(smtp["error"].is_string(), "{smtp}");
    assert_eq!(body["database"]["ok"], true);
}

/// A minimal SMTP server: greets, and answers EHLO, NOOP and QUIT on every connection.
async fn smtp_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 localhost ESMTP\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 localhost\r\n",
                        "QUIT" => b"221 bye\r\n",
                        _ => b"250 OK\r\n",
                    };
                    if write.write_all(reply).await.is_err() || verb == "QUIT" {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_reachable_smtp_server_is_reported_ok() {
    let port = smtp_server().await;
    let app = spawn_app_with(|c| {
        c.background.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    })
    .await;
    let body = health(&app).await;
    let smtp = service(&body, "smtp");
    assert_eq!(smtp["ok"], true, "{smtp}");
    assert_eq!(body["status"], "ok", "{body}");
}

#[tokio::test]
async fn an_unreachable_qdrant_degrades_health() {
    let port = closed_port().await;
    let app = spawn_app_with(|c| {
        c.background.knowledge.qdrant_url = Some(format!("http://127.0.0.1:{port}"));
    })
    .await;
    let body = health(&app).await;
    assert_eq!(body["status"], "degraded", "{body}");
    let qdrant = service(&body, "qdrant");
    assert_eq!(qdrant["ok"], false);
    assert!(qdrant["error"].is_string(), "{qdrant}");
}

#[tokio::test]
async fn an_unreachable_kafka_degrades_the_health_of_an_api_alone() {
    let port = closed_port().await;
    // The API alone: its health is about the services it talks to, not consumers.
    let app = spawn_app_with(|c| {
        c.no_workers = true;
        c.background.kafka.kafka_brokers = Some(format!("127.0.0.1:{port}"));
    })
    .await;
    let body = health(&app).await;
    assert_eq!(body["status"], "degraded", "{body}");
    let kafka = service(&body, "kafka");
    assert_eq!(kafka["ok"], false);
    assert!(kafka["error"].is_string(), "{kafka}");
}

#[tokio::test]
async fn a_worker_serves_its_own_health_and_metrics() {
    let master = MasterKey::generate();
    let db = testkit::test_database().await.expect("a test database");
    let app = start_app(db, master.clone(), |c| c.no_workers = true).await;
    let cli = Cli::try_parse_from([
        "atende",
        "worker",
        "--only",
        "projections",
        "--worker-addr",
        "127.0.0.1:0",
        "--tail-poll-ms",
        "20",
    ])
    .unwrap();
    let Command::Worker(config) = cli.command else {
        panic!("parsed as another command");
    };
    let keys = Arc::new(KeyRing::open(app.db.pool.clone(), master).await.unwrap());
    let worker =
        atende::worker::start_serving(app.db.pool.clone(), keys, Arc::new(SystemClock), &config)
            .await
            .expect("the worker starts");
    let base = format!("http://{}", worker.addr);
    assert_ne!(base, app.address);

    app.register_tenant("Oficina", "dono@oficina.example").await;
    app.eventually("the worker's health shows its index caught up", || async {
        let resp = app
            .client
            .get(format!("{base}/health"))
            .send()
            .await
            .unwrap();
        let body: Value = resp.json().await.unwrap();
        body["database"]["ok"] == true
            && body["consumers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "aggregate_index" && c["position"] == 1)
    })
    .await;
    let resp = app
        .client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(samples(&text, "atende_consumer_position")
        .iter()
        .any(|l| l.contains(r#"consumer="aggregate_index""#)));
    assert!(samples(&text, "http_requests_total")
        .iter()
        .any(|l| l.contains(r#"route="/health""#)));
    // Only the two routes.
    let other = app
        .client
        .get(format!("{base}/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    worker.stop().await.unwrap();
}

#[tokio::test]
async fn a_hand_off_by_the_ai_is_counted_by_its_reason() {
    let app = spawn_app_with(|c| {
        c.background.ai.ai_enabled = true;
        c.background.ai.ai_burst_ms = 0;
    })
    .await;
    let (tenant, _, token) = tenant_user(&app, Role::Owner).await;
    app.app
        .bus
        .subscriptions
        .execute(
            &tenant.to_string(),
            SubscriptionCommand::StartComplimentary {
                tenant_id: tenant,
                plan: Plan("basic".into()),
            },
            &CommandMetadata::new(Actor::system("test"), Some(tenant)),
        )
        .await
        .unwrap();
    let contact = "5511966661234";
    converse(
        &app,
        tenant,
        contact,
        message(tenant, contact, "Ana", "w1", "Tem bolo?"),
    )
    .await;
    let path = format!("/api/v1/conversations/{}", conversation_id(tenant, contact));
    app.eventually(
        "the empty knowledge hands the conversation over",
        || async {
            let detail: Value = app.get_as(&path, &token).await.json().await.unwrap();
            detail["status"] == "awaiting_human"
        },
    )
    .await;
    let text = scrape(&app).await;
    let handoffs = samples(&text, "atende_ai_handoffs_total");
    assert_eq!(
        handoffs,
        [r#"atende_ai_handoffs_total{reason="low_confidence"} 1"#],
        "{text}"
    );
    assert!(samples(&text, "atende_ai_answers_total").is_empty());
    assert!(samples(&text, "atende_command_duration_seconds_count")
        .iter()
        .any(|l| l.contains(r#"aggregate="conversation""#)));
}
