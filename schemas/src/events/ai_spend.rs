//! Events of the `ai_spend_threshold` aggregate: the monthly AI spend thresholds admins set
//! (issue 18, the usage monitor). When a tenant's estimated AI cost in a UTC month reaches
//! its threshold, the admins are notified once that month.
//!
//! One aggregate per scope: the id `global` holds the threshold for every tenant without
//! its own, a tenant's id holds that tenant's, which overrides the global one. They are
//! kept apart from the tenant's own events because they are the operator's watch over a
//! tenant, not its configuration, and apart from the AI limits (which refuse answers): a
//! threshold only raises a notification. None of it is personal data.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The id of the aggregate that holds the global threshold.
pub const GLOBAL_AI_SPEND_SCOPE: &str = "global";

/// What happened to an AI spend threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum AiSpendEvent {
    /// An admin set the monthly AI spend threshold of a tenant (`tenant_id`) or, without
    /// one, the global threshold: from `at` on, a tenant whose estimated AI cost in a UTC
    /// month reaches `monthly_usd_cents` raises one admin notification that month.
    AiSpendThresholdSet {
        /// The tenant whose threshold this is; `None` for the global threshold.
        tenant_id: Option<Uuid>,
        /// The threshold, in US cents per UTC month (zero or more).
        monthly_usd_cents: i64,
        /// The admin who set it.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// An admin removed a threshold: a tenant's falls back to the global one; without a
    /// global one, nothing is watched.
    AiSpendThresholdCleared {
        /// The tenant whose threshold this was; `None` for the global threshold.
        tenant_id: Option<Uuid>,
        /// The admin who cleared it.
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

    /// One of every event, for the decoding tests.
    pub(crate) fn samples() -> Vec<AiSpendEvent> {
        vec![
            AiSpendEvent::AiSpendThresholdSet {
                tenant_id: Some(Uuid::from_u128(9)),
                monthly_usd_cents: 2_500,
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
            AiSpendEvent::AiSpendThresholdCleared {
                tenant_id: None,
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
        ]
    }

    #[test]
    fn a_threshold_set_names_its_tenant_and_its_cents_under_its_tag() {
        let event = samples().swap_remove(0);
        assert_eq!(tag(&event), "AiSpendThresholdSet");
        let value = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(
            value["AiSpendThresholdSet"]["tenant_id"],
            json!(Uuid::from_u128(9))
        );
        assert_eq!(value["AiSpendThresholdSet"]["monthly_usd_cents"], 2_500);
    }
}
