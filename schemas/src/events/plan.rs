//! Events of the `plan` aggregate: the commercial plans admins publish, revise and retire.
//!
//! One aggregate per plan, its id the plan's key. A `PlanSet` carries the plan's whole
//! spec: the first one publishes the plan, each later one revises it and takes effect at
//! its `at`, so a reader prices a subscription with the spec in force when it started.
//! The configured catalogue (built-in or `ATENDE_PLANS`) is the seed these events revise;
//! it writes no events. None of it is personal data.

use crate::plans::PlanSpec;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened to a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum PlanEvent {
    /// An admin published a plan or revised it: `spec` is its whole new spec, in force
    /// for new checkouts from `at` on.
    PlanSet {
        /// The plan's whole spec; its `id` is the aggregate id.
        spec: PlanSpec,
        /// The admin who set it.
        admin_id: Uuid,
        /// When it took effect.
        at: DateTime<Utc>,
    },
    /// An admin took the plan off sale: it can no longer be bought; subscriptions on it
    /// keep their terms.
    PlanRetired {
        /// The plan's key (also the aggregate id).
        plan_id: String,
        /// The admin who retired it.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::test_support::{at, tag};
    use serde_json::json;

    fn spec() -> PlanSpec {
        PlanSpec {
            id: "gold".into(),
            name: "Ouro".into(),
            monthly_price_cents: 59_900,
            currency: "brl".into(),
            monthly_ai_message_quota: Some(10_000),
            features: vec!["ai_answers".into(), "reports".into()],
            stripe_price_id: Some("price_gold".into()),
        }
    }

    /// One of every event, for the decoding tests.
    pub(crate) fn samples() -> Vec<PlanEvent> {
        vec![
            PlanEvent::PlanSet {
                spec: spec(),
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
            PlanEvent::PlanRetired {
                plan_id: "gold".into(),
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
        ]
    }

    #[test]
    fn a_plan_set_carries_the_whole_spec_under_its_tag() {
        let event = samples().swap_remove(0);
        assert_eq!(tag(&event), "PlanSet");
        let value = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(
            value["PlanSet"]["spec"],
            json!({"id": "gold", "name": "Ouro", "monthly_price_cents": 59_900,
                   "currency": "brl", "monthly_ai_message_quota": 10_000,
                   "features": ["ai_answers", "reports"], "stripe_price_id": "price_gold"})
        );
    }
}
