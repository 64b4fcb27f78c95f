//! `atende bench pipeline`: a customer message committed → the AI's reply event recorded →
//! the reply's send request reaching the WhatsApp Cloud API, with a zero-latency fake model
//! (an in-process OpenAI-compatible endpoint), no burst window, and an in-process Graph API
//! that answers at once.

use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use aggregates::{ConversationCommand, RandomIds, SubscriptionCommand, SystemClock, TenantCommand};
use chrono::Utc;
use clap::Args;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig};
use hdrhistogram::Histogram;
use schemas::events::{MessageContent, Plan};
use schemas::personal::MasterKey;
use schemas::{conversation_id, Actor, CommandMetadata, Personal};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stream::{CommitSignal, Tail};
use tokio::time::MissedTickBehavior;
use uuid::Uuid;
use workers::knowledge::{KnowledgeError, RetrievedChunk, Retriever};
use workers::responder::{Limits, Provider, Responder, ResponderConfig};

/// Settings of `atende bench pipeline`.
#[derive(Debug, Clone, Args)]
pub struct PipelineArgs {
    /// Customer messages per second, each in a new conversation.
    #[arg(long, default_value_t = 50)]
    pub rate: u64,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Unmeasured warm-up seconds.
    #[arg(long, default_value_t = 2)]
    pub warmup_seconds: u64,
}

/// Always finds the same confident passage.
#[derive(Debug)]
struct BenchKnowledge;

#[async_trait::async_trait]
impl Retriever for BenchKnowledge {
    async fn search(
        &self,
        tenant_id: Uuid,
        _query: &str,
        _k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        Ok(vec![RetrievedChunk {
            chunk_id: format!("{tenant_id}:1:0"),
            knowledge_version: 1,
            text: "Abrimos de segunda a sábado, das 8h às 18h.".into(),
            score: 0.95,
        }])
    }
}

/// An OpenAI-compatible chat completions endpoint that answers at once.
async fn fake_model() -> anyhow::Result<String> {
    use axum::routing::post;
    let body = serde_json::json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Abrimos às 8h."},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 5, "total_tokens": 105}
    });
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}/v1"))
}

/// A Cloud API `POST /{phone_number_id}/messages` that accepts at once, noting when each
/// recipient's first request arrived.
async fn fake_graph(arrivals: Arrivals) -> anyhow::Result<String> {
    use axum::extract::Path;
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/{phone_number_id}/messages",
        post(
            move |Path(_number): Path<String>, axum::Json(body): axum::Json<serde_json::Value>| {
                let at = Instant::now();
                let to = body["to"].as_str().unwrap_or_default().to_owned();
                lock(&arrivals).entry(to.clone()).or_insert(at);
                async move {
                    axum::Json(serde_json::json!({
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": to, "wa_id": to}],
                        "messages": [{"id": format!("wamid.out.{}", Uuid::now_v7().simple())}]
                    }))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

/// Commit instants per conversation: the message's, then the reply's.
type Commits = Arc<Mutex<HashMap<String, Vec<Instant>>>>;
/// When the Graph API first heard of each recipient.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

fn lock<T>(c: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    c.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Latencies from each message's commit.
struct Lags {
    replied: Histogram<u64>,
    sent: Histogram<u64>,
    unanswered: usize,
    unsent: usize,
}

/// Runs the benchmark and prints a Markdown table.
pub async fn run(db_config: &DatabaseConfig, args: PipelineArgs) -> anyhow::Result<()> {
    let scratch = Scratch::open(db_config, 40).await?;
    let result = bench(&scratch.pool, &args).await;
    scratch.close().await?;
    let lags = result?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "pipeline: {} msg/s for {} s, burst window 0, zero-latency fake model and Graph API\n",
            args.rate, args.seconds
        );
        println!("| message committed → | messages | p50 ms | p99 ms | max ms | missing |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (what, h, missing) in [
            ("AI reply recorded", &lags.replied, lags.unanswered),
            (
                "reply's send request at the Graph API",
                &lags.sent,
                lags.unsent,
            ),
        ] {
            println!(
                "| {what} | {} | {:.1} | {:.1} | {:.1} | {missing} |",
                h.len(),
                h.value_at_quantile(0.5) as f64 / 1000.0,
                h.value_at_quantile(0.99) as f64 / 1000.0,
                h.max() as f64 / 1000.0
            );
        }
    }
    Ok(())
}

fn micros(d: Duration) -> u64 {
    d.as_micros().try_into().unwrap_or(u64::MAX)
}

async fn bench(pool: &PgPool, args: &PipelineArgs) -> anyhow::Result<Lags> {
    let model = fake_model().await?;
    let arrivals: Arrivals = Arc::default();
    let graph = fake_graph(arrivals.clone()).await?;
    let commits: Commits = Arc::default();
    let seen = commits.clone();
    let keys = Arc::new(KeyRing::open(pool.clone(), MasterKey::generate()).await?);
    let signal = CommitSignal::new();
    let notify = signal.clone();
    let bus = Arc::new(CommandBus::new(
        pool.clone(),
        Arc::new(SystemClock),
        Arc::new(RandomIds),
        &CommandBusConfig::default(),
        Arc::new(move |aggregate, id| {
            if aggregate == "conversation" {
                lock(&seen)
                    .entry(id.to_owned())
                    .or_default()
                    .push(Instant::now());
            }
            notify.notify();
        }),
        keys.clone(),
    ));
    let tail = Tail::new(pool.clone())
        .with_commit_signal(&signal)
        .with_idle_poll(Duration::from_millis(100));
    let config = ResponderConfig {
        burst: Duration::ZERO,
        providers: vec![Provider {
            name: "fake".into(),
            base_url: model,
            model: "gpt-4o-mini".into(),
            api_key: "bench".into(),
        }],
        limits: Limits {
            requests_per_hour: None,
            tokens_per_day: None,
            cost_per_month_usd: None,
        },
        ..ResponderConfig::default()
    };
    let queue = stream::Runner::spawn(workers::sender::OutboundQueue::default(), tail.clone());
    let sender = workers::sender::Sender::new(
        pool.clone(),
        bus.clone(),
        keys.clone(),
        Arc::new(SystemClock),
        workers::sender::SenderConfig {
            graph_url: graph,
            token: Some("bench-token".into()),
            ..Default::default()
        },
    )?
    .spawn();
    let (runner, scheduler) = Responder::new(
        pool.clone(),
        bus.clone(),
        keys,
        Arc::new(BenchKnowledge),
        Arc::new(SystemClock),
        config,
    )
    .start(&tail);
    let tenant = Uuid::now_v7();
    let md = CommandMetadata::new(Actor::system("bench"), Some(tenant));
    bus.tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::RegisterTenant {
                tenant_id: tenant,
                name: "Bench".into(),
                owner_email: Personal::from("bench@example.com"),
                plan: Plan("enterprise".into()),
            },
            &md,
        )
        .await?;
    bus.subscriptions
        .execute(
            &tenant.to_string(),
            SubscriptionCommand::StartComplimentary {
                tenant_id: tenant,
                plan: Plan("enterprise".into()),
            },
            &md,
        )
        .await?;
    bus.tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::LinkWhatsAppNumber {
                phone_number_id: "bench-number".into(),
                display_phone_number: Personal::from("+55 11 4000-0000"),
            },
            &md,
        )
        .await?;

    let mut measured = Vec::new();
    let total = (args.warmup_seconds + args.seconds) * args.rate;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate.max(1) as f64));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut sends = Vec::new();
    for i in 0..total {
        tick.tick().await;
        let contact = format!("55119{i:08}");
        let id = conversation_id(tenant, &contact).to_string();
        if i >= args.warmup_seconds * args.rate {
            measured.push((id.clone(), contact.clone()));
        }
        let bus = bus.clone();
        let md = md.clone();
        sends.push(tokio::spawn(async move {
            let command = ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from(contact.as_str()),
                contact_name: None,
                provider_message_id: format!("wamid.{i}"),
                content: MessageContent::Text(Personal::from(format!(
                    "Pergunta {i}: qual o horário?"
                ))),
                sent_at: Utc::now(),
            };
            bus.conversations.execute(&id, command, &md).await
        }));
    }
    for s in sends {
        s.await??;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = || {
        let (commits, arrivals) = (lock(&commits), lock(&arrivals));
        measured.iter().all(|(id, contact)| {
            commits.get(id).is_some_and(|v| v.len() >= 2) && arrivals.contains_key(contact)
        })
    };
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scheduler.stop().await;
    runner.stop().await;
    sender.stop().await;
    queue.stop().await;
    let mut lags = Lags {
        replied: Histogram::new(3)?,
        sent: Histogram::new(3)?,
        unanswered: 0,
        unsent: 0,
    };
    let (commits, arrivals) = (lock(&commits), lock(&arrivals));
    for (id, contact) in &measured {
        let Some([message, reply, ..]) = commits.get(id).map(Vec::as_slice) else {
            lags.unanswered += 1;
            lags.unsent += 1;
            continue;
        };
        lags.replied
            .record(micros(reply.duration_since(*message)))?;
        match arrivals.get(contact) {
            Some(at) => lags.sent.record(micros(at.duration_since(*message)))?,
            None => lags.unsent += 1,
        }
    }
    Ok(lags)
}
