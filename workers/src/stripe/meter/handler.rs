//! The `stripe_usage_meter` consumer: counts AI answers per tenant and billing period in
//! the runner's transaction (so each event counts once) and raises the quota alert.

use super::{fields, period, quota};
use crate::mailer::PublicUrl;
use chrono::{DateTime, NaiveDate, Utc};
use schemas::plans::PlanCatalogue;
use schemas::StoredEvent;
use sqlx::PgConnection;
use std::sync::Arc;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Counts AI answers for Stripe and for the quota alert.
#[derive(Debug, Clone)]
pub struct UsageMeter {
    plans: Arc<PlanCatalogue>,
    public_url: PublicUrl,
}

/// What the meter knows of a tenant when counting.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct MeteredTenant {
    pub name: Option<String>,
    pub plan: Option<String>,
    pub stripe_customer_id: Option<String>,
    pub billing_anchor: Option<NaiveDate>,
}

impl UsageMeter {
    /// The consumer name its checkpoint is stored under.
    pub const NAME: &'static str = "stripe_usage_meter";

    /// A meter judging quotas by `plans`; alert e-mails link to `public_url`.
    pub fn new(plans: Arc<PlanCatalogue>, public_url: PublicUrl) -> Self {
        Self { plans, public_url }
    }

    async fn tenant_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        if event.event_type != "TenantRegistered" {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO meter_tenants (tenant_id, name, registered_plan, last_tenant_sequence)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id) DO UPDATE SET name = EXCLUDED.name,
                 registered_plan = EXCLUDED.registered_plan,
                 last_tenant_sequence = EXCLUDED.last_tenant_sequence
             WHERE meter_tenants.last_tenant_sequence < EXCLUDED.last_tenant_sequence",
        )
        .bind(fields::aggregate_uuid(event)?)
        .bind(fields::text(event, "name").ok())
        .bind(fields::text(event, "plan")?)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn subscription_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let (plan, customer, anchor) = match event.event_type.as_str() {
            "SubscriptionStarted" => (
                Some(fields::text(event, "plan")?),
                Some(fields::text(event, "stripe_customer_id")?),
                Some(fields::at(event)?.date_naive()),
            ),
            "ComplimentarySubscriptionStarted" => (
                Some(fields::text(event, "plan")?),
                None,
                Some(fields::at(event)?.date_naive()),
            ),
            "PlanChanged" => (Some(fields::text(event, "to")?), None, None),
            _ => return Ok(()),
        };
        sqlx::query(
            "INSERT INTO meter_tenants (tenant_id, subscription_plan, stripe_customer_id,
                 billing_anchor, last_subscription_sequence)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id) DO UPDATE SET
                 subscription_plan = COALESCE(EXCLUDED.subscription_plan,
                                              meter_tenants.subscription_plan),
                 stripe_customer_id = COALESCE(EXCLUDED.stripe_customer_id,
                                               meter_tenants.stripe_customer_id),
                 billing_anchor = COALESCE(EXCLUDED.billing_anchor, meter_tenants.billing_anchor),
                 last_subscription_sequence = EXCLUDED.last_subscription_sequence
             WHERE meter_tenants.last_subscription_sequence < EXCLUDED.last_subscription_sequence",
        )
        .bind(fields::aggregate_uuid(event)?)
        .bind(plan)
        .bind(customer)
        .bind(anchor)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn conversation_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        // Only answers count; each names its tenant in its metadata, so the customers'
        // messages (most of the log) need no transaction here.
        if event.event_type != "AiReplied" {
            return Ok(());
        }
        let named = event
            .metadata
            .get("tenant_id")
            .and_then(|t| t.parse::<Uuid>().ok());
        let known: Option<(Uuid, i64)> = sqlx::query_as(
            "SELECT tenant_id, last_sequence FROM meter_conversations
              WHERE conversation_id = $1 FOR UPDATE",
        )
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *db)
        .await?;
        let tenant = match known {
            // Per-aggregate order holds in the tail, so anything not newer was counted: a
            // replayed or redelivered event is skipped.
            Some((_, applied)) if applied >= event.sequence => return Ok(()),
            Some((tenant, _)) => tenant,
            None => match named {
                Some(tenant) => tenant,
                None => return Ok(()),
            },
        };
        sqlx::query(
            "INSERT INTO meter_conversations (conversation_id, tenant_id, last_sequence)
             VALUES ($1, $2, $3)
             ON CONFLICT (conversation_id) DO UPDATE SET last_sequence = EXCLUDED.last_sequence",
        )
        .bind(&event.aggregate_id)
        .bind(tenant)
        .bind(event.sequence)
        .execute(&mut *db)
        .await?;
        self.count_answer(db, tenant, fields::at(event)?).await
    }

    async fn count_answer(
        &self,
        db: &mut PgConnection,
        tenant: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let info: Option<MeteredTenant> = sqlx::query_as(
            "SELECT name, COALESCE(subscription_plan, registered_plan) AS plan,
                    stripe_customer_id, billing_anchor
               FROM meter_tenants WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_optional(&mut *db)
        .await?;
        let info = info.unwrap_or(MeteredTenant {
            name: None,
            plan: None,
            stripe_customer_id: None,
            billing_anchor: None,
        });
        let (start, end) = period::containing(info.billing_anchor, at.date_naive());
        // Only answers given while the tenant has a Stripe customer are billed through Stripe;
        // every answer counts towards the quota.
        let billable = i64::from(info.stripe_customer_id.is_some());
        let used: i64 = sqlx::query_scalar(
            "INSERT INTO meter_usage (tenant_id, period_start, ai_replies, billable, last_at)
             VALUES ($1, $2, 1, $3, $4)
             ON CONFLICT (tenant_id, period_start) DO UPDATE SET
                 ai_replies = meter_usage.ai_replies + 1,
                 billable = meter_usage.billable + EXCLUDED.billable,
                 last_at = GREATEST(meter_usage.last_at, EXCLUDED.last_at)
             RETURNING ai_replies",
        )
        .bind(tenant)
        .bind(start)
        .bind(billable)
        .bind(at)
        .fetch_one(&mut *db)
        .await?;
        let quota = info
            .plan
            .as_deref()
            .and_then(|p| self.plans.get(p))
            .and_then(|p| p.monthly_ai_message_quota);
        if let (Some(quota), Some(plan)) = (quota, info.plan.as_deref()) {
            if quota::reached(used, quota) {
                let alert = quota::Alert {
                    tenant,
                    tenant_name: info.name.clone(),
                    plan,
                    quota,
                    used,
                    period_start: start,
                    period_end: end,
                    at,
                };
                quota::raise(db, &alert, &self.public_url).await?;
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for UsageMeter {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["tenant", "subscription", "conversation"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        match event.aggregate_type.as_str() {
            "tenant" | "subscription" => true,
            "conversation" => event.event_type == "AiReplied",
            _ => false,
        }
    }

    fn pace(&self) -> std::time::Duration {
        stream::BACKGROUND_PACE
    }

    #[tracing::instrument(name = "metering an event for Stripe usage billing", skip_all,
        fields(position = event.position, event_type = %event.event_type))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        match event.aggregate_type.as_str() {
            "tenant" => self.tenant_event(db, event).await,
            "subscription" => self.subscription_event(db, event).await,
            "conversation" => self.conversation_event(db, event).await,
            _ => Ok(()),
        }
    }
}
