//! Whether a tenant may act, read straight from its events.

use aggregates::conversation::{TenantGate, TenantStatus};
use aggregates::ServiceError;
use quick_cache::sync::Cache;
#[cfg(test)]
use schemas::events::TenantEvent;
use schemas::EventType;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The events that decide whether a tenant may act, by their stored names.
const LIFECYCLE: [&str; 3] = [
    EventType::TenantRegistered.as_str(),
    EventType::TenantSuspended.as_str(),
    EventType::TenantReactivated.as_str(),
];

/// How long a tenant's status is trusted without asking the store again. Commits of this
/// process invalidate it at once; this bounds how late another process's suspension is seen.
const STATUS_TTL: Duration = Duration::from_secs(1);

/// Answers from the tenant's latest lifecycle event (one indexed query, no full load of a
/// tenant whose knowledge text can be large), cached briefly because every conversation
/// command asks.
pub struct EventStoreTenantGate {
    pool: PgPool,
    cache: Cache<Uuid, (TenantStatus, Instant)>,
}

impl std::fmt::Debug for EventStoreTenantGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStoreTenantGate")
            .finish_non_exhaustive()
    }
}

impl EventStoreTenantGate {
    /// A gate over the event store in `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: Cache::new(10_000),
        }
    }

    /// Forgets what is known of `tenant`; called when this process commits a tenant event.
    pub fn invalidate(&self, tenant: &str) {
        if let Ok(id) = Uuid::parse_str(tenant) {
            self.cache.remove(&id);
        }
    }

    async fn read(&self, tenant: Uuid) -> Result<TenantStatus, ServiceError> {
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
        Ok(match latest.as_deref().map(EventType::parse) {
            None => TenantStatus::Unknown,
            Some(Some(EventType::TenantSuspended)) => TenantStatus::Suspended,
            Some(_) => TenantStatus::Active,
        })
    }
}

#[async_trait::async_trait]
impl TenantGate for EventStoreTenantGate {
    async fn tenant_status(&self, tenant: Uuid) -> Result<TenantStatus, ServiceError> {
        if let Some((status, at)) = self.cache.get(&tenant) {
            if at.elapsed() < STATUS_TTL {
                return Ok(status);
            }
        }
        let status = self.read(tenant).await?;
        self.cache.insert(tenant, (status, Instant::now()));
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_reads_event_types_the_tenant_really_records() {
        for t in LIFECYCLE {
            assert!(
                TenantEvent::EVENT_TYPES.contains(&t),
                "{t} is not a tenant event type"
            );
        }
    }
}
