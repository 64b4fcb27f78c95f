//! `atende bench …`: performance measurements printed as Markdown for BENCHMARKS.md.

mod append;
mod measure;
mod replay;
mod scratch;
mod verify;

use crate::database::DatabaseConfig;
use clap::Subcommand;

pub use measure::{measure, Measurement};

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Single-event command throughput and latency vs raw single-row INSERTs.
    Append(append::AppendArgs),
    /// Sealing and verifying the event chain over a bulk-filled log.
    Verify(verify::VerifyArgs),
    /// Rebuilding `aggregate_index` from a bulk-filled log.
    Replay(replay::ReplayArgs),
}

/// Runs one benchmark.
pub async fn run(db: &DatabaseConfig, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Append(args) => append::run(db, args).await,
        BenchCommand::Verify(args) => verify::run(db, args).await,
        BenchCommand::Replay(args) => replay::run(db, args).await,
    }
}
