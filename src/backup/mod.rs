//! `atende backup` and `atende restore`: a consistent copy of the database, with the event
//! chain's head recorded beside it so a restore can prove it brought back the same log.
//!
//! The dump is `pg_dump`'s custom format taken from a snapshot exported by a transaction
//! that also reads the chain head, so the recorded hash and the dumped events agree to the
//! event. The manifest (`<file>.manifest.json`) names the master key by fingerprint only:
//! the key itself never goes into a backup, and personal data in a restored log is
//! readable only with it.

mod schedule;
#[cfg(test)]
mod tests;

pub use schedule::{prune, spawn_daily, BackupSchedule, DailyBackups};

use crate::cli::progress::Bar;
use crate::database::{Database, DatabaseConfig};
use crate::keys;
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use migrations::cluster::Binaries;
use projections::audit::ChainHead;
use schemas::personal::MasterKey;
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// The manifest's format tag; a restore refuses manifests it does not know.
const FORMAT: &str = "atende-backup/1";

/// `atende backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the dump (the manifest goes beside it, as `<out>.manifest.json`).
    #[arg(long)]
    pub out: PathBuf,
}

/// `atende restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The dump `atende backup` wrote (its manifest must be beside it).
    pub backup: PathBuf,
}

/// Runs `atende backup`, printing the manifest as JSON.
#[allow(clippy::print_stdout)]
pub async fn run_backup(config: &DatabaseConfig, args: BackupArgs) -> anyhow::Result<()> {
    let key = keys::master_key(config)?;
    let db = Database::open(config).await?;
    let bar = Bar::bytes("dumping the database");
    let result = backup_watched(&db.url, &key, &args.out, Some(&bar)).await;
    bar.finish();
    db.close().await?;
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

/// Runs `atende restore`, printing the report as JSON.
#[allow(clippy::print_stdout)]
pub async fn run_restore(config: &DatabaseConfig, args: RestoreArgs) -> anyhow::Result<()> {
    let bar = Bar::new("restoring the dump", "links");
    let report = restore_watched(config, &args.backup, &bar).await;
    bar.finish();
    let report = report?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// What a backup records beside the dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// When the snapshot was taken.
    pub taken_at: DateTime<Utc>,
    /// The atende version that took it.
    pub atende_version: String,
    /// Events in the log at the snapshot.
    pub events: i64,
    /// The event chain's newest link at the snapshot.
    pub chain_head: ChainHead,
    /// The fingerprint of the master key the personal data is sealed under.
    pub master_key: String,
}

/// The manifest's path for a dump at `dump`.
pub fn manifest_path(dump: &Path) -> PathBuf {
    let mut name = dump.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

/// Writes a consistent dump of `db` to `out` and its manifest beside it. Nothing is left
/// at `out` unless the whole dump succeeded.
pub async fn backup(url: &str, key: &MasterKey, out: &Path) -> anyhow::Result<Manifest> {
    backup_watched(url, key, out, None).await
}

/// [`backup`], showing the bytes the dump has written so far on `bar`.
#[tracing::instrument(name = "backing up the database", skip_all, fields(out = %out.display()))]
pub async fn backup_watched(
    url: &str,
    key: &MasterKey,
    out: &Path,
    bar: Option<&Bar>,
) -> anyhow::Result<Manifest> {
    let pg_dump = Binaries::locate_client("pg_dump").context("finding pg_dump")?;
    let mut conn = PgConnection::connect(url)
        .await
        .context("connecting to PostgreSQL")?;
    let mut tx = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await?;
    let chain_head = projections::audit::chain_head(&mut tx).await?;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    let manifest = Manifest {
        format: FORMAT.into(),
        taken_at: Utc::now(),
        atende_version: env!("CARGO_PKG_VERSION").into(),
        events,
        chain_head,
        master_key: keys::fingerprint(key),
    };

    let partial = with_suffix(out, ".partial");
    // The exporting transaction must stay open until pg_dump has taken the snapshot; it
    // stays open to the end, which costs nothing for a read-only transaction.
    let mut command = Command::new(&pg_dump);
    command
        .arg("--format=custom")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--file")
        .arg(&partial)
        .arg("--dbname")
        .arg(url);
    let dump = command.output();
    let output = match bar {
        None => dump.await,
        Some(bar) => {
            tokio::pin!(dump);
            let mut every = tokio::time::interval(std::time::Duration::from_millis(200));
            loop {
                tokio::select! {
                    output = &mut dump => break output,
                    _ = every.tick() => {
                        if let Ok(meta) = std::fs::metadata(&partial) {
                            bar.set(meta.len());
                        }
                    }
                }
            }
        }
    }
    .with_context(|| format!("running {}", pg_dump.display()))?;
    tx.commit().await?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "pg_dump failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, out).with_context(|| format!("writing {}", out.display()))?;
    write_atomically(&manifest_path(out), &serde_json::to_vec_pretty(&manifest)?)?;
    tracing::info!(events, head = %manifest.chain_head.hash, "backup written");
    Ok(manifest)
}

/// What a restore reports.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// The manifest of the restored backup.
    pub manifest: Manifest,
    /// The chain verified after the restore.
    pub verify: projections::audit::VerifyReport,
}

/// Restores the dump at `backup` into the configured database, which must be empty (or,
/// embedded, a data dir without a cluster yet), then migrates it and verifies the chain
/// against the recorded head.
pub async fn restore(config: &DatabaseConfig, backup: &Path) -> anyhow::Result<RestoreReport> {
    restore_watched(config, backup, &Bar::hidden()).await
}

/// [`restore`], naming each stage on `bar` (`pg_restore` tells nothing of its progress),
/// then counting the links verified.
#[tracing::instrument(name = "restoring a backup", skip_all, fields(backup = %backup.display()))]
pub async fn restore_watched(
    config: &DatabaseConfig,
    backup: &Path,
    bar: &Bar,
) -> anyhow::Result<RestoreReport> {
    let manifest = read_manifest(backup)?;
    check_master_key(config, &manifest)?;
    if config.database_url.is_none() && config.data_dir.join("postgres").exists() {
        bail!(
            "the data dir {} already holds a database; restore into an empty data dir",
            config.data_dir.display()
        );
    }
    let pg_restore = Binaries::locate_client("pg_restore").context("finding pg_restore")?;
    let db = Database::open_unmigrated(config).await?;
    let result = restore_into(&db, &pg_restore, backup, manifest, bar).await;
    db.close().await?;
    result
}

async fn restore_into(
    db: &Database,
    pg_restore: &Path,
    backup: &Path,
    manifest: Manifest,
    bar: &Bar,
) -> anyhow::Result<RestoreReport> {
    let relations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg_toast%'",
    )
    .fetch_one(&db.pool)
    .await?;
    if relations > 0 {
        bail!("the target database is not empty ({relations} relations); restore into an empty database");
    }
    let output = Command::new(pg_restore)
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--exit-on-error")
        .arg("--single-transaction")
        .arg("--dbname")
        .arg(&db.url)
        .arg(backup)
        .output()
        .await
        .with_context(|| format!("running {}", pg_restore.display()))?;
    if !output.status.success() {
        bail!(
            "pg_restore failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    bar.say("moving transaction ids past the restored events");
    advance_transaction_ids(db).await?;
    bar.say("migrating");
    // A backup taken by an older atende gets the migrations it lacks.
    migrations::MIGRATOR
        .run(&db.pool)
        .await
        .context("applying database migrations")?;
    bar.say("verifying the restored event chain");
    let verify = projections::audit::verify_watched(&db.pool, bar)
        .await
        .context("verifying the restored event chain")?;
    if let Some(b) = &verify.first_break {
        bail!(
            "the restored event chain is broken at link {}: {}",
            b.link_no,
            b.detail
        );
    }
    if verify.head_hash != manifest.chain_head.hash {
        bail!(
            "the restored chain ends at {} but the backup recorded {}",
            verify.head_hash,
            manifest.chain_head.hash
        );
    }
    Ok(RestoreReport { manifest, verify })
}

/// Events are read in `(tx_id, position)` order and consumers resume after a stored
/// `tx_id`, so the next transaction on this server must get an id above every restored
/// one: a fresh server counts from a few hundred, and its events would otherwise sort
/// before the restored ones and be skipped by every consumer. Ids are spent in aborted
/// subtransactions, about a hundred thousand a second.
async fn advance_transaction_ids(db: &Database) -> anyhow::Result<()> {
    let newest: Option<i64> = sqlx::query_scalar("SELECT max(tx_id)::text::bigint FROM events")
        .fetch_one(&db.pool)
        .await?;
    let Some(newest) = newest else {
        return Ok(());
    };
    let mut conn = db.pool.acquire().await?;
    sqlx::query("CREATE TEMP TABLE IF NOT EXISTS restore_spent_ids (n int)")
        .execute(&mut *conn)
        .await?;
    loop {
        let next: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
            .fetch_one(&mut *conn)
            .await?;
        if next > newest {
            return Ok(());
        }
        let spend = (newest - next + 1).min(1_000_000);
        tracing::info!(
            remaining = newest - next + 1,
            "spending transaction ids past the restored events"
        );
        // An integer formatted by us, not input: DO blocks take no parameters.
        let block = format!(
            "DO $$ BEGIN FOR i IN 1..{spend} LOOP BEGIN INSERT INTO restore_spent_ids VALUES (1); \
             RAISE EXCEPTION 'spent'; EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END $$"
        );
        sqlx::raw_sql(&block).execute(&mut *conn).await?;
    }
}

fn read_manifest(backup: &Path) -> anyhow::Result<Manifest> {
    let path = manifest_path(backup);
    let text = std::fs::read(&path)
        .with_context(|| format!("reading the backup's manifest {}", path.display()))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .with_context(|| format!("reading the backup's manifest {}", path.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "{} is a {} manifest; this atende reads {FORMAT}",
            path.display(),
            manifest.format
        );
    }
    Ok(manifest)
}

/// Personal data is sealed under the master key: restoring it where another key is in use
/// would leave every name and message unreadable, so the restore stops first.
fn check_master_key(config: &DatabaseConfig, manifest: &Manifest) -> anyhow::Result<()> {
    match keys::existing_master_key(config)? {
        None => bail!(
            "this backup's personal data is sealed under master key {}: set ATENDE_MASTER_KEY \
             or put the key in {} before restoring",
            manifest.master_key,
            config.data_dir.join("master.key").display()
        ),
        Some(key) if keys::fingerprint(&key) != manifest.master_key => bail!(
            "this backup's personal data is sealed under master key {}, but the key in use is {}",
            manifest.master_key,
            keys::fingerprint(&key)
        ),
        Some(_) => Ok(()),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let partial = with_suffix(path, ".partial");
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
