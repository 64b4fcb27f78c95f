//! Opening sealed message texts for the caller.

use crate::error::ApiError;
use commands::privacy::KeyRing;
use schemas::personal::{open_json, sealed_key_ids};
use serde_json::Value;

/// Replaces every sealed value in `values` by its clear text, or `[erased]` when its key is
/// gone; one key lookup for all of them.
pub(crate) async fn open_all(keys: &KeyRing, values: &mut [&mut Value]) -> Result<(), ApiError> {
    let mut ids = Vec::new();
    for v in values.iter() {
        sealed_key_ids(v, &mut ids);
    }
    if ids.is_empty() {
        return Ok(());
    }
    ids.sort_unstable();
    ids.dedup();
    let keys = keys.keys(&ids).await.map_err(ApiError::internal)?;
    for v in values.iter_mut() {
        open_json(v, &keys);
    }
    Ok(())
}
