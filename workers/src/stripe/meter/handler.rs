//! The `stripe_usage_meter` consumer: counts AI answers per tenant and billing period in
//! the runner's transaction (so each event counts once) and raises the quota alert.

use super::quota;
use chrono::{DateTime, NaiveDate, Utc};
use integrations::mailer::PublicUrl;
use schemas::plans::PlanCatalogue;
use schemas::{BillingPeriod, EventType, StoredEvent};
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
    pub plan_since: Option<DateTime<Utc>>,
}

impl UsageMeter {
    /// The consumer name its checkpoint is stored under.
    pub const NAME: &'static str = "stripe_usage_meter";

    /// A meter judging quotas by `plans` (the seed admins' revisions are laid over); alert
    /// e-mails link to `public_url`.
    pub fn new(plans: Arc<PlanCatalogue>, public_url: PublicUrl) -> Self {
        Self { plans, public_url }
    }

    async fn tenant_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        if !event.is(EventType::TenantRegistered) {
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
        .bind(event.aggregate_uuid()?)
        .bind(event.text("name").ok())
        .bind(event.text("plan")?)
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
        let (plan, customer, anchor) = match event.kind() {
            Some(EventType::SubscriptionStarted) => (
                Some(event.text("plan")?),
                Some(event.text("stripe_customer_id")?),
                Some(event.at()?.date_naive()),
            ),
            Some(EventType::ComplimentarySubscriptionStarted) => (
                Some(event.text("plan")?),
                None,
                Some(event.at()?.date_naive()),
            ),
            Some(EventType::PlanChanged) => (Some(event.text("to")?), None, None),
            _ => return Ok(()),
        };
        // `plan_since` mirrors the subscription aggregate's: the start, or a change onto
        // another plan (the quota bought is that plan's revision in force then).
        sqlx::query(
            "INSERT INTO meter_tenants (tenant_id, subscription_plan, stripe_customer_id,
                 billing_anchor, last_subscription_sequence, plan_since)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant_id) DO UPDATE SET
                 plan_since = CASE
                     WHEN EXCLUDED.billing_anchor IS NOT NULL
                       OR meter_tenants.subscription_plan IS DISTINCT FROM EXCLUDED.subscription_plan
                     THEN EXCLUDED.plan_since ELSE meter_tenants.plan_since END,
                 subscription_plan = COALESCE(EXCLUDED.subscription_plan,
                                              meter_tenants.subscription_plan),
                 stripe_customer_id = COALESCE(EXCLUDED.stripe_customer_id,
                                               meter_tenants.stripe_customer_id),
                 billing_anchor = COALESCE(EXCLUDED.billing_anchor, meter_tenants.billing_anchor),
                 last_subscription_sequence = EXCLUDED.last_subscription_sequence
             WHERE meter_tenants.last_subscription_sequence < EXCLUDED.last_subscription_sequence",
        )
        .bind(event.aggregate_uuid()?)
        .bind(plan)
        .bind(customer)
        .bind(anchor)
        .bind(event.sequence)
        .bind(event.at()?)
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
        if !event.is(EventType::AiReplied) {
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
        self.count_answer(db, tenant, event.at()?).await
    }

    async fn count_answer(
        &self,
        db: &mut PgConnection,
        tenant: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let info: Option<MeteredTenant> = sqlx::query_as(
            "SELECT name, COALESCE(subscription_plan, registered_plan) AS plan,
                    stripe_customer_id, billing_anchor,
                    CASE WHEN subscription_plan IS NOT NULL THEN plan_since END AS plan_since
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
            plan_since: None,
        });
        let BillingPeriod { start, end } =
            BillingPeriod::containing(info.billing_anchor, at.date_naive());
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
        let Some(plan) = info.plan.as_deref() else {
            return Ok(());
        };
        // The quota the tenant bought, as the AI responder judges it: the plan's revision in
        // force when the subscription moved onto the plan (the catalogue in force when that
        // is unknown), read in this transaction for this plan only.
        let quota = projections::plans::PlanHistory::load_plan(db, &self.plans, plan)
            .await?
            .quota_bought(plan, info.plan_since);
        if let Some(quota) = quota {
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
            "conversation" => event.is(EventType::AiReplied),
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
