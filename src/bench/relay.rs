//! `atende bench relay`: how fast the relay moves a bulk-filled log into Kafka.

use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use crate::kafka::KafkaSettings;
use anyhow::Context;
use clap::Args;
use std::time::{Duration, Instant};
use stream::checkpoint;
use stream::Tail;

/// Settings of `atende bench relay`.
#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// Events in the log.
    #[arg(long, default_value_t = 200_000)]
    pub events: i64,
    /// The broker (`KAFKA_BROKERS` is required).
    #[command(flatten)]
    pub kafka: KafkaSettings,
}

/// Fills a scratch database, relays it into fresh topics, prints Markdown.
pub async fn run(db_config: &DatabaseConfig, args: RelayArgs) -> anyhow::Result<()> {
    let mut config = args
        .kafka
        .config()
        .context("bench relay needs a broker: set KAFKA_BROKERS")?;
    // Fresh topics per run, so the broker's earlier contents do not count.
    config.topic_prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let scratch = Scratch::open(db_config, 4).await?;
    let pool = scratch.pool.clone();
    let result = async {
        super::verify::fill(&pool, args.events).await?;
        let (last,): (i64,) = sqlx::query_as(
            "SELECT position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1",
        )
        .fetch_one(&pool)
        .await?;
        stream::kafka::ensure_topics(&config).await?;
        let started = Instant::now();
        let relay = workers::relay::spawn(Tail::new(pool.clone()).with_batch_size(10_000), config)?;
        loop {
            let at = checkpoint::load(&pool, workers::relay::RELAY).await?;
            if at.position >= last {
                break;
            }
            if let Some(e) = relay.status().last_error {
                tracing::warn!(error = e, "the relay reports an error");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed();
        relay.stop().await;
        anyhow::Ok(elapsed)
    }
    .await;
    scratch.close().await?;
    let elapsed = result?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "### bench relay ({} events over 1000 aggregates)\n",
            args.events
        );
        println!("| stage | seconds | events/s |");
        println!("|---|---:|---:|");
        println!(
            "| event store → Kafka (acknowledged, checkpointed) | {:.2} | {:.0} |",
            elapsed.as_secs_f64(),
            args.events as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}
