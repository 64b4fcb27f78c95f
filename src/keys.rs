//! The master key: `ATENDE_MASTER_KEY`, or one generated into the data dir.

use crate::database::DatabaseConfig;
use anyhow::Context;
use schemas::personal::MasterKey;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

/// Reads the master key from `ATENDE_MASTER_KEY`, else from `<data dir>/master.key`,
/// generating that file (mode 0600) on first run.
pub fn master_key(config: &DatabaseConfig) -> anyhow::Result<MasterKey> {
    if let Some(text) = &config.master_key {
        return MasterKey::from_base64(text).context("reading ATENDE_MASTER_KEY");
    }
    let path = config.data_dir.join("master.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::from_base64(&text)
            .with_context(|| format!("reading the master key in {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&config.data_dir)?;
            let key = MasterKey::generate();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            file.write_all(key.to_base64().as_bytes())?;
            file.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new master key; back it up: data sealed under it is unreadable without it");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The master key the process would use, without generating one: `None` when neither
/// `ATENDE_MASTER_KEY` nor `<data dir>/master.key` holds one.
pub fn existing_master_key(config: &DatabaseConfig) -> anyhow::Result<Option<MasterKey>> {
    if let Some(text) = &config.master_key {
        return Ok(Some(
            MasterKey::from_base64(text).context("reading ATENDE_MASTER_KEY")?,
        ));
    }
    let path = config.data_dir.join("master.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(MasterKey::from_base64(&text).with_context(|| {
            format!("reading the master key in {}", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// A short, non-secret name of a master key (the start of its SHA-256), recorded in backups
/// so a restore can tell the key it needs before personal data turns out unreadable.
pub fn fingerprint(key: &MasterKey) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.to_base64().as_bytes());
    hex::encode(&digest[..8])
}
