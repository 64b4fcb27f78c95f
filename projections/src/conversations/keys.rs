//! Where the projection gets data subjects' keys from. A trait, so this crate stays free of
//! the write side: the binary implements it over the key ring.

use schemas::personal::KeySet;
use uuid::Uuid;

/// The keys could not be read; the runner retries the batch, then parks it.
#[derive(Debug, thiserror::Error)]
#[error("the subject keys are unavailable: {0}")]
pub struct KeysUnavailable(pub String);

/// Data subjects' keys, by key id.
#[async_trait::async_trait]
pub trait SubjectKeys: Send + Sync + 'static {
    /// The keys among `ids` that still exist; a destroyed key is simply absent, so what it
    /// sealed opens as `[erased]`.
    async fn keys(&self, ids: &[Uuid]) -> Result<KeySet, KeysUnavailable>;
}
