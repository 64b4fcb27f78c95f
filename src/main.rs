//! The `atende` binary: configuration, telemetry, then the chosen subcommand.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = atende::cli::Cli::parse();
    let _guard = atende::telemetry::init(&cli.telemetry)?;
    atende::cli::run(cli).await
}
