//! `atende privacy …`: LGPD export and erasure of a contact, and the retention job.

use crate::database::{Database, DatabaseConfig};
use aggregates::{RandomIds, SystemClock};
use clap::Subcommand;
use commands::privacy::{erase_contact, export_contact, KeyRing, PrivacyError};
use commands::{CommandBus, CommandBusConfig};
use schemas::{Actor, ActorKind, CommandMetadata};
use std::sync::Arc;
use uuid::Uuid;

/// Privacy operations.
#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Destroys a contact's keys (their personal data becomes `[erased]` everywhere) and
    /// records `SubjectErased`.
    Erase {
        /// The tenant.
        #[arg(long)]
        tenant: Uuid,
        /// The contact's WhatsApp id (phone number as WhatsApp sends it).
        #[arg(long)]
        contact: String,
        /// Why (kept in the log).
        #[arg(long, default_value = "data subject request")]
        reason: String,
        /// Who is erasing (kept in the log).
        #[arg(long, default_value = "cli")]
        operator: String,
    },
    /// Prints everything held about a contact as JSON.
    Export {
        /// The tenant.
        #[arg(long)]
        tenant: Uuid,
        /// The contact's WhatsApp id.
        #[arg(long)]
        contact: String,
    },
    /// Runs the retention job now: destroys daily contact keys past retention.
    Expire {
        /// Days message content stays readable.
        #[arg(long, env = "ATENDE_RETENTION_DAYS", default_value_t = 30)]
        retention_days: u32,
    },
}

/// Runs a privacy command, printing its JSON result on stdout.
#[allow(clippy::print_stdout)]
pub async fn run(db_config: &DatabaseConfig, cmd: PrivacyCommand) -> anyhow::Result<()> {
    let master = crate::keys::master_key(db_config)?;
    let db = Database::open(db_config).await?;
    let result = async {
        let keys = Arc::new(KeyRing::open(db.pool.clone(), master).await?);
        let output = match cmd {
            PrivacyCommand::Erase {
                tenant,
                contact,
                reason,
                operator,
            } => {
                let bus = CommandBus::new(
                    db.pool.clone(),
                    Arc::new(SystemClock),
                    Arc::new(RandomIds),
                    &CommandBusConfig::default(),
                    Arc::new(|_, _| {}),
                    keys.clone(),
                );
                let md = CommandMetadata::new(
                    Actor {
                        kind: ActorKind::Admin,
                        id: operator,
                    },
                    Some(tenant),
                );
                let erasure = erase_contact(&bus, &keys, tenant, &contact, &reason, &md)
                    .await
                    .map_err(not_found_is_clear)?;
                serde_json::to_string_pretty(&erasure)?
            }
            PrivacyCommand::Export { tenant, contact } => {
                // One read of the conversation's events, then opening them: a spinner, as
                // nothing is counted on the way.
                let bar = crate::cli::progress::Bar::new("exporting the contact's data", "events");
                let export = export_contact(&db.pool, &keys, tenant, &contact).await;
                bar.finish();
                let export = export.map_err(not_found_is_clear)?;
                serde_json::to_string_pretty(&export)?
            }
            PrivacyCommand::Expire { retention_days } => {
                let n = workers::retention::run_once(&db.pool, &keys, &SystemClock, retention_days)
                    .await?;
                serde_json::json!({ "keys_destroyed": n }).to_string()
            }
        };
        println!("{output}");
        anyhow::Ok(())
    }
    .await;
    db.close().await?;
    result
}

fn not_found_is_clear(e: PrivacyError) -> anyhow::Error {
    match e {
        PrivacyError::UnknownSubject => anyhow::anyhow!(
            "not found: no data is held about this contact of this tenant; nothing was recorded"
        ),
        other => anyhow::Error::new(other).context("the privacy operation failed"),
    }
}
