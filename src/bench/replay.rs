//! `atende bench replay`: how fast read models are rebuilt from the log — `aggregate_index`
//! alone, or (`--all`) every read model in one pass over the log.

use super::memory;
use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use crate::subject_keys::RingKeys;
use anyhow::Context;
use clap::Args;
use commands::privacy::KeyRing;
use projections::builtin::AggregateIndex;
use schemas::personal::MasterKey;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream::replay::{replay, replay_all_tuned, ReplayReport, Tuning};
use stream::{EventHandler, Tail};

/// Settings of `atende bench replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Events in the log.
    #[arg(long, default_value_t = 200_000)]
    pub events: i64,
    /// Rebuild every read model (one read of the log for all), not only `aggregate_index`.
    #[arg(long)]
    pub all: bool,
    /// With `--all`, rebuild only these read models (comma-separated names): what each
    /// costs on its own.
    #[arg(long, value_delimiter = ',', requires = "all")]
    pub only: Vec<String>,
    /// Events per read while catching up (default: the replay's own).
    #[arg(long, requires = "all")]
    pub batch: Option<i64>,
    /// Batches read ahead of the slowest read model (default: the replay's own).
    #[arg(long, requires = "all")]
    pub read_ahead: Option<usize>,
}

/// Memory of the benchmark's process around the replay.
#[derive(Debug, Clone, Copy)]
struct Memory {
    /// Resident before the replay (after the fill and the read-only pass).
    before: u64,
    /// The peak during the replay (the peak counter restarted just before it).
    replay_peak: u64,
    /// Whether the peak counter could be restarted; if not, `replay_peak` is the process's.
    reset: bool,
}

/// Fills a scratch database, times the replay, prints Markdown, drops the database.
pub async fn run(db_config: &DatabaseConfig, args: ReplayArgs) -> anyhow::Result<()> {
    // Room for every read model's transactions (two for those applied in lanes), the
    // reader and the progress updates: with fewer, a busy machine timed the reader out.
    let scratch = Scratch::open(db_config, 32).await?;
    let pool = scratch.pool.clone();
    let result = async {
        super::verify::fill(&pool, args.events).await?;
        sqlx::query("VACUUM ANALYZE events").execute(&pool).await?;
        let read = read_only(&Tail::new(pool.clone())).await?;
        tracing::info!("the log is filled and read once; replaying");
        let before = memory::rss_bytes().unwrap_or(0);
        let reset = memory::reset_peak();
        let started = Instant::now();
        let reports = if args.all {
            let keys = KeyRing::open(pool.clone(), MasterKey::generate())
                .await
                .context("opening the scratch subject keys")?;
            let registry = projections::builtin::registry(Arc::new(RingKeys(Arc::new(keys))));
            let models: Vec<Arc<dyn EventHandler>> = registry
                .iter()
                .filter(|h| !h.tables().is_empty())
                .filter(|h| args.only.is_empty() || args.only.iter().any(|n| n == h.name()))
                .cloned()
                .collect();
            let defaults = Tuning::default();
            let tuning = Tuning {
                batch: args.batch.unwrap_or(defaults.batch),
                read_ahead: args.read_ahead.unwrap_or(defaults.read_ahead),
            };
            replay_all_tuned(
                &Tail::new(pool.clone()),
                &models,
                tuning,
                Arc::new(stream::Unwatched),
            )
            .await
            .context("replaying every read model")?
        } else {
            vec![replay(&Tail::new(pool.clone()), Arc::new(AggregateIndex))
                .await
                .context("replaying aggregate_index")?]
        };
        let elapsed = started.elapsed();
        let memory = Memory {
            before,
            replay_peak: memory::peak_rss_bytes().unwrap_or(0),
            reset,
        };
        anyhow::Ok((read, elapsed, reports, memory))
    }
    .await;
    scratch.close().await?;
    let (read, elapsed, reports, memory) = result?;
    print_report(&args, read, elapsed, &reports, memory);
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_report(
    args: &ReplayArgs,
    read: Duration,
    elapsed: Duration,
    reports: &[ReplayReport],
    memory: Memory,
) {
    let rate = |d: Duration| args.events as f64 / d.as_secs_f64().max(f64::MIN_POSITIVE);
    println!(
        "### bench replay ({} events over 1000 conversations)\n",
        args.events
    );
    println!("| rebuilt | seconds | events/s |");
    println!("|---|---:|---:|");
    let names: Vec<&str> = reports.iter().map(|r| r.projection.as_str()).collect();
    println!(
        "| {} | {:.2} | {:.0} |",
        names.join(", "),
        elapsed.as_secs_f64(),
        rate(elapsed)
    );
    println!(
        "| (reading the log through the tail only) | {:.2} | {:.0} |",
        read.as_secs_f64(),
        rate(read)
    );
    println!(
        "\nPeak RSS during the replay: {:.0} MB{} (resident before it: {:.0} MB).",
        memory::mb(memory.replay_peak),
        if memory.reset {
            ""
        } else {
            ", the whole process's: the peak counter could not be restarted"
        },
        memory::mb(memory.before)
    );
    if reports.len() > 1 {
        println!("\n| read model | seconds in its transactions while catching up |");
        println!("|---|---:|");
        for r in reports {
            println!(
                "| {} | {:.2} |",
                r.projection,
                r.applying_ms as f64 / 1000.0
            );
        }
    }
}

/// Reads the whole log as a replay does, applying nothing: the reading share of a replay.
async fn read_only(tail: &Tail) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut at = stream::Checkpoint::START;
    loop {
        let batch = tail.read_after(at).await?;
        let Some(last) = batch.last() else {
            return Ok(started.elapsed());
        };
        at = stream::Checkpoint {
            tx_id: last.tx_id,
            position: last.position,
        };
    }
}
