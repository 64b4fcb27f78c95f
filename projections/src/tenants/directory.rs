//! The `tenant_directory` projection.

use schemas::events::AiLimits;
use schemas::{EventType, StoredEvent};
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// A tenant's own AI limits as the directory keeps them (each unset one is the platform's
/// default); none for a tenant the directory does not know. The AI responder reads them for
/// every answer it counts, so an admin's change applies from the next one.
#[tracing::instrument(name = "reading a tenant's own AI limits", skip(db))]
pub async fn ai_limits(db: &mut PgConnection, tenant: Uuid) -> Result<AiLimits, sqlx::Error> {
    let limits: Option<sqlx::types::Json<AiLimits>> =
        sqlx::query_scalar("SELECT ai_limits FROM tenant_directory WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(db)
            .await?;
    Ok(limits.map(|l| l.0).unwrap_or_default())
}

/// Keeps `tenant_directory` up to date.
#[derive(Debug, Clone, Copy)]
pub struct TenantDirectory;

impl TenantDirectory {
    async fn tenant_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let tenant = event.aggregate_uuid()?;
        if event.is(EventType::TenantRegistered) {
            sqlx::query(
                "INSERT INTO tenant_directory (tenant_id, name, plan, status, registered_at,
                     updated_at, last_sequence, last_position)
                 VALUES ($1, $2, $3, 'active', $4, $4, $5, $6)
                 ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant)
            .bind(event.text("name")?)
            .bind(event.text("plan")?)
            .bind(event.recorded_at)
            .bind(event.sequence)
            .bind(event.position)
            .execute(db)
            .await?;
            return Ok(());
        }
        // Each update moves the row only forward in the tenant's own sequence, so an event
        // delivered again (a replay into an existing table) changes nothing.
        let (set, value): (&str, Option<String>) = match event.kind() {
            Some(EventType::WhatsAppNumberLinked) => (
                "phone_number_id = $5",
                Some(event.text("phone_number_id")?.to_owned()),
            ),
            Some(EventType::TenantSuspended) => ("status = 'suspended'", None),
            Some(EventType::TenantReactivated) => ("status = 'active'", None),
            Some(EventType::LocaleChanged) => {
                ("locale = $5", Some(event.text("locale")?.to_owned()))
            }
            Some(EventType::TenantRenamed) => ("name = $5", Some(event.text("name")?.to_owned())),
            // Per-tenant AI limits (issue 18): kept as typed, re-encoded.
            Some(EventType::AiLimitsChanged) => {
                let limits: AiLimits = event.value("limits")?;
                let json = serde_json::to_string(&limits)
                    .map_err(|e| HandlerError::Rejected(e.to_string()))?;
                ("ai_limits = $5::jsonb", Some(json))
            }
            _ => ("status = status", None),
        };
        sqlx::query(&format!(
            "UPDATE tenant_directory
                SET {set}, updated_at = $2, last_sequence = $3, last_position = $4
              WHERE tenant_id = $1 AND last_sequence < $3"
        ))
        .bind(tenant)
        .bind(event.recorded_at)
        .bind(event.sequence)
        .bind(event.position)
        .bind(value)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn subscription_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let plan = match event.kind() {
            Some(EventType::SubscriptionStarted | EventType::ComplimentarySubscriptionStarted) => {
                event.text("plan")?
            }
            Some(EventType::PlanChanged) => event.text("to")?,
            _ => return Ok(()),
        };
        // The subscription's id is its tenant's id. Events arrive in commit order and a
        // tenant is registered before it subscribes, so the row exists by now.
        sqlx::query(
            "UPDATE tenant_directory SET plan = $2, updated_at = $3,
                    last_position = GREATEST(last_position, $4)
              WHERE tenant_id = $1",
        )
        .bind(event.aggregate_uuid()?)
        .bind(plan)
        .bind(event.recorded_at)
        .bind(event.position)
        .execute(db)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for TenantDirectory {
    fn name(&self) -> &'static str {
        "tenant_directory"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["tenant", "subscription"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        matches!(event.aggregate_type.as_str(), "tenant" | "subscription")
    }

    // A subscription's plan change updates the row its tenant's registration created.
    fn needs_commit_order(&self) -> bool {
        true
    }

    fn tables(&self) -> &'static [&'static str] {
        &["tenant_directory"]
    }

    #[tracing::instrument(name = "projecting an event into the tenant directory", skip_all,
        fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        match event.aggregate_type.as_str() {
            "tenant" => self.tenant_event(db, event).await,
            "subscription" => self.subscription_event(db, event).await,
            _ => Ok(()),
        }
    }
}
