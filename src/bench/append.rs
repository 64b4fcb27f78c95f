//! `atende bench append`: single-event commands vs the raw INSERT ceiling.

use super::measure::{measure, Measurement};
use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use aggregates::{ConversationCommand, RandomIds, SystemClock, TenantCommand};
use chrono::Utc;
use clap::Args;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig};
use projections::audit::EventChain;
use schemas::events::{MessageContent, Plan};
use schemas::personal::MasterKey;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::{CommitSignal, Runner, Tail};
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
    let (rows, chain) = result?;
    print_report(&args, &rows);
    print_chain(&chain);
    Ok(())
}

struct Row {
    command: Measurement,
    plain: Measurement,
    raw: Measurement,
    /// The raw INSERTs with the commit-order barrier's statement trigger switched off: what
    /// that trigger costs.
    untriggered: Measurement,
}

fn bus(
    pool: &PgPool,
    keys: &Arc<KeyRing>,
    args: &AppendArgs,
    seal: bool,
    signal: Option<CommitSignal>,
) -> Arc<CommandBus> {
    Arc::new(CommandBus::new(
        pool.clone(),
        Arc::new(SystemClock),
        Arc::new(RandomIds),
        &CommandBusConfig {
            snapshot_every: args.snapshot_every,
            seal_personal_data: seal,
        },
        Arc::new(move |_, _| {
            if let Some(s) = &signal {
                s.notify();
            }
        }),
        keys.clone(),
    ))
}

async fn bench(pool: &PgPool, args: &AppendArgs) -> anyhow::Result<(Vec<Row>, Chain)> {
    let keys = Arc::new(KeyRing::open(pool.clone(), MasterKey::generate()).await?);
    let sealed = bus(pool, &keys, args, true, None);
    let plain = bus(pool, &keys, args, false, None);
    let tenant = register(&sealed).await?;

    let warmup = Duration::from_secs(args.warmup_seconds);
    let window = Duration::from_secs(args.seconds);
    let mut rows = Vec::new();
    for (round, &writers) in args.writers.iter().enumerate() {
        let (mut cs, mut ps, mut rs, mut us) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
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
            us.push(without_barrier_trigger(pool, writers, &tag, warmup, window).await?);
        }
        let (command, plain, raw, untriggered) = (median(cs), median(ps), median(rs), median(us));
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
            untriggered,
        });
    }
    let signal = CommitSignal::new();
    let live = bus(pool, &keys, args, true, Some(signal.clone()));
    let writers = args.writers.iter().copied().max().unwrap_or(1);
    let chain = sealing_live(pool, live, &signal, tenant, writers, warmup, window).await?;
    Ok((rows, chain))
}

/// A tenant for the commands, registered by an admin.
async fn register(bus: &CommandBus) -> anyhow::Result<Uuid> {
    let tenant = Uuid::now_v7();
    let admin = CommandMetadata::new(
        Actor {
            kind: ActorKind::Admin,
            id: "bench".into(),
        },
        Some(tenant),
    );
    bus.tenants
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
    Ok(tenant)
}

/// The command path's peak with `writers` writers on a fresh tenant of `pool`, sealed
/// personal data, as `serve` appends (for `bench verify`'s comparison).
pub(super) async fn command_peak(
    pool: &PgPool,
    writers: usize,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Measurement> {
    let keys = Arc::new(KeyRing::open(pool.clone(), MasterKey::generate()).await?);
    let args = AppendArgs {
        writers: vec![writers],
        seconds: window.as_secs(),
        warmup_seconds: warmup.as_secs(),
        repeat: 1,
        snapshot_every: 50,
    };
    let sealed = bus(pool, &keys, &args, true, None);
    let tenant = register(&sealed).await?;
    commands(sealed, tenant, writers, "peak".into(), warmup, window).await
}

/// The event chain sealed live while commands append, as `serve` runs it.
struct Chain {
    command: Measurement,
    /// Events appended per second over the measured window.
    appended_per_sec: f64,
    /// Events the sealer linked per second over the same window.
    sealed_per_sec: f64,
    /// Events appended but not yet sealed, sampled every [`TAIL_SAMPLE`]: largest and p99.
    unsealed_max: u64,
    unsealed_p99: u64,
}

/// How often the unsealed tail is sampled.
const TAIL_SAMPLE: Duration = Duration::from_millis(20);

/// Commands from `writers` writers with the sealer running on the commit signal, as in
/// `serve`; the sealer first catches up with what the earlier runs appended.
async fn sealing_live(
    pool: &PgPool,
    bus: Arc<CommandBus>,
    signal: &CommitSignal,
    tenant: Uuid,
    writers: usize,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Chain> {
    let tail = Tail::new(pool.clone()).with_commit_signal(signal);
    let sealer = Runner::spawn(EventChain::new(), tail.clone());
    while tail.lag(sealer.status().checkpoint, 1).await? > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let load = tokio::spawn(commands(
        bus,
        tenant,
        writers,
        "chain".into(),
        warmup,
        window,
    ));
    tokio::time::sleep(warmup).await;
    let (head_from, sealed_from) = (tail.head_position().await?, sealer.status().applied);
    let began = std::time::Instant::now();
    let mut unsealed = hdrhistogram::Histogram::<u64>::new(3)?;
    while began.elapsed() < window {
        let lag = tail.lag(sealer.status().checkpoint, i64::MAX).await?;
        unsealed.record(u64::try_from(lag).unwrap_or(0))?;
        tokio::time::sleep(TAIL_SAMPLE).await;
    }
    let seconds = began.elapsed().as_secs_f64();
    let (head_to, sealed_to) = (tail.head_position().await?, sealer.status().applied);
    let command = load.await??;
    sealer.stop().await;
    Ok(Chain {
        command,
        appended_per_sec: (head_to - head_from) as f64 / seconds,
        sealed_per_sec: (sealed_to - sealed_from) as f64 / seconds,
        unsealed_max: unsealed.max(),
        unsealed_p99: unsealed.value_at_quantile(0.99),
    })
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

/// [`raw_ceiling`] with the trigger that takes the appenders' lock switched off for the run
/// (nothing else writes to the scratch log meanwhile, and it is dropped afterwards).
async fn without_barrier_trigger(
    pool: &PgPool,
    writers: usize,
    tag: &str,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Measurement> {
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_appender_lock")
        .execute(pool)
        .await?;
    let m = raw_ceiling(pool, writers, &format!("u{tag}"), warmup, window).await;
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_appender_lock")
        .execute(pool)
        .await?;
    m
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
    println!("| writers | command ops/s | p50 ms | p99 ms | unsealed command ops/s | raw INSERT ops/s | raw p50 ms | raw p99 ms | command / raw | sealing cost | raw without barrier trigger ops/s | trigger cost |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {:.2} | {:.0}% | {:.1}% | {:.0} | {:.1}% |",
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
            r.untriggered.ops_per_sec,
            100.0 * (1.0 - r.raw.ops_per_sec / r.untriggered.ops_per_sec.max(f64::MIN_POSITIVE)),
        );
    }
}

#[allow(clippy::print_stdout)]
fn print_chain(c: &Chain) {
    let seconds = |events: u64| events as f64 / c.appended_per_sec.max(f64::MIN_POSITIVE);
    println!(
        "\n#### the event chain sealed live ({} writers, the sealer on the commit signal as in `serve`)\n",
        c.command.writers
    );
    println!("| command ops/s | events appended/s | events sealed/s | unsealed tail p99 | unsealed tail max |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {:.0} | {:.0} | {:.0} | {} events ({:.3} s) | {} events ({:.3} s) |",
        c.command.ops_per_sec,
        c.appended_per_sec,
        c.sealed_per_sec,
        c.unsealed_p99,
        seconds(c.unsealed_p99),
        c.unsealed_max,
        seconds(c.unsealed_max),
    );
}
