//! The `tenant_usage` projection.

use chrono::NaiveDate;
use schemas::EventType;
use schemas::StoredEvent;
use sqlx::PgConnection;
use std::collections::{BTreeMap, HashMap};
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Keeps the usage tables up to date.
#[derive(Debug, Clone, Copy)]
pub struct TenantUsage;

impl TenantUsage {
    async fn tenant_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        if !event.is(EventType::TenantRegistered) {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO usage_tenants (tenant_id, registered_plan, last_tenant_sequence)
             VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE SET registered_plan = EXCLUDED.registered_plan,
                 last_tenant_sequence = EXCLUDED.last_tenant_sequence
             WHERE usage_tenants.last_tenant_sequence < EXCLUDED.last_tenant_sequence",
        )
        .bind(event.aggregate_uuid()?)
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
        let (plan, anchor) = match event.kind() {
            Some(EventType::SubscriptionStarted | EventType::ComplimentarySubscriptionStarted) => {
                (event.text("plan")?, Some(event.at()?))
            }
            Some(EventType::PlanChanged) => (event.text("to")?, None),
            _ => return Ok(()),
        };
        // The subscription's id is its tenant's id. `plan_since` mirrors the subscription
        // aggregate's: the start, or a change onto another plan (the quota bought is that
        // plan's revision in force then).
        sqlx::query(
            "INSERT INTO usage_tenants (tenant_id, subscription_plan, billing_anchor,
                 last_subscription_sequence, plan_since)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id) DO UPDATE SET
                 plan_since = CASE
                     WHEN EXCLUDED.billing_anchor IS NOT NULL
                       OR usage_tenants.subscription_plan IS DISTINCT FROM EXCLUDED.subscription_plan
                     THEN EXCLUDED.plan_since ELSE usage_tenants.plan_since END,
                 subscription_plan = EXCLUDED.subscription_plan,
                 billing_anchor = COALESCE(EXCLUDED.billing_anchor, usage_tenants.billing_anchor),
                 last_subscription_sequence = EXCLUDED.last_subscription_sequence
             WHERE usage_tenants.last_subscription_sequence < EXCLUDED.last_subscription_sequence",
        )
        .bind(event.aggregate_uuid()?)
        .bind(plan)
        .bind(anchor)
        .bind(event.sequence)
        .bind(event.at()?)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Counts a batch's customer messages and AI replies: the conversations' guards read in
    /// one query, the counts summed in memory, then written in one statement per table.
    async fn conversation_events(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows: Vec<(String, Uuid, i64)> = sqlx::query_as(
            "SELECT conversation_id, tenant_id, last_sequence FROM usage_conversations
              WHERE conversation_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?;
        let mut known: HashMap<String, (Uuid, i64, bool)> = rows
            .into_iter()
            .map(|(id, tenant, seq)| (id, (tenant, seq, false)))
            .collect();
        let mut inbound: BTreeMap<(Uuid, NaiveDate), i64> = BTreeMap::new();
        let mut replies: BTreeMap<(Uuid, NaiveDate, String), (i64, i64, i64)> = BTreeMap::new();
        for event in events {
            let (tenant, seq, changed) = match known.get_mut(&event.aggregate_id) {
                // Per-aggregate order holds in the tail, so anything not newer was applied.
                Some((_, applied, _)) if *applied >= event.sequence => continue,
                Some(k) => k,
                None if event.is(EventType::MessageReceived) => {
                    let tenant = event.uuid("tenant_id")?;
                    known
                        .entry(event.aggregate_id.clone())
                        .or_insert((tenant, 0, true))
                }
                None => continue,
            };
            *seq = event.sequence;
            *changed = true;
            let day = event.at()?.date_naive();
            if event.is(EventType::MessageReceived) {
                *inbound.entry((*tenant, day)).or_default() += 1;
            } else {
                let model = event.text("model")?.to_owned();
                let r = replies.entry((*tenant, day, model)).or_default();
                r.0 += 1;
                r.1 += event.integer("tokens_in")?;
                r.2 += event.integer("tokens_out")?;
            }
        }
        if !inbound.is_empty() {
            sqlx::query(
                "INSERT INTO usage_daily (tenant_id, day, inbound_messages)
                 SELECT * FROM unnest($1::uuid[], $2::date[], $3::int8[])
                 ON CONFLICT (tenant_id, day) DO UPDATE
                     SET inbound_messages = usage_daily.inbound_messages
                                            + EXCLUDED.inbound_messages",
            )
            .bind(inbound.keys().map(|k| k.0).collect::<Vec<_>>())
            .bind(inbound.keys().map(|k| k.1).collect::<Vec<_>>())
            .bind(inbound.values().copied().collect::<Vec<_>>())
            .execute(&mut *db)
            .await?;
        }
        if !replies.is_empty() {
            sqlx::query(
                "INSERT INTO usage_model_daily (tenant_id, day, model, ai_replies, tokens_in,
                     tokens_out)
                 SELECT * FROM unnest($1::uuid[], $2::date[], $3::text[], $4::int8[],
                                      $5::int8[], $6::int8[])
                 ON CONFLICT (tenant_id, day, model) DO UPDATE SET
                     ai_replies = usage_model_daily.ai_replies + EXCLUDED.ai_replies,
                     tokens_in = usage_model_daily.tokens_in + EXCLUDED.tokens_in,
                     tokens_out = usage_model_daily.tokens_out + EXCLUDED.tokens_out",
            )
            .bind(replies.keys().map(|k| k.0).collect::<Vec<_>>())
            .bind(replies.keys().map(|k| k.1).collect::<Vec<_>>())
            .bind(replies.keys().map(|k| k.2.as_str()).collect::<Vec<_>>())
            .bind(replies.values().map(|v| v.0).collect::<Vec<_>>())
            .bind(replies.values().map(|v| v.1).collect::<Vec<_>>())
            .bind(replies.values().map(|v| v.2).collect::<Vec<_>>())
            .execute(&mut *db)
            .await?;
        }
        let changed: Vec<(&String, &(Uuid, i64, bool))> =
            known.iter().filter(|(_, k)| k.2).collect();
        if !changed.is_empty() {
            sqlx::query(
                "INSERT INTO usage_conversations (conversation_id, tenant_id, last_sequence)
                 SELECT * FROM unnest($1::text[], $2::uuid[], $3::int8[])
                 ON CONFLICT (conversation_id) DO UPDATE
                     SET last_sequence = EXCLUDED.last_sequence",
            )
            .bind(
                changed
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(changed.iter().map(|(_, k)| k.0).collect::<Vec<_>>())
            .bind(changed.iter().map(|(_, k)| k.1).collect::<Vec<_>>())
            .execute(db)
            .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for TenantUsage {
    fn name(&self) -> &'static str {
        "tenant_usage"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["tenant", "subscription", "conversation"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        match event.aggregate_type.as_str() {
            "tenant" | "subscription" => true,
            "conversation" => matches!(
                event.kind(),
                Some(EventType::MessageReceived | EventType::AiReplied)
            ),
            _ => false,
        }
    }

    fn pace(&self) -> std::time::Duration {
        stream::handler::BACKGROUND_PACE
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "usage_tenants",
            "usage_conversations",
            "usage_daily",
            "usage_model_daily",
        ]
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.handle_batch(db, std::slice::from_ref(event)).await
    }

    #[tracing::instrument(name = "projecting events into tenant usage", skip_all,
        fields(events = events.len()))]
    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        // Tenant and subscription events touch only `usage_tenants` and conversation events
        // only the other tables, so applying the two groups apart keeps the log's effect.
        let mut counted = Vec::new();
        for event in events {
            match event.aggregate_type.as_str() {
                "tenant" => self.tenant_event(db, event).await?,
                "subscription" => self.subscription_event(db, event).await?,
                // Only these count; the guard needs only their sequences, because a later
                // counted event always has a higher one.
                "conversation"
                    if matches!(
                        event.kind(),
                        Some(EventType::MessageReceived | EventType::AiReplied)
                    ) =>
                {
                    counted.push(event);
                }
                _ => {}
            }
        }
        self.conversation_events(db, &counted).await
    }
}
