//! `atende replay <projection>`: rebuilds a read model from the log (F48) and swaps it in.
//!
//! Safe while `atende serve` runs against the same database: the swap takes the consumer's
//! fence, so the live runner pauses for it and resumes after the new checkpoint.

use crate::database::{Database, DatabaseConfig};
use crate::subject_keys::RingKeys;
use anyhow::Context;
use clap::Args;
use commands::privacy::KeyRing;
use projections::Tail;
use std::sync::Arc;

/// Arguments of `atende replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The projection to rebuild (e.g. `aggregate_index`).
    pub projection: String,
}

/// Replays the projection and prints the report as JSON.
#[allow(clippy::print_stdout)]
pub async fn run(db_config: &DatabaseConfig, args: ReplayArgs) -> anyhow::Result<()> {
    // The conversations projection opens contacts with the subject keys, so a replay needs
    // the master key like `serve` does.
    let master = crate::keys::master_key(db_config)?;
    let db = Database::open(db_config).await?;
    let keys = match KeyRing::open(db.pool.clone(), master).await {
        Ok(keys) => Arc::new(keys),
        Err(e) => {
            db.close().await?;
            return Err(e).context("opening the subject keys");
        }
    };
    let registry = projections::builtin::registry(Arc::new(RingKeys(keys)));
    let Some(handler) = registry.get(&args.projection) else {
        db.close().await?;
        let known: Vec<_> = registry.iter().map(|h| h.name()).collect();
        anyhow::bail!(
            "no projection named {:?} (known: {})",
            args.projection,
            known.join(", ")
        );
    };
    let result = projections::replay::replay(&Tail::new(db.pool.clone()), handler.as_ref())
        .await
        .with_context(|| format!("replaying {}", args.projection));
    db.close().await?;
    let report = result?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
