//! `atende replay <projection>` / `atende replay --all`: rebuilds read models from the log
//! (F48) and swaps them in.
//!
//! Safe while `atende serve` runs against the same database: the swap takes the consumer's
//! fence, so the live runner pauses for it and resumes after the new checkpoint.

use crate::cli::progress::Bar;
use crate::database::{Database, DatabaseConfig};
use crate::subject_keys::RingKeys;
use anyhow::Context;
use clap::Args;
use commands::privacy::KeyRing;
use std::sync::Arc;
use stream::Tail;

/// Arguments of `atende replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The projection to rebuild (e.g. `aggregate_index`).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub projection: Option<String>,
    /// Rebuild every read model, reading the log once for all of them.
    #[arg(long)]
    pub all: bool,
}

/// Replays the projection (or every read model) and prints the report(s) as JSON.
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
    let chosen: Vec<Arc<dyn stream::EventHandler>> = match &args.projection {
        Some(name) => match registry.get(name) {
            Some(h) => vec![h],
            None => {
                db.close().await?;
                let known: Vec<_> = registry.iter().map(|h| h.name()).collect();
                anyhow::bail!("no projection named {name:?} (known: {})", known.join(", "));
            }
        },
        None => registry
            .iter()
            .filter(|h| !h.tables().is_empty())
            .cloned()
            .collect(),
    };
    let bar = Bar::new("replaying", "events");
    let result = stream::replay::replay_all_watched(
        &Tail::new(db.pool.clone()),
        &chosen,
        Arc::new(bar.clone()),
    )
    .await
    .context("replaying");
    bar.finish();
    db.close().await?;
    let reports = result?;
    match (&args.projection, reports.as_slice()) {
        (Some(_), [one]) => println!("{}", serde_json::to_string_pretty(one)?),
        _ => println!("{}", serde_json::to_string_pretty(&reports)?),
    }
    Ok(())
}
