//! Whether a tenant may act, read straight from its events.

use aggregates::conversation::{TenantGate, TenantStatus};
use aggregates::ServiceError;
#[cfg(test)]
use schemas::events::TenantEvent;
use sqlx::PgPool;
use uuid::Uuid;

const REGISTERED: &str = "TenantRegistered";
const SUSPENDED: &str = "TenantSuspended";
const REACTIVATED: &str = "TenantReactivated";
const LIFECYCLE: [&str; 3] = [REGISTERED, SUSPENDED, REACTIVATED];

/// Answers from the tenant's latest lifecycle event: one indexed query, no full load of
/// the tenant (whose knowledge text can be large).
#[derive(Debug, Clone)]
pub struct EventStoreTenantGate {
    pool: PgPool,
}

impl EventStoreTenantGate {
    /// A gate over the event store in `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait::async_trait]
impl TenantGate for EventStoreTenantGate {
    async fn tenant_status(&self, tenant: Uuid) -> Result<TenantStatus, ServiceError> {
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT event_type FROM events
              WHERE aggregate_type = 'tenant' AND aggregate_id = $1
                AND event_type = ANY($2)
              ORDER BY sequence DESC
              LIMIT 1",
        )
        .bind(tenant.to_string())
        .bind(&LIFECYCLE[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(ServiceError::new)?;
        Ok(match latest.as_deref() {
            None => TenantStatus::Unknown,
            Some(SUSPENDED) => TenantStatus::Suspended,
            Some(_) => TenantStatus::Active,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_reads_event_types_the_tenant_really_records() {
        for t in LIFECYCLE {
            assert!(TenantEvent::EVENT_TYPES.contains(&t), "{t} is not a tenant event type");
        }
    }
}
