//! The `tenant_directory` projection.

use schemas::StoredEvent;
use serde_json::Value;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Keeps `tenant_directory` up to date.
#[derive(Debug, Clone, Copy)]
pub struct TenantDirectory;

/// A field of the event's body; payloads are externally tagged by the event type.
fn field<'a>(event: &'a StoredEvent, name: &str) -> Option<&'a Value> {
    event.payload.get(&event.event_type)?.get(name)
}

fn text_field(event: &StoredEvent, name: &str) -> Result<String, HandlerError> {
    field(event, name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            HandlerError::Rejected(format!("{} has no text field {name}", event.event_type))
        })
}

fn aggregate_uuid(event: &StoredEvent) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(&event.aggregate_id)
        .map_err(|_| HandlerError::Rejected("the aggregate id is not a uuid".into()))
}

impl TenantDirectory {
    async fn tenant_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let tenant = aggregate_uuid(event)?;
        if event.event_type == "TenantRegistered" {
            sqlx::query(
                "INSERT INTO tenant_directory (tenant_id, name, plan, status, registered_at,
                     updated_at, last_sequence, last_position)
                 VALUES ($1, $2, $3, 'active', $4, $4, $5, $6)
                 ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant)
            .bind(text_field(event, "name")?)
            .bind(text_field(event, "plan")?)
            .bind(event.recorded_at)
            .bind(event.sequence)
            .bind(event.position)
            .execute(db)
            .await?;
            return Ok(());
        }
        // Each update moves the row only forward in the tenant's own sequence, so an event
        // delivered again (a replay into an existing table) changes nothing.
        let (set, value): (&str, Option<String>) = match event.event_type.as_str() {
            "WhatsAppNumberLinked" => (
                "phone_number_id = $5",
                Some(text_field(event, "phone_number_id")?),
            ),
            "TenantSuspended" => ("status = 'suspended'", None),
            "TenantReactivated" => ("status = 'active'", None),
            "LocaleChanged" => ("locale = $5", Some(text_field(event, "locale")?)),
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
        let plan = match event.event_type.as_str() {
            "SubscriptionStarted" | "ComplimentarySubscriptionStarted" => {
                text_field(event, "plan")?
            }
            "PlanChanged" => text_field(event, "to")?,
            _ => return Ok(()),
        };
        // The subscription's id is its tenant's id. Events arrive in commit order and a
        // tenant is registered before it subscribes, so the row exists by now.
        sqlx::query(
            "UPDATE tenant_directory SET plan = $2, updated_at = $3,
                    last_position = GREATEST(last_position, $4)
              WHERE tenant_id = $1",
        )
        .bind(aggregate_uuid(event)?)
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
