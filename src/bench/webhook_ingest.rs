//! `atende bench webhook-ingest`: signed Cloud API webhooks (one text message each, from
//! distinct contacts) through the HTTP API: signature check, tenant routing, the command
//! and its commit — what Meta waits for before it stops retrying.
//!
//! Two modes, each on a scratch database of its own, against the raw single-insert ceiling
//! measured in the same run: the API alone (`serve --no-workers`) and the whole product
//! (`serve` with every worker: projections, the AI responder answering extractively from
//! the tenant's knowledge, the sender into the local outbox). After the whole product's load
//! the benchmark reports how far behind the consumers were when the load stopped, how long
//! they took to catch up, and whether every message got its answer.

use super::app::Running;
use super::measure::{self, Measurement};
use super::scratch::Scratch;
use crate::background::Part;
use crate::database::DatabaseConfig;
use aggregates::{SubscriptionCommand, TenantCommand};
use clap::{Args, ValueEnum};
use schemas::events::Plan;
use schemas::personal::MasterKey;
use schemas::{Actor, CommandMetadata, EventType};
use serde_json::json;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use stream::Tail;
use uuid::Uuid;

/// Which product runs behind the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// `serve --no-workers`: the API alone.
    Api,
    /// `serve`: the API with every worker on the same cores.
    Whole,
}

/// Settings of `atende bench webhook-ingest`.
#[derive(Debug, Clone, Args)]
pub struct WebhookIngestArgs {
    /// Concurrent connections posting webhooks (and writers of the raw ceiling).
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Measured seconds (after one second of warm-up).
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// The modes to run, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "api,whole")]
    pub modes: Vec<Mode>,
    /// Only the API alone (the same as `--modes api`).
    #[arg(long)]
    pub no_workers: bool,
    /// The AI's burst window in the whole product, in milliseconds (`serve` waits 3000 for
    /// more messages; 0 answers within the measured window).
    #[arg(long, default_value_t = 0)]
    pub burst_ms: u64,
    /// How long the whole product gets after the load to answer every message.
    #[arg(long, default_value_t = 120)]
    pub drain_seconds: u64,
}

/// The app secret Meta signs webhooks with, as the benchmarks configure it.
pub(super) const SECRET: &str = "bench-app-secret";
/// The Cloud API number the benchmarks' tenant has linked.
pub(super) const NUMBER: &str = "bench-number";

/// Posts a signed Cloud API webhook carrying one text message from `from`, as Meta would;
/// an answer other than 2xx is an error.
pub(super) async fn post(
    client: &reqwest::Client,
    url: &str,
    from: &str,
    id: &str,
    text: &str,
) -> anyhow::Result<()> {
    let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": NUMBER},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": "1749416383",
                          "type": "text", "text": {"body": text}}]}}]}]}))?;
    let signature = integrations::whatsapp::sign(SECRET.as_bytes(), &body);
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "webhook answered {}",
        resp.status()
    );
    Ok(())
}

/// Knowledge the benchmarks' tenant answers [`QUESTION`] from.
pub(super) const KNOWLEDGE: &str = "Horário de funcionamento: de segunda a sábado, das 8h às 18h. \
    Aos domingos e feriados a loja fica fechada.\n\n\
    Entregas: entregamos em toda a cidade em até dois dias úteis, com frete grátis acima de R$ 100.";
/// What every benchmark customer asks.
pub(super) const QUESTION: &str = "Qual é o horário de funcionamento da loja?";

/// One mode's load and what followed it.
struct ModeResult {
    mode: Mode,
    load: Measurement,
    /// Whole product only.
    after: Option<Aftermath>,
}

/// The whole product after the load stopped.
struct Aftermath {
    /// Events behind the head when the load stopped: the most any consumer had, and whose.
    lag_at_end: (i64, String),
    /// Seconds until every consumer caught up and every message had its answer (none: not
    /// within the drain time).
    drained_after: Option<f64>,
    received: i64,
    replied: i64,
    handed_off: i64,
    unanswered: i64,
    sent: i64,
    consumers: Vec<stream::ConsumerStatus>,
}

/// Measures each mode and the raw ceiling, prints Markdown.
pub async fn run(db_config: &DatabaseConfig, args: WebhookIngestArgs) -> anyhow::Result<()> {
    let modes = if args.no_workers {
        vec![Mode::Api]
    } else {
        args.modes.clone()
    };
    let mut results = Vec::new();
    let mut ceiling = None;
    for mode in modes {
        let scratch = Scratch::open(db_config, 40).await?;
        let result = async {
            let r = bench(&scratch, &args, mode).await?;
            // In the first mode's database, once its app stopped: a table holding a run's
            // events, as the append benchmark's ceiling does.
            if ceiling.is_none() {
                ceiling = Some(raw_ceiling(&scratch.pool, &args).await?);
            }
            anyhow::Ok(r)
        }
        .await;
        scratch.close().await?;
        results.push(result?);
    }
    let ceiling = ceiling.ok_or_else(|| anyhow::anyhow!("no mode was run"))?;
    print_report(&args, &results, &ceiling);
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_report(args: &WebhookIngestArgs, results: &[ModeResult], ceiling: &Measurement) {
    println!(
        "### bench webhook-ingest ({} connections, {} s after 1 s warm-up, one signed message per webhook from a new contact; AI burst window {} ms)\n",
        args.connections, args.seconds, args.burst_ms
    );
    println!("| mode | webhooks | webhooks/s | p50 ms | p99 ms | / raw ceiling |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| raw single-row INSERT ({} writers) | {} | {:.0} | {:.2} | {:.2} | 100% |",
        ceiling.writers, ceiling.ops, ceiling.ops_per_sec, ceiling.p50_ms, ceiling.p99_ms
    );
    for r in results {
        let name = match r.mode {
            Mode::Api => "API alone (`serve --no-workers`)",
            Mode::Whole => "whole product (`serve`)",
        };
        println!(
            "| {name} | {} | {:.0} | {:.2} | {:.2} | {:.0}% |",
            r.load.ops,
            r.load.ops_per_sec,
            r.load.p50_ms,
            r.load.p99_ms,
            100.0 * r.load.ops_per_sec / ceiling.ops_per_sec.max(f64::MIN_POSITIVE)
        );
    }
    for a in results.iter().filter_map(|r| r.after.as_ref()) {
        println!(
            "\nWhole product after the load: consumers' lag when it stopped {} events ({}); caught up, every message answered and every reply sent {}.\n",
            a.lag_at_end.0,
            a.lag_at_end.1,
            match a.drained_after {
                Some(s) => format!("{s:.1} s later"),
                None => format!("NOT within {} s", args.drain_seconds),
            }
        );
        println!(
            "| messages received | AI replies | handed off | unanswered | replies sent (outbox) |"
        );
        println!("|---:|---:|---:|---:|---:|");
        println!(
            "| {} | {} | {} | {} | {} |\n",
            a.received, a.replied, a.handed_off, a.unanswered, a.sent
        );
        super::tail_lag::print_consumers(&a.consumers);
    }
}

async fn raw_ceiling(pool: &PgPool, args: &WebhookIngestArgs) -> anyhow::Result<Measurement> {
    super::append::raw_ceiling(
        pool,
        args.connections,
        "webhook",
        Duration::from_secs(1),
        Duration::from_secs(args.seconds),
    )
    .await
}

/// A paying tenant owning the number, with knowledge the question is answered from.
pub(super) async fn register(running: &Running, tenant: Uuid) -> anyhow::Result<()> {
    running
        .register_tenant(tenant, "bench@atende.example", NUMBER)
        .await?;
    let md = CommandMetadata::new(Actor::system("bench"), Some(tenant));
    let bus = &running.app.bus;
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
            TenantCommand::ReplaceKnowledge {
                text: KNOWLEDGE.into(),
            },
            &md,
        )
        .await?;
    Ok(())
}

async fn bench(
    scratch: &Scratch,
    args: &WebhookIngestArgs,
    mode: Mode,
) -> anyhow::Result<ModeResult> {
    let parts: &[Part] = match mode {
        Mode::Api => &[],
        Mode::Whole => &Part::ALL,
    };
    let burst = args.burst_ms;
    let running = Running::start_parts(
        scratch.pool.clone(),
        MasterKey::generate(),
        |c| {
            c.background.whatsapp.whatsapp_app_secret = Some(SECRET.into());
            c.background.ai.ai_burst_ms = burst;
        },
        parts,
    )
    .await?;
    let result = async {
        let tenant = Uuid::now_v7();
        register(&running, tenant).await?;
        if mode == Mode::Whole {
            wait_for_knowledge(&running, tenant).await?;
        }
        let client = running.app_client();
        let url = running.url("/webhooks/whatsapp");
        let run = Uuid::now_v7().simple().to_string();
        let load = measure::measure(
            args.connections,
            Duration::from_secs(1),
            Duration::from_secs(args.seconds),
            move |w, n| {
                let client = client.clone();
                let url = url.clone();
                let id = format!("wamid.{run}.{w}.{n}");
                async move {
                    let from = format!("55119{w:04}{:04}", n % 10_000);
                    post(&client, &url, &from, &id, QUESTION).await
                }
            },
        )
        .await?;
        let after = match mode {
            Mode::Api => None,
            Mode::Whole => Some(aftermath(&running, &scratch.pool, args).await?),
        };
        anyhow::Ok(ModeResult { mode, load, after })
    }
    .await;
    running.app.stop().await?;
    result
}

/// Waits until the knowledge indexer made the tenant's knowledge searchable, so the first
/// messages are answered from it as the later ones are.
pub(super) async fn wait_for_knowledge(running: &Running, tenant: Uuid) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = running.app.retriever.search(tenant, QUESTION, 3).await;
        if found.is_ok_and(|chunks| !chunks.is_empty()) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the tenant's knowledge was not indexed within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many events each consumer has left after its checkpoint, the most first.
async fn lags(tail: &Tail, consumers: &[stream::ConsumerStatus]) -> anyhow::Result<(i64, String)> {
    let mut worst = (0, String::from("none"));
    for c in consumers {
        let lag = tail.lag(c.checkpoint, 10_000_000).await?;
        if lag > worst.0 {
            worst = (lag, c.name.clone());
        }
    }
    Ok(worst)
}

/// Counts of conversations by what happened in them.
async fn conversations_with(pool: &PgPool, kinds: &[EventType]) -> anyhow::Result<i64> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    Ok(sqlx::query_scalar(
        "SELECT count(DISTINCT aggregate_id) FROM events
          WHERE aggregate_type = 'conversation' AND event_type = ANY($1)",
    )
    .bind(&kinds)
    .fetch_one(pool)
    .await?)
}

/// The consumers' lag when the load stopped, then waits (up to the drain time) until every
/// consumer caught up and every message was answered.
async fn aftermath(
    running: &Running,
    pool: &PgPool,
    args: &WebhookIngestArgs,
) -> anyhow::Result<Aftermath> {
    let stopped = Instant::now();
    let tail = Tail::new(pool.clone());
    let lag_at_end = lags(&tail, &running.app.consumers()).await?;
    let answer_kinds = [
        EventType::AiReplied,
        EventType::ConfidenceLow,
        EventType::HumanRequested,
    ];
    let deadline = stopped + Duration::from_secs(args.drain_seconds);
    let drained_after = loop {
        // The answers are counted (a scan of the log) only once nothing is left to apply.
        if lags(&tail, &running.app.consumers()).await?.0 == 0 {
            let received = conversations_with(pool, &[EventType::MessageReceived]).await?;
            let answered = conversations_with(pool, &answer_kinds).await?;
            // The sender is a job queue, not a stream consumer: its sends count apart.
            let unsent: i64 =
                sqlx::query_scalar("SELECT count(*) FROM whatsapp_outbound WHERE NOT recorded")
                    .fetch_one(pool)
                    .await?;
            let sent = conversations_with(pool, &[EventType::OutboundSent]).await?;
            if answered >= received && sent >= received && unsent == 0 {
                break Some(stopped.elapsed().as_secs_f64());
            }
        }
        if Instant::now() >= deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let received = conversations_with(pool, &[EventType::MessageReceived]).await?;
    let replied = conversations_with(pool, &[EventType::AiReplied]).await?;
    let handed_off =
        conversations_with(pool, &[EventType::ConfidenceLow, EventType::HumanRequested]).await?;
    let answered = conversations_with(pool, &answer_kinds).await?;
    let sent = conversations_with(pool, &[EventType::OutboundSent]).await?;
    Ok(Aftermath {
        lag_at_end,
        drained_after,
        received,
        replied,
        handed_off,
        unanswered: received - answered,
        sent,
        consumers: running.app.consumers(),
    })
}
