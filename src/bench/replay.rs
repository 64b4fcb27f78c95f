//! `atende bench replay`: how fast `aggregate_index` is rebuilt from the log.

use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use anyhow::Context;
use clap::Args;
use projections::builtin::AggregateIndex;
use projections::replay::replay;
use projections::Tail;
use std::time::{Duration, Instant};

/// Settings of `atende bench replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Events in the log.
    #[arg(long, default_value_t = 200_000)]
    pub events: i64,
}

/// Fills a scratch database, times a replay of `aggregate_index`, prints Markdown, drops the
/// database.
pub async fn run(db_config: &DatabaseConfig, args: ReplayArgs) -> anyhow::Result<()> {
    let scratch = Scratch::open(db_config, 4).await?;
    let pool = scratch.pool.clone();
    let result = async {
        super::verify::fill(&pool, args.events).await?;
        sqlx::query("VACUUM ANALYZE events").execute(&pool).await?;
        let read = read_only(&Tail::new(pool.clone())).await?;
        let report = replay(&Tail::new(pool.clone()), &AggregateIndex)
            .await
            .context("replaying aggregate_index")?;
        anyhow::Ok((read, report))
    }
    .await;
    scratch.close().await?;
    let (read, report) = result?;
    let elapsed = Duration::from_millis(report.elapsed_ms);
    #[allow(clippy::print_stdout)]
    {
        println!(
            "### bench replay ({} events over 1000 aggregates)\n",
            args.events
        );
        println!("| projection | seconds | events/s |");
        println!("|---|---:|---:|");
        println!(
            "| aggregate_index | {:.2} | {:.0} |",
            elapsed.as_secs_f64(),
            report.events as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
        );
        println!(
            "| (reading the log through the tail only) | {:.2} | {:.0} |",
            read.as_secs_f64(),
            args.events as f64 / read.as_secs_f64().max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}

/// Reads the whole log as a replay does, applying nothing: the reading share of a replay.
async fn read_only(tail: &Tail) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut at = projections::Checkpoint::START;
    loop {
        let batch = tail.read_after(at).await?;
        let Some(last) = batch.last() else {
            return Ok(started.elapsed());
        };
        at = projections::Checkpoint {
            tx_id: last.tx_id,
            position: last.position,
        };
    }
}
