//! `atende replay <projection>`: rebuilds a read model from the log (F48) and swaps it in.
//!
//! Safe while `atende serve` runs against the same database: the swap takes the consumer's
//! fence, so the live runner pauses for it and resumes after the new checkpoint.

use crate::database::{Database, DatabaseConfig};
use anyhow::Context;
use clap::Args;
use projections::Tail;

/// Arguments of `atende replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The projection to rebuild (e.g. `aggregate_index`).
    pub projection: String,
}

/// Replays the projection and prints the report as JSON.
#[allow(clippy::print_stdout)]
pub async fn run(db_config: &DatabaseConfig, args: ReplayArgs) -> anyhow::Result<()> {
    let registry = projections::builtin::registry();
    let Some(handler) = registry.get(&args.projection) else {
        let known: Vec<_> = registry.iter().map(|h| h.name()).collect();
        anyhow::bail!(
            "no projection named {:?} (known: {})",
            args.projection,
            known.join(", ")
        );
    };
    let db = Database::open(db_config).await?;
    let result = projections::replay::replay(&Tail::new(db.pool.clone()), handler.as_ref())
        .await
        .with_context(|| format!("replaying {}", args.projection));
    db.close().await?;
    let report = result?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
