//! The `plan_catalogue` projection.

use schemas::events::PlanEvent;
use schemas::{AnyEvent, StoredEvent};
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};

/// Keeps `plan_catalogue` and `plan_revisions` up to date.
#[derive(Debug, Clone, Copy)]
pub struct PlanCatalogueModel;

impl PlanCatalogueModel {
    async fn apply(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        let decoded = match event.decode() {
            Ok(AnyEvent::Plan(e)) => e,
            Ok(other) => {
                return Err(HandlerError::Rejected(format!(
                    "{} is not a plan event",
                    other.kind()
                )))
            }
            Err(e) => return Err(HandlerError::Rejected(e.to_string())),
        };
        let plan = event.aggregate_id.as_str();
        let seq = event.sequence;
        match decoded {
            PlanEvent::PlanSet { spec, admin_id, at } => {
                let spec = serde_json::to_value(&spec)
                    .map_err(|e| HandlerError::Rejected(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO plan_catalogue AS p (plan_id, spec, changed_by, changed_at,
                         last_sequence)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (plan_id) DO UPDATE
                       SET spec = EXCLUDED.spec, changed_by = EXCLUDED.changed_by,
                           changed_at = EXCLUDED.changed_at,
                           last_sequence = EXCLUDED.last_sequence
                     WHERE p.last_sequence < EXCLUDED.last_sequence",
                )
                .bind(plan)
                .bind(&spec)
                .bind(admin_id)
                .bind(at)
                .bind(seq)
                .execute(&mut *db)
                .await?;
                sqlx::query(
                    "INSERT INTO plan_revisions (plan_id, sequence, spec, effective_at, admin_id)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (plan_id, sequence) DO NOTHING",
                )
                .bind(plan)
                .bind(seq)
                .bind(&spec)
                .bind(at)
                .bind(admin_id)
                .execute(&mut *db)
                .await?;
            }
            PlanEvent::PlanRetired { admin_id, at, .. } => {
                sqlx::query(
                    "INSERT INTO plan_catalogue AS p (plan_id, retired_at, retired_by,
                         changed_by, changed_at, last_sequence)
                     VALUES ($1, $2, $3, $3, $2, $4)
                     ON CONFLICT (plan_id) DO UPDATE
                       SET retired_at = EXCLUDED.retired_at, retired_by = EXCLUDED.retired_by,
                           changed_by = EXCLUDED.changed_by,
                           changed_at = EXCLUDED.changed_at,
                           last_sequence = EXCLUDED.last_sequence
                     WHERE p.last_sequence < EXCLUDED.last_sequence",
                )
                .bind(plan)
                .bind(at)
                .bind(admin_id)
                .bind(seq)
                .execute(&mut *db)
                .await?;
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for PlanCatalogueModel {
    fn name(&self) -> &'static str {
        "plan_catalogue"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["plan"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "plan"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["plan_catalogue", "plan_revisions"]
    }

    fn rows_per_aggregate(&self) -> bool {
        true
    }

    #[tracing::instrument(name = "projecting a plan event", skip_all,
        fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "plan" {
            return Ok(());
        }
        self.apply(db, event).await
    }
}
