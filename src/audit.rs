//! `atende audit …`: tamper evidence for auditors (F47).

use crate::cli::progress::Bar;
use crate::database::{Database, DatabaseConfig};
use anyhow::Context;
use clap::Subcommand;

/// Audit operations.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recomputes the event chain from the event log and prints the report as JSON; exits
    /// with status 1 when the chain is broken.
    Verify,
}

/// Runs an audit command, printing its JSON report on stdout. A broken chain is an error
/// (after the report is printed), so the process exits with status 1.
#[allow(clippy::print_stdout)]
pub async fn run(db_config: &DatabaseConfig, cmd: AuditCommand) -> anyhow::Result<()> {
    let db = Database::open(db_config).await?;
    let result = match cmd {
        AuditCommand::Verify => {
            let bar = Bar::new("verifying the event chain", "links");
            let report = projections::audit::verify_watched(&db.pool, &bar)
                .await
                .context("verifying the event chain");
            bar.finish();
            report
        }
    };
    db.close().await?;
    let report = result?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    match report.first_break {
        None => Ok(()),
        Some(b) => anyhow::bail!(
            "the event chain is broken at link {}: {}",
            b.link_no,
            b.detail
        ),
    }
}
