//! Events of the `subscription` aggregate: a tenant's paid plan as Stripe reports it
//! (F20–F23).

use super::Plan;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// In a free trial that has not ended yet.
    Trialing,
    /// Paid and in good standing.
    Active,
    /// A payment failed; the grace period runs.
    PastDue,
    /// The grace period ended unpaid; service is suspended until a payment succeeds.
    Suspended,
    /// Cancelled; final.
    Cancelled,
}

impl SubscriptionStatus {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Suspended => "suspended",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What happened to a subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum SubscriptionEvent {
    /// A Stripe Checkout completed and the subscription exists.
    SubscriptionStarted {
        /// The tenant it pays for.
        tenant_id: Uuid,
        /// Stripe's customer id (`cus_…`).
        stripe_customer_id: String,
        /// Stripe's subscription id (`sub_…`).
        stripe_subscription_id: String,
        /// The plan bought.
        plan: Plan,
        /// When the trial ends, if there is one.
        trial_end: Option<DateTime<Utc>>,
        /// `trialing` when the trial ended after `at`, else `active`.
        status: SubscriptionStatus,
        /// When.
        at: DateTime<Utc>,
    },
    /// An invoice was paid; the subscription is active (again).
    PaymentSucceeded {
        /// Stripe's invoice id (`in_…`); each is recorded once.
        invoice_id: String,
        /// Amount paid, in the currency's minor unit.
        amount_cents: i64,
        /// ISO 4217 code, lower case as Stripe sends it.
        currency: String,
        /// The end of the period the invoice pays for.
        period_end: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A payment attempt for an invoice failed.
    PaymentFailed {
        /// Stripe's invoice id.
        invoice_id: String,
        /// Stripe's attempt count for that invoice, from 1.
        attempt: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// The grace period after a failed payment ended unpaid; the service is suspended.
    GracePeriodExpired {
        /// When.
        at: DateTime<Utc>,
    },
    /// The subscription was cancelled; nothing follows.
    SubscriptionCancelled {
        /// Why (Stripe's reason or an operator's note).
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// An operator gave the tenant a plan without Stripe (onboarding by an admin, F43); it
    /// is active at once and no payment is expected.
    ComplimentarySubscriptionStarted {
        /// The tenant it is for.
        tenant_id: Uuid,
        /// The plan given.
        plan: Plan,
        /// Always `active`: nothing is owed.
        status: SubscriptionStatus,
        /// When.
        at: DateTime<Utc>,
    },
    /// The subscription moved to another plan.
    PlanChanged {
        /// The plan before.
        from: Plan,
        /// The plan from now on.
        to: Plan,
        /// When.
        at: DateTime<Utc>,
    },
    /// A Stripe Checkout completed for a customer whose tenant does not exist yet; the
    /// subscription starts once the first payment is known (F22).
    CheckoutCompleted {
        /// Stripe's customer id (`cus_…`).
        stripe_customer_id: String,
        /// Stripe's subscription id (`sub_…`).
        stripe_subscription_id: String,
        /// The plan bought (the checkout's `metadata.plan`).
        plan: Plan,
        /// When.
        at: DateTime<Utc>,
    },
    /// An invoice was paid before the subscription started (Stripe delivers webhooks in
    /// any order); it is recorded as `PaymentSucceeded` right after `SubscriptionStarted`.
    PaymentHeld {
        /// Stripe's invoice id (`in_…`); each is held once.
        invoice_id: String,
        /// Amount paid, in the currency's minor unit.
        amount_cents: i64,
        /// ISO 4217 code, lower case.
        currency: String,
        /// The end of the period the invoice pays for.
        period_end: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The customer scheduled (or unscheduled) the cancellation at the end of the period.
    CancelAtPeriodEndChanged {
        /// Whether the subscription ends with the current period.
        cancel_at_period_end: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// Stripe refunded (part of) a recorded payment (issue 18). Recorded from Stripe's
    /// webhook once the refund succeeded, never from the request that asked for it; each
    /// refund is recorded once. Revenue counts it in the month of `at`, net of the payment.
    PaymentRefunded {
        /// Stripe's refund id (`re_…`); each is recorded once.
        refund_id: String,
        /// The invoice whose payment it returns (a `PaymentSucceeded` of this subscription).
        invoice_id: String,
        /// Amount returned, in the currency's minor unit; above zero.
        amount_cents: i64,
        /// ISO 4217 code, lower case.
        currency: String,
        /// When it was recorded.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::test_support::{at, tag};
    use serde_json::json;

    pub(crate) fn samples() -> Vec<SubscriptionEvent> {
        vec![
            SubscriptionEvent::SubscriptionStarted {
                tenant_id: Uuid::from_u128(1),
                stripe_customer_id: "cus_1".into(),
                stripe_subscription_id: "sub_1".into(),
                plan: "pro".into(),
                trial_end: None,
                status: SubscriptionStatus::Active,
                at: at(),
            },
            SubscriptionEvent::PaymentSucceeded {
                invoice_id: "in_1".into(),
                amount_cents: 9900,
                currency: "brl".into(),
                period_end: at(),
                at: at(),
            },
            SubscriptionEvent::PaymentFailed {
                invoice_id: "in_2".into(),
                attempt: 1,
                at: at(),
            },
            SubscriptionEvent::GracePeriodExpired { at: at() },
            SubscriptionEvent::SubscriptionCancelled {
                reason: "requested".into(),
                at: at(),
            },
            SubscriptionEvent::PlanChanged {
                from: "starter".into(),
                to: "pro".into(),
                at: at(),
            },
            SubscriptionEvent::ComplimentarySubscriptionStarted {
                tenant_id: Uuid::from_u128(1),
                plan: "pro".into(),
                status: SubscriptionStatus::Active,
                at: at(),
            },
            SubscriptionEvent::CheckoutCompleted {
                stripe_customer_id: "cus_1".into(),
                stripe_subscription_id: "sub_1".into(),
                plan: "pro".into(),
                at: at(),
            },
            SubscriptionEvent::PaymentHeld {
                invoice_id: "in_1".into(),
                amount_cents: 9900,
                currency: "brl".into(),
                period_end: at(),
                at: at(),
            },
            SubscriptionEvent::CancelAtPeriodEndChanged {
                cancel_at_period_end: true,
                at: at(),
            },
            SubscriptionEvent::PaymentRefunded {
                refund_id: "re_1".into(),
                invoice_id: "in_1".into(),
                amount_cents: 1500,
                currency: "brl".into(),
                at: at(),
            },
        ]
    }

    #[test]
    fn every_variant_is_listed_and_tagged_by_its_type_name() {
        let samples = samples();
        let names: Vec<_> = samples.iter().map(SubscriptionEvent::type_name).collect();
        assert_eq!(names, SubscriptionEvent::EVENT_TYPES);
        for e in &samples {
            assert_eq!(tag(e), e.type_name());
            let back: SubscriptionEvent =
                serde_json::from_value(serde_json::to_value(e).expect("ser")).expect("de");
            assert_eq!(&back, e);
        }
    }

    #[test]
    fn stored_shape_of_subscription_started_never_changes() {
        assert_eq!(
            serde_json::to_value(&samples()[0]).expect("serializes"),
            json!({"SubscriptionStarted": {
                "tenant_id": "00000000-0000-0000-0000-000000000001",
                "stripe_customer_id": "cus_1",
                "stripe_subscription_id": "sub_1",
                "plan": "pro",
                "trial_end": null,
                "status": "active",
                "at": "2025-01-02T03:04:05Z"
            }})
        );
    }

    #[test]
    fn stored_shape_of_payment_succeeded_never_changes() {
        assert_eq!(
            serde_json::to_value(&samples()[1]).expect("serializes"),
            json!({"PaymentSucceeded": {
                "invoice_id": "in_1",
                "amount_cents": 9900,
                "currency": "brl",
                "period_end": "2025-01-02T03:04:05Z",
                "at": "2025-01-02T03:04:05Z"
            }})
        );
    }

    #[test]
    fn stored_shape_of_payment_refunded_never_changes() {
        assert_eq!(
            serde_json::to_value(&samples()[10]).expect("serializes"),
            json!({"PaymentRefunded": {
                "refund_id": "re_1",
                "invoice_id": "in_1",
                "amount_cents": 1500,
                "currency": "brl",
                "at": "2025-01-02T03:04:05Z"
            }})
        );
    }

    #[test]
    fn stored_shape_of_complimentary_subscription_started_never_changes() {
        assert_eq!(
            serde_json::to_value(&samples()[6]).expect("serializes"),
            json!({"ComplimentarySubscriptionStarted": {
                "tenant_id": "00000000-0000-0000-0000-000000000001",
                "plan": "pro",
                "status": "active",
                "at": "2025-01-02T03:04:05Z"
            }})
        );
    }
}
