//! The retention sweep's part in the read model (F9).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Clears the clear contact fields of conversations whose contact was last written before
/// `cutoff` and whose key is gone (retention destroys a contact's daily keys): exactly the
/// rows a replay would now build without them. Returns how many rows were cleared; running
/// it again clears nothing.
#[tracing::instrument(name = "forgetting contacts past retention", skip(pool))]
pub async fn forget_expired(pool: &PgPool, cutoff: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let cleared = sqlx::query(
        "UPDATE conversations c
            SET contact_phone = NULL, contact_name = NULL, contact_search = NULL,
                contact_key_id = NULL, contact_seen_at = NULL
          WHERE c.contact_key_id IS NOT NULL AND c.contact_seen_at < $1
            AND NOT EXISTS (SELECT 1 FROM subject_keys k WHERE k.key_id = c.contact_key_id)",
    )
    .bind(cutoff)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(cleared)
}
