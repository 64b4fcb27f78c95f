//! The cluster's superuser password.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::ClusterError;

/// 244 random bits in hex: uuid v4 draws from the OS generator, and hex needs no escaping
/// in a connection URL.
pub(crate) fn generate() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Writes `secret` readable by its owner only. The mode is set again after opening
/// because `mode` applies only when the file is created.
pub(crate) fn write_private(path: &Path, secret: &str) -> Result<(), ClusterError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(ClusterError::io("create", path))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(ClusterError::io("restrict", path))?;
    file.write_all(secret.as_bytes())
        .map_err(ClusterError::io("write", path))?;
    file.sync_all().map_err(ClusterError::io("sync", path))
}

/// The stored secret, or `None` when the file does not exist.
pub(crate) fn read(path: &Path) -> Result<Option<String>, ClusterError> {
    match std::fs::read_to_string(path) {
        Ok(secret) => Ok(Some(secret.trim().to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClusterError::io("read", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_password_is_private_and_reads_back() {
        let path =
            std::env::temp_dir().join(format!("atende-secret-{}", uuid::Uuid::new_v4().simple()));
        let secret = generate();
        write_private(&path, &secret).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        let back = read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(mode, 0o600);
        assert_eq!(back.as_deref(), Some(secret.as_str()));
        assert_eq!(secret.len(), 64);
    }
}
