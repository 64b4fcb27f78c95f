//! The stream consumer: subscription events → tenant suspension/reactivation, deadlines,
//! mails.

use super::notify::{self, Notice};
use super::{CANCELLED_REASON, CONSUMER, OVERDUE_REASON};
use aggregates::{ErrorKind, TenantCommand};
use chrono::{DateTime, Duration, Utc};
use commands::{CommandBus, CommandError};
use schemas::{Actor, CommandMetadata, EventType, StoredEvent};
use sqlx::PgConnection;
use std::fmt;
use std::sync::Arc;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

use integrations::mailer::PublicUrl;

/// Reacts to subscription events. Commands it issues are idempotent (suspending a
/// suspended tenant, reactivating an active one, changes nothing), so a crash between a
/// command and the checkpoint only repeats a no-op; deadlines and mails are written in the
/// checkpoint's transaction, so each happens once.
pub struct SubscriptionLifecycle {
    bus: Arc<CommandBus>,
    grace: Duration,
    public_url: PublicUrl,
}

impl fmt::Debug for SubscriptionLifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionLifecycle")
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl SubscriptionLifecycle {
    /// A consumer suspending tenants `grace_days` after their first unpaid failure.
    pub fn new(bus: Arc<CommandBus>, grace_days: u32, public_url: PublicUrl) -> Self {
        Self {
            bus,
            grace: Duration::days(i64::from(grace_days)),
            public_url,
        }
    }

    async fn tenant_command(
        &self,
        tenant: Uuid,
        command: TenantCommand,
        event: &StoredEvent,
    ) -> Result<bool, HandlerError> {
        let md = CommandMetadata::new(Actor::system(CONSUMER), Some(tenant)).with_idempotency_key(
            format!("{CONSUMER}:{}:{}", event.aggregate_id, event.sequence),
        );
        match self
            .bus
            .tenants
            .execute(&tenant.to_string(), command, &md)
            .await
        {
            Ok(()) => Ok(true),
            // A complimentary or half-provisioned subscription may have no tenant yet.
            Err(CommandError::Rejected {
                kind: ErrorKind::NotFound,
                ..
            }) => {
                tracing::warn!(%tenant, "the subscription's tenant is not registered; nothing to change");
                Ok(false)
            }
            Err(e) => Err(HandlerError::Rejected(format!(
                "tenant command failed: {e}"
            ))),
        }
    }

    async fn notice(
        &self,
        db: &mut PgConnection,
        tenant: Uuid,
        event: &StoredEvent,
        notice: Notice,
    ) -> Result<(), HandlerError> {
        let name = match self.bus.tenants.load(&tenant.to_string()).await {
            Ok((t, _)) => t.name().to_owned(),
            Err(e) => return Err(HandlerError::Rejected(format!("loading the tenant: {e}"))),
        };
        let key = format!("{}:{}:{}", notice.key(), event.aggregate_id, event.sequence);
        notify::send(db, tenant, &name, &key, notice, &self.public_url).await
    }
}

#[async_trait::async_trait]
impl EventHandler for SubscriptionLifecycle {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "subscription"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["subscription"]
    }

    #[tracing::instrument(name = "following a subscription's lifecycle", skip_all, fields(event = %event.event_type, id = %event.aggregate_id))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "subscription" {
            return Ok(());
        }
        // A subscription's id is its tenant's id.
        let tenant = Uuid::parse_str(&event.aggregate_id)
            .map_err(|_| HandlerError::Rejected("the subscription id is not a UUID".into()))?;
        match event.kind() {
            Some(EventType::PaymentFailed) => {
                // The first failure starts the grace period; later ones keep its end.
                sqlx::query(
                    "INSERT INTO billing_grace_deadlines (tenant_id, due_at) VALUES ($1, $2)
                     ON CONFLICT (tenant_id) DO NOTHING",
                )
                .bind(tenant)
                .bind(event.at()? + self.grace)
                .execute(&mut *db)
                .await?;
                let due: DateTime<Utc> = sqlx::query_scalar(
                    "SELECT due_at FROM billing_grace_deadlines WHERE tenant_id = $1",
                )
                .bind(tenant)
                .fetch_one(&mut *db)
                .await?;
                self.notice(
                    db,
                    tenant,
                    event,
                    Notice::PaymentFailed { grace_until: due },
                )
                .await?;
            }
            // A new subscription after a cancellation lifts the cancellation's suspension
            // as a payment lifts an overdue one.
            Some(EventType::PaymentSucceeded | EventType::SubscriptionStarted) => {
                sqlx::query("DELETE FROM billing_grace_deadlines WHERE tenant_id = $1")
                    .bind(tenant)
                    .execute(&mut *db)
                    .await?;
                let lifted = sqlx::query("DELETE FROM billing_suspensions WHERE tenant_id = $1")
                    .bind(tenant)
                    .execute(&mut *db)
                    .await?
                    .rows_affected()
                    > 0;
                // Only a suspension for billing is lifted by paying; an operator's stays.
                if lifted
                    && self
                        .tenant_command(tenant, TenantCommand::Reactivate, event)
                        .await?
                {
                    self.notice(db, tenant, event, Notice::Reactivated).await?;
                }
            }
            Some(EventType::GracePeriodExpired | EventType::SubscriptionCancelled) => {
                sqlx::query("DELETE FROM billing_grace_deadlines WHERE tenant_id = $1")
                    .bind(tenant)
                    .execute(&mut *db)
                    .await?;
                let reason = if event.is(EventType::GracePeriodExpired) {
                    OVERDUE_REASON
                } else {
                    CANCELLED_REASON
                };
                let suspend = TenantCommand::Suspend {
                    reason: reason.into(),
                };
                if self.tenant_command(tenant, suspend, event).await? {
                    sqlx::query(
                        "INSERT INTO billing_suspensions (tenant_id) VALUES ($1)
                         ON CONFLICT (tenant_id) DO NOTHING",
                    )
                    .bind(tenant)
                    .execute(&mut *db)
                    .await?;
                    self.notice(db, tenant, event, Notice::Suspended).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
