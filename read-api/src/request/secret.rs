//! The key that signs access tokens: `ATENDE_JWT_SECRET`, or one generated into the data dir.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;

/// HMAC-SHA256 keys shorter than the hash give away part of its strength.
const MIN_LEN: usize = 32;

/// The HS256 signing secret. Its bytes are the text as given; `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtSecret(Vec<u8>);

/// Why a secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Too short to be safe.
    #[error("the JWT secret must be at least {MIN_LEN} bytes long")]
    TooShort,
    /// The secret file could not be read or created.
    #[error("{what} {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl JwtSecret {
    /// A fresh random secret (32 random bytes, base64url).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes).into_bytes())
    }

    /// The secret's bytes, for the signing keys.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads the secret in `path`, generating that file (mode 0600) when it does not exist.
    pub fn load_or_generate(path: &Path) -> Result<Self, SecretError> {
        let io = |what, source| SecretError::Io {
            what,
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => text.trim().parse(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| io("creating the folder of", e))?;
                }
                let secret = Self::generate();
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| io("creating", e))?;
                file.write_all(&secret.0)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io("writing", e))?;
                tracing::info!(path = %path.display(), "generated a new JWT secret; processes serving the same users must share it");
                Ok(secret)
            }
            Err(e) => Err(io("reading", e)),
        }
    }
}

impl FromStr for JwtSecret {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() < MIN_LEN {
            return Err(SecretError::TooShort);
        }
        Ok(Self(s.as_bytes().to_vec()))
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused_and_debug_hides_the_secret() {
        assert!("short".parse::<JwtSecret>().is_err());
        let secret = JwtSecret::generate();
        assert!(secret.as_bytes().len() >= MIN_LEN);
        assert_eq!(format!("{secret:?}"), "JwtSecret(***)");
    }

    #[test]
    fn a_generated_secret_file_is_private_and_read_back_unchanged() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("atende-jwt-{}", uuid::Uuid::now_v7()));
        let path = dir.join("jwt.secret");
        let first = JwtSecret::load_or_generate(&path).unwrap_or_else(|e| panic!("{e}"));
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600));
        let again = JwtSecret::load_or_generate(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first, again);
        let _ = std::fs::remove_dir_all(dir);
    }
}
