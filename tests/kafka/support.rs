//! Shared set-up: the app over a test database, a broker, commands, an outside reader.

use aggregates::{ConversationCommand, SubscriptionCommand, SystemClock, TenantCommand};
use atende::background::Settings;
use atende::serve::{App, ServeConfig};
use chrono::Utc;
use commands::CommandBus;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::ClientConfig;
use read_api::auth::JwtSecret;
use schemas::events::{MessageContent, Plan};
use schemas::personal::MasterKey;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use sqlx::PgPool;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream::KafkaConfig;
use testkit::kafka::Tansu;
use uuid::Uuid;

/// The stream's settings for `broker`, with fewer partitions than production so a test's
/// few aggregates still land on every one.
pub fn kafka_config(broker: &Tansu) -> KafkaConfig {
    KafkaConfig {
        partitions: 4,
        ..KafkaConfig::new(broker.brokers())
    }
}

/// The whole app on `pool`; with `broker`, the stream goes through it.
pub async fn start_app(pool: &PgPool, broker: Option<&Tansu>, no_workers: bool) -> App {
    let mut config = ServeConfig {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        snapshot_every: 50,
        jwt_secret: Some(JwtSecret::generate()),
        trust_proxy: false,
        cors_origins: Default::default(),
        no_workers,
        background: Settings {
            tail_poll_ms: 20,
            ai: atende::ai::AiSettings {
                ai_enabled: false,
                ..Default::default()
            },
            ..Default::default()
        },
        backup: atende::backup::BackupSchedule {
            backup_dir: None,
            backup_keep: 7,
        },
        rate_limits: Default::default(),
    };
    if let Some(b) = broker {
        config.background.kafka.kafka_brokers = Some(b.brokers());
        config.background.kafka.kafka_partitions = 4;
    }
    App::start(
        pool.clone(),
        &config,
        Arc::new(SystemClock),
        MasterKey::generate(),
    )
    .await
    .unwrap()
}

fn metadata(tenant: Uuid) -> CommandMetadata {
    CommandMetadata::new(
        Actor {
            kind: ActorKind::Admin,
            id: "kafka-test".into(),
        },
        Some(tenant),
    )
}

/// Registers `tenants` tenants, each subscribed and receiving `messages` messages spread
/// over three contacts, tenants concurrently. Returns the tenants.
pub async fn drive(bus: &CommandBus, tenants: usize, messages: usize) -> Vec<Uuid> {
    let runs = (0..tenants).map(|t| async move {
        let tenant = Uuid::now_v7();
        bus.tenants
            .execute(
                &tenant.to_string(),
                TenantCommand::RegisterTenant {
                    tenant_id: tenant,
                    name: format!("Loja {t}"),
                    owner_email: Personal::from(format!("dona{t}@loja.example").as_str()),
                    plan: Plan("basic".into()),
                },
                &metadata(tenant),
            )
            .await
            .unwrap();
        bus.subscriptions
            .execute(
                &tenant.to_string(),
                SubscriptionCommand::StartFromCheckout {
                    tenant_id: tenant,
                    stripe_customer_id: format!("cus_{t}"),
                    stripe_subscription_id: format!("sub_{t}"),
                    plan: Plan("pro".into()),
                    trial_end: None,
                },
                &metadata(tenant),
            )
            .await
            .unwrap();
        for m in 0..messages {
            let contact = format!("5511{t:04}{:04}", m % 3);
            let id = conversation_id(tenant, &contact);
            bus.conversations
                .execute(
                    &id.to_string(),
                    ConversationCommand::ReceiveMessage {
                        tenant_id: tenant,
                        contact_wa_id: Personal::from(contact.as_str()),
                        contact_name: Some(Personal::from("Cliente")),
                        provider_message_id: format!("wamid.{t}.{m}"),
                        content: MessageContent::Text(Personal::from("Oi, tudo bem?")),
                        sent_at: Utc::now(),
                    },
                    &metadata(tenant),
                )
                .await
                .unwrap();
        }
        tenant
    });
    futures::future::join_all(runs).await
}

/// Events in the store.
pub async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Polls `check` until it holds, failing the test after `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How far the relay's checkpoint got (its position).
pub async fn relayed_position(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(max(position), 0) FROM stream_checkpoints WHERE consumer = 'kafka_relay'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The relay's checkpoint is at the last committed event.
pub async fn relay_caught_up(pool: &PgPool) -> bool {
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .unwrap();
    last.unwrap_or(0) == relayed_position(pool).await
}

/// One message as an outside client reads it.
#[derive(Debug, Clone)]
pub struct Received {
    pub topic: String,
    pub partition: i32,
    pub key: String,
    pub headers: HashMap<String, String>,
    pub value: serde_json::Value,
}

/// Reads the stream's topics from the start with a plain client in a group of its own
/// until `expected` messages arrived (failing after `within`).
pub async fn read_topics(config: &KafkaConfig, expected: usize, within: Duration) -> Vec<Received> {
    read_topics_until(config, within, |got| got.len() >= expected).await
}

/// Reads the stream's topics from the start with a plain client in a group of its own
/// until what arrived satisfies `done` (failing after `within`).
pub async fn read_topics_until(
    config: &KafkaConfig,
    within: Duration,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", format!("outside-reader-{}", Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("topic.metadata.refresh.interval.ms", "1000")
        .create()
        .unwrap();
    let topics = config.topics();
    consumer
        .subscribe(&topics.iter().map(String::as_str).collect::<Vec<_>>())
        .unwrap();
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    while !done(&out) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "{} messages arrived, not all those expected",
            out.len()
        );
        let Ok(m) = tokio::time::timeout(left, consumer.recv()).await else {
            continue;
        };
        let m = m.unwrap();
        let headers = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        let v = h.value.map(|v| String::from_utf8_lossy(v).into_owned());
                        (h.key.to_owned(), v.unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Received {
            topic: m.topic().to_owned(),
            partition: m.partition(),
            key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
            headers,
            value: serde_json::from_slice(m.payload().unwrap_or_default()).unwrap(),
        });
    }
    out
}

/// The relay's and librdkafka's logs in the test's output, which nextest shows only when
/// the test fails: an outage test that times out otherwise says nothing of why.
pub fn log_relay_to_test_output() {
    let _ = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter("workers=debug,stream=info,projections=info,rdkafka=info,librdkafka=info")
        .try_init();
}

/// The Kafka consumer `consumer` recorded as applied the last event of every aggregate of
/// the `aggregate_types` in the log.
pub async fn consumer_applied_all(pool: &PgPool, consumer: &str, aggregate_types: &[&str]) -> bool {
    let behind: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (
             SELECT aggregate_type, aggregate_id, max(sequence) AS last FROM events
              WHERE aggregate_type = ANY($2) GROUP BY 1, 2
         ) e
         LEFT JOIN stream_dedup d ON d.consumer = $1
              AND d.aggregate_type = e.aggregate_type AND d.aggregate_id = e.aggregate_id
         WHERE d.last_sequence IS DISTINCT FROM e.last",
    )
    .bind(consumer)
    .bind(aggregate_types)
    .fetch_one(pool)
    .await
    .unwrap();
    behind == 0
}
