//! `atende bench verify`: how fast the event chain is sealed and verified.

use super::append::command_peak;
use super::measure::Measurement;
use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use anyhow::Context;
use clap::Args;
use projections::audit::{seal_pending, verify, EventChain};
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// Settings of `atende bench verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Events in the log.
    #[arg(long, default_value_t = 200_000)]
    pub events: i64,
    /// Timed verifications; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Writers of the command-path peak the seal rate is compared with (`bench append`'s
    /// largest count by default).
    #[arg(long, default_value_t = 32)]
    pub peak_writers: usize,
    /// Measured seconds of that peak (after a one-second warm-up).
    #[arg(long, default_value_t = 5)]
    pub peak_seconds: u64,
}

/// Rows per INSERT statement (and transaction) when filling the log.
const FILL_CHUNK: i64 = 10_000;

/// Fills a scratch database, seals it, times `verify`, prints Markdown, drops the database.
pub async fn run(db_config: &DatabaseConfig, args: VerifyArgs) -> anyhow::Result<()> {
    let scratch = Scratch::open(db_config, args.peak_writers as u32 + 2).await?;
    let result = bench(&scratch.pool, &args).await;
    scratch.close().await?;
    print_report(&args, &result?);
    Ok(())
}

struct Outcome {
    payload_bytes: i64,
    seal: Duration,
    verify: Vec<Duration>,
    /// The command path's peak on the same database, after the timings.
    peak: Measurement,
}

async fn bench(pool: &PgPool, args: &VerifyArgs) -> anyhow::Result<Outcome> {
    fill(pool, args.events).await?;
    let payload_bytes: i64 = sqlx::query_scalar(
        "SELECT (avg(octet_length(payload::text) + octet_length(metadata::text)))::bigint FROM events",
    )
    .fetch_one(pool)
    .await?;
    sqlx::query("VACUUM ANALYZE events").execute(pool).await?;

    let started = Instant::now();
    let sealed = seal_pending(pool, &EventChain::new(), 1000).await?;
    let seal = started.elapsed();
    anyhow::ensure!(sealed as i64 == args.events, "sealed {sealed} events");
    sqlx::query("VACUUM ANALYZE event_chain")
        .execute(pool)
        .await?;
    tracing::info!(seconds = seal.as_secs_f64(), "sealed the log");

    let mut times = Vec::with_capacity(args.runs);
    for _ in 0..args.runs.max(1) {
        let started = Instant::now();
        let report = verify(pool).await?;
        times.push(started.elapsed());
        anyhow::ensure!(
            report.intact && report.checked as i64 == args.events,
            "verify did not find the whole chain intact: {report:?}"
        );
    }
    times.sort();
    let peak = command_peak(
        pool,
        args.peak_writers,
        Duration::from_secs(1),
        Duration::from_secs(args.peak_seconds),
    )
    .await?;
    Ok(Outcome {
        payload_bytes,
        seal,
        verify: times,
        peak,
    })
}

/// Appends `events` events shaped like stored `MessageReceived` ones (personal fields as
/// ciphertext envelopes), spread over 1000 conversations, `FILL_CHUNK` per transaction.
pub(super) async fn fill(pool: &PgPool, events: i64) -> anyhow::Result<()> {
    let bar = crate::cli::progress::Bar::of(
        "filling the event log",
        "events",
        u64::try_from(events).unwrap_or(0),
    );
    let mut from = 0;
    while from < events {
        let to = (from + FILL_CHUNK).min(events);
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT 'conversation', md5('conv-' || (g % 1000))::uuid::text, g / 1000 + 1,
                    'MessageReceived', '1',
                    jsonb_build_object('MessageReceived', jsonb_build_object(
                        'tenant_id', '0193a1b2-0000-7000-8000-000000000001',
                        'contact_wa_id', jsonb_build_object('$pii', jsonb_build_object(
                            'k', md5('k' || g % 1000)::uuid, 'n', left(md5('n' || g), 16),
                            'c', md5('c' || g) || md5('d' || g))),
                        'contact_name', NULL,
                        'provider_message_id', 'wamid.' || md5('w' || g),
                        'content', jsonb_build_object('text', jsonb_build_object('$pii',
                            jsonb_build_object('k', md5('k' || g % 1000)::uuid,
                                'n', left(md5('m' || g), 16),
                                'c', md5('t' || g) || md5('u' || g) || md5('v' || g)))),
                        'sent_at', now(), 'at', now())),
                    jsonb_build_object('request_id', md5('r' || g)::uuid,
                        'correlation_id', md5('o' || g)::uuid, 'causation_id', md5('a' || g)::uuid,
                        'actor_kind', 'customer', 'actor_id', 'whatsapp',
                        'tenant_id', '0193a1b2-0000-7000-8000-000000000001')
               FROM generate_series($1::bigint, $2::bigint - 1) AS g",
        )
        .bind(from)
        .bind(to)
        .execute(pool)
        .await
        .context("filling the event log")?;
        bar.inc(u64::try_from(to - from).unwrap_or(0));
        from = to;
    }
    bar.finish();
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_report(args: &VerifyArgs, o: &Outcome) {
    let per_sec = |d: Duration| args.events as f64 / d.as_secs_f64().max(f64::MIN_POSITIVE);
    let median = o.verify[o.verify.len() / 2];
    println!(
        "### bench verify ({} events, {} bytes of payload + metadata text on average, median of {} runs)\n",
        args.events,
        o.payload_bytes,
        o.verify.len()
    );
    println!("| step | seconds | events/s |");
    println!("|---|---:|---:|");
    println!(
        "| seal (sealer logic, 1000 events per transaction) | {:.2} | {:.0} |",
        o.seal.as_secs_f64(),
        per_sec(o.seal)
    );
    println!(
        "| verify (median) | {:.2} | {:.0} |",
        median.as_secs_f64(),
        per_sec(median)
    );
    println!(
        "| verify (fastest) | {:.2} | {:.0} |",
        o.verify[0].as_secs_f64(),
        per_sec(o.verify[0])
    );
    // One event per `ReceiveMessage` command: the peak in commands is the peak in events.
    println!(
        "\nseal rate beside the append peak: {:.0} events/s sealed, {:.0} events/s appended at the peak ({} writers, p99 {:.2} ms): **{:.1}×** the peak",
        per_sec(o.seal),
        o.peak.ops_per_sec,
        o.peak.writers,
        o.peak.p99_ms,
        per_sec(o.seal) / o.peak.ops_per_sec.max(f64::MIN_POSITIVE)
    );
}
