//! `admin_notifications` from the event stream (issue 18): a tenant registered, a payment
//! failed, a subscription cancelled. The table and its one writer, [`stream::notifications`],
//! belong to the stream runtime, because facts that are no events (a parked event, a job
//! given up, a quota reached, an IP blocked) raise notifications too, from crates beneath
//! and beside this one; this read model raises the ones events say.

use schemas::{AnyEvent, EventType, StoredEvent, SubscriptionEvent, TenantEvent};
use sqlx::PgConnection;
use stream::notifications::{raise, Notice};
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Raises an admin notification for each event admins are told about.
#[derive(Debug, Clone, Copy)]
pub struct AdminNotifications;

/// The event types that raise a notification.
const RAISING: [EventType; 3] = [
    EventType::TenantRegistered,
    EventType::PaymentFailed,
    EventType::SubscriptionCancelled,
];

impl AdminNotifications {
    /// The tenant's name as the directory has it (the directory reads the same tail; it
    /// may not have got this far, and then the notification names the tenant by id).
    async fn tenant_name(
        db: &mut PgConnection,
        tenant: Uuid,
    ) -> Result<Option<String>, HandlerError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM tenant_directory WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(db)
                .await?,
        )
    }
}

#[async_trait::async_trait]
impl EventHandler for AdminNotifications {
    fn name(&self) -> &'static str {
        "admin_notifications"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["tenant", "subscription"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.kind().is_some_and(|k| RAISING.contains(&k))
    }

    // A subscription's notification names its tenant, registered before it.
    fn needs_commit_order(&self) -> bool {
        true
    }

    #[tracing::instrument(name = "raising admin notifications from an event", skip_all,
        fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if !self.wants(event) {
            return Ok(());
        }
        let decoded = event
            .decode()
            .map_err(|e| HandlerError::Rejected(e.to_string()))?;
        let notice = match decoded {
            AnyEvent::Tenant(TenantEvent::TenantRegistered {
                tenant_id,
                name,
                plan,
                at,
                ..
            }) => Notice::tenant_registered(tenant_id, &name, &plan.0, at),
            AnyEvent::Subscription(SubscriptionEvent::PaymentFailed {
                invoice_id,
                attempt,
                at,
            }) => {
                // A subscription's id is its tenant's id.
                let tenant = event.aggregate_uuid()?;
                let name = Self::tenant_name(db, tenant).await?;
                Notice::payment_failed(tenant, name.as_deref(), &invoice_id, attempt, at)
            }
            AnyEvent::Subscription(SubscriptionEvent::SubscriptionCancelled { reason, at }) => {
                let tenant = event.aggregate_uuid()?;
                let name = Self::tenant_name(db, tenant).await?;
                Notice::subscription_cancelled(tenant, name.as_deref(), &reason, at)
            }
            _ => return Ok(()),
        };
        raise(db, &notice).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
