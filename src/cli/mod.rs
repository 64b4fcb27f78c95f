//! Subcommands.

pub mod progress;

use crate::bench::BenchCommand;
use crate::database::{Database, DatabaseConfig};
use crate::serve::ServeConfig;
use crate::telemetry::TelemetryConfig;
use clap::{Parser, Subcommand};

/// atende: the WhatsApp AI attendant.
#[derive(Debug, Parser)]
#[command(name = "atende", version, about)]
pub struct Cli {
    /// Telemetry settings.
    #[command(flatten)]
    pub telemetry: TelemetryConfig,
    /// Database settings.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per process; boxing `serve`'s settings would only make every use noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the whole product: HTTP API, event stream and workers.
    // Boxed: the settings dwarf every other variant.
    Serve(Box<ServeConfig>),
    /// Runs stream consumers and background jobs without the HTTP API (`--only` picks).
    Worker(crate::worker::WorkerConfig),
    /// Applies database migrations and exits.
    Migrate,
    /// LGPD export and erasure, and the retention job.
    #[command(subcommand)]
    Privacy(crate::privacy::PrivacyCommand),
    /// Tamper evidence: verifies that nobody edited the event log.
    #[command(subcommand)]
    Audit(crate::audit::AuditCommand),
    /// Platform users: bootstraps admins, super admins and auditors.
    #[command(subcommand)]
    Admin(crate::admin::AdminCommand),
    /// Writes a consistent backup of the database, with the event chain's head beside it.
    Backup(crate::backup::BackupArgs),
    /// Restores a backup into an empty data dir or database, then verifies its chain.
    Restore(crate::backup::RestoreArgs),
    /// Rebuilds a read model from the event log and swaps it in while serving.
    Replay(crate::replay::ReplayArgs),
    /// Measures performance and prints a Markdown report.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => crate::serve::run(&cli.database, *config).await,
        Command::Worker(config) => crate::worker::run(&cli.database, config).await,
        Command::Migrate => {
            let db = Database::open(&cli.database).await?;
            tracing::info!("database migrations applied");
            db.close().await
        }
        Command::Privacy(cmd) => crate::privacy::run(&cli.database, cmd).await,
        Command::Audit(cmd) => crate::audit::run(&cli.database, cmd).await,
        Command::Admin(cmd) => crate::admin::run(&cli.database, cmd).await,
        Command::Backup(args) => crate::backup::run_backup(&cli.database, args).await,
        Command::Restore(args) => crate::backup::run_restore(&cli.database, args).await,
        Command::Replay(args) => crate::replay::run(&cli.database, args).await,
        Command::Bench(cmd) => crate::bench::run(&cli.database, cmd).await,
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    // Tests build `ServeConfig` directly, so a clash between two settings' argument ids
    // (which makes every real start panic) would otherwise go unnoticed.
    #[test]
    fn every_subcommand_and_setting_is_a_valid_command_line_definition() {
        Cli::command().debug_assert();
    }
}
