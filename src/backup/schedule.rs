//! The daily backup `atende serve` takes when `ATENDE_BACKUP_DIR` is set.

use super::{backup, manifest_path};
use chrono::{DateTime, NaiveDateTime, Utc};
use clap::Args;
use schemas::personal::MasterKey;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often a backup is taken.
const EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// How often the schedule looks whether one is due (a process restarted near the hour
/// catches up within this).
const LOOK_EVERY: Duration = Duration::from_secs(3600);
const PREFIX: &str = "atende-";
const SUFFIX: &str = ".dump";
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// Where and how many daily backups `serve` keeps.
#[derive(Debug, Clone, Args)]
pub struct BackupSchedule {
    /// Directory for the daily backups `serve` takes; unset: none are taken.
    #[arg(long, env = "ATENDE_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How many daily backups to keep (the oldest beyond it are deleted).
    #[arg(long, env = "ATENDE_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_keep: u32,
}

/// The running schedule.
#[derive(Debug)]
pub struct DailyBackups {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl DailyBackups {
    /// Stops the schedule, letting a backup in progress finish.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the daily backups of the database at `url` when the schedule names a directory.
pub fn spawn_daily(url: String, key: MasterKey, schedule: &BackupSchedule) -> Option<DailyBackups> {
    let dir = schedule.backup_dir.clone()?;
    let keep = schedule.backup_keep as usize;
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            if let Err(e) = take_if_due(&url, &key, &dir, keep, Utc::now()).await {
                tracing::error!(error = format!("{e:#}"), dir = %dir.display(), "the daily backup failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(LOOK_EVERY) => {}
                _ = stopped.changed() => return,
            }
        }
    });
    Some(DailyBackups { stop, task })
}

#[tracing::instrument(name = "taking the daily backup if one is due", skip_all)]
pub(super) async fn take_if_due(
    url: &str,
    key: &MasterKey,
    dir: &Path,
    keep: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let newest = backups_in(dir)?.last().map(|(taken, _)| *taken);
    if !is_due(newest, now) {
        return Ok(());
    }
    let out = dir.join(format!("{PREFIX}{}{SUFFIX}", now.format(STAMP)));
    backup(url, key, &out).await?;
    prune(dir, keep)?;
    Ok(())
}

/// A backup is due when none was taken or the newest is a day old or more.
pub(super) fn is_due(newest: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    newest.is_none_or(|taken| now - taken >= EVERY)
}

/// Deletes all but the newest `keep` scheduled backups in `dir` (dumps and manifests);
/// files the schedule did not name are left alone.
pub fn prune(dir: &Path, keep: usize) -> anyhow::Result<()> {
    let backups = backups_in(dir)?;
    let excess = backups.len().saturating_sub(keep);
    for (_, dump) in &backups[..excess] {
        std::fs::remove_file(dump)?;
        let _ = std::fs::remove_file(manifest_path(dump));
        tracing::info!(dump = %dump.display(), "deleted an old backup");
    }
    Ok(())
}

/// The scheduled backups in `dir`, oldest first.
fn backups_in(dir: &Path) -> anyhow::Result<Vec<(DateTime<Utc>, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let taken = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(PREFIX)?.strip_suffix(SUFFIX))
            .and_then(|stamp| NaiveDateTime::parse_from_str(stamp, STAMP).ok());
        if let Some(taken) = taken {
            found.push((taken.and_utc(), path));
        }
    }
    found.sort();
    Ok(found)
}
