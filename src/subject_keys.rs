//! The key ring as the projections' source of subject keys: projections may not depend on
//! the write side, so they define the trait and the binary implements it here (a newtype,
//! because both the trait and the ring belong to other crates).

use commands::privacy::KeyRing;
use projections::conversations::{KeysUnavailable, SubjectKeys};
use schemas::personal::KeySet;
use std::sync::Arc;
use uuid::Uuid;

/// [`KeyRing`] as a [`SubjectKeys`].
#[derive(Debug, Clone)]
pub struct RingKeys(pub Arc<KeyRing>);

#[async_trait::async_trait]
impl SubjectKeys for RingKeys {
    async fn keys(&self, ids: &[Uuid]) -> Result<KeySet, KeysUnavailable> {
        self.0
            .keys(ids)
            .await
            .map_err(|e| KeysUnavailable(e.to_string()))
    }
}
