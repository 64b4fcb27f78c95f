//! `atende bench append`: single-event commands vs the raw INSERT ceiling.

use super::measure::{measure, Measurement};
use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use aggregates::{ConversationCommand, RandomIds, SystemClock, TenantCommand};
use chrono::Utc;
use clap::Args;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig};
use schemas::events::{MessageContent, Plan};
use schemas::personal::MasterKey;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Settings of `atende bench append`.
#[derive(Debug, Clone, Args)]
pub struct AppendArgs {
    /// Writer counts to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub writers: Vec<usize>,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Unmeasured warm-up seconds per run.
    #[arg(long, default_value_t = 1)]
    pub warmup_seconds: u64,
    /// Runs of each kind per writer count, interleaved; the median is reported (the
    /// machine's disk and neighbours make single runs drift).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Events between snapshots, as `serve` uses.
    #[arg(long, env = "ATENDE_SNAPSHOT_EVERY", default_value_t = 50)]
    pub snapshot_every: usize,
}

/// Measures, prints a Markdown report on stdout, and drops its scratch database.
pub async fn run(db_config: &DatabaseConfig, args: AppendArgs) -> anyhow::Result<()> {
    let max_writers = args.writers.iter().copied().max().unwrap_or(1);
    let scratch = Scratch::open(db_config, max_writers as u32 + 2).await?;
    let result = bench(&scratch.pool, &args).await;
    scratch.close().await?;
    let rows = result?;
    print_report(&args, &rows);
    Ok(())
}

struct Row {
    command: Measurement,
    plain: Measurement,
    raw: Measurement,
}

fn bus(pool: &PgPool, keys: &Arc<KeyRing>, args: &AppendArgs, seal: bool) -> Arc<CommandBus> {
    Arc::new(CommandBus::new(
        pool.clone(),
        Arc::new(SystemClock),
        Arc::new(RandomIds),
        &CommandBusConfig {
            snapshot_every: args.snapshot_every,
            seal_personal_data: seal,
        },
        Arc::new(|_, _| {}),
        keys.clone(),
    ))
}

async fn bench(pool: &PgPool, args: &AppendArgs) -> anyhow::Result<Vec<Row>> {
    let keys = Arc::new(KeyRing::open(pool.clone(), MasterKey::generate()).await?);
    let sealed = bus(pool, &keys, args, true);
    let plain = bus(pool, &keys, args, false);
    let tenant = Uuid::now_v7();
    let admin = CommandMetadata::new(
        Actor {
            kind: ActorKind::Admin,
            id: "bench".into(),
        },
        Some(tenant),
    );
    sealed
        .tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::RegisterTenant {
                tenant_id: tenant,
                name: "Bench Ltda".into(),
                owner_email: Personal::from("owner@bench.example"),
                plan: Plan("pro".into()),
            },
            &admin,
        )
        .await?;

    let warmup = Duration::from_secs(args.warmup_seconds);
    let window = Duration::from_secs(args.seconds);
    let mut rows = Vec::new();
    for (round, &writers) in args.writers.iter().enumerate() {
        let (mut cs, mut ps, mut rs) = (Vec::new(), Vec::new(), Vec::new());
        for rep in 0..args.repeat.max(1) {
            let tag = format!("{round}{rep}");
            cs.push(
                commands(
                    sealed.clone(),
                    tenant,
                    writers,
                    format!("s{tag}"),
                    warmup,
                    window,
                )
                .await?,
            );
            ps.push(
                commands(
                    plain.clone(),
                    tenant,
                    writers,
                    format!("p{tag}"),
                    warmup,
                    window,
                )
                .await?,
            );
            rs.push(raw_ceiling(pool, writers, &tag, warmup, window).await?);
        }
        let (command, plain, raw) = (median(cs), median(ps), median(rs));
        tracing::info!(
            writers,
            command = command.ops_per_sec,
            plain = plain.ops_per_sec,
            raw = raw.ops_per_sec,
            "bench round done"
        );
        rows.push(Row {
            command,
            plain,
            raw,
        });
    }
    Ok(rows)
}

/// `ReceiveMessage` commands, each writer on its own conversation.
async fn commands(
    bus: Arc<CommandBus>,
    tenant: Uuid,
    writers: usize,
    tag: String,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Measurement> {
    let tag = Arc::new(tag);
    measure(writers, warmup, window, move |w, n| {
        let bus = bus.clone();
        let tag = tag.clone();
        async move {
            let contact = format!("55119{tag}{w:05}");
            let id = conversation_id(tenant, &contact).to_string();
            let md = CommandMetadata::new(
                Actor {
                    kind: ActorKind::Customer,
                    id: "whatsapp".into(),
                },
                Some(tenant),
            );
            bus.conversations
                .execute(
                    &id,
                    ConversationCommand::ReceiveMessage {
                        tenant_id: tenant,
                        contact_wa_id: Personal::new(contact),
                        contact_name: None,
                        provider_message_id: format!("wamid.bench.{tag}.{w}.{n}"),
                        content: MessageContent::Text(Personal::from(
                            "Olá! Qual é o horário de funcionamento no sábado?",
                        )),
                        sent_at: Utc::now(),
                    },
                    &md,
                )
                .await?;
            Ok(())
        }
    })
    .await
}

/// Single-row INSERT transactions of a real stored event's size, as pgbench would issue.
pub(super) async fn raw_ceiling(
    pool: &PgPool,
    writers: usize,
    tag: &str,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Measurement> {
    let (payload, metadata): (serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT payload, metadata FROM events WHERE event_type = $1 LIMIT 1")
            .bind(schemas::EventType::MessageReceived.as_str())
            .fetch_one(pool)
            .await?;
    let pool = pool.clone();
    let tag = Arc::new(tag.to_owned());
    let payload = Arc::new(payload);
    let metadata = Arc::new(metadata);
    measure(writers, warmup, window, move |w, n| {
        let pool = pool.clone();
        let payload = payload.clone();
        let metadata = metadata.clone();
        let tag = tag.clone();
        async move {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                 VALUES ('bench_raw', $1, $2, 'MessageReceived', '1', $3, $4)",
            )
            .bind(format!("raw-{tag}-{w}"))
            .bind(n as i64 + 1)
            .bind(&*payload)
            .bind(&*metadata)
            .execute(&pool)
            .await?;
            Ok(())
        }
    })
    .await
}

/// The run with the median throughput.
fn median(mut runs: Vec<Measurement>) -> Measurement {
    runs.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
    runs.swap_remove(runs.len() / 2)
}

#[allow(clippy::print_stdout)]
fn print_report(args: &AppendArgs, rows: &[Row]) {
    println!(
        "### bench append (median of {} interleaved runs of {} s after {} s warm-up, snapshot every {} events)\n",
        args.repeat, args.seconds, args.warmup_seconds, args.snapshot_every
    );
    println!("| writers | command ops/s | p50 ms | p99 ms | unsealed command ops/s | raw INSERT ops/s | raw p50 ms | raw p99 ms | command / raw | sealing cost |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {:.2} | {:.0}% | {:.1}% |",
            r.command.writers,
            r.command.ops_per_sec,
            r.command.p50_ms,
            r.command.p99_ms,
            r.plain.ops_per_sec,
            r.raw.ops_per_sec,
            r.raw.p50_ms,
            r.raw.p99_ms,
            100.0 * r.command.ops_per_sec / r.raw.ops_per_sec.max(f64::MIN_POSITIVE),
            100.0 * (1.0 - r.command.ops_per_sec / r.plain.ops_per_sec.max(f64::MIN_POSITIVE)),
        );
    }
}
