//! WhatsApp numbers are unique across tenants: claimed in one table.

use aggregates::tenant::{ClaimOutcome, PhoneNumberDirectory};
use aggregates::ServiceError;
use sqlx::PgPool;
use uuid::Uuid;

/// Claims numbers in `phone_number_claims`; the primary key makes two concurrent claims of
/// one number end with exactly one winner.
#[derive(Debug, Clone)]
pub struct PgPhoneNumberDirectory {
    pool: PgPool,
}

impl PgPhoneNumberDirectory {
    /// A directory over the pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait::async_trait]
impl PhoneNumberDirectory for PgPhoneNumberDirectory {
    async fn claim(
        &self,
        phone_number_id: &str,
        tenant: Uuid,
    ) -> Result<ClaimOutcome, ServiceError> {
        // The claim outlives a failed event write on purpose: the same tenant retrying gets
        // `AlreadyOurs`, and no other tenant can take the number meanwhile.
        let owner: (Uuid, bool) = sqlx::query_as(
            "WITH ins AS (
                INSERT INTO phone_number_claims (phone_number_id, tenant_id) VALUES ($1, $2)
                ON CONFLICT (phone_number_id) DO NOTHING
                RETURNING tenant_id)
             SELECT tenant_id, true FROM ins
             UNION ALL
             SELECT tenant_id, false FROM phone_number_claims WHERE phone_number_id = $1
             LIMIT 1",
        )
        .bind(phone_number_id)
        .bind(tenant)
        .fetch_one(&self.pool)
        .await
        .map_err(ServiceError::new)?;
        Ok(match owner {
            (_, true) => ClaimOutcome::Claimed,
            (t, false) if t == tenant => ClaimOutcome::AlreadyOurs,
            _ => ClaimOutcome::TakenByOther,
        })
    }
}
