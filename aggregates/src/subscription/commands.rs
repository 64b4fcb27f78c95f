//! What can be asked of a subscription; mostly Stripe webhook facts and timers.

use chrono::{DateTime, Utc};
use schemas::Plan;
use uuid::Uuid;

/// A request to change a subscription.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionCommand {
    /// A Stripe Checkout session completed.
    StartFromCheckout {
        /// The tenant it pays for.
        tenant_id: Uuid,
        /// Stripe's customer id; not blank.
        stripe_customer_id: String,
        /// Stripe's subscription id; not blank.
        stripe_subscription_id: String,
        /// The plan bought; not blank.
        plan: Plan,
        /// End of the free trial, if any.
        trial_end: Option<DateTime<Utc>>,
    },
    /// An invoice was paid (`invoice.paid`). Before the start it is held, and recorded as
    /// paid when the subscription starts.
    RecordPayment {
        /// Stripe's invoice id; not blank.
        invoice_id: String,
        /// Amount in the currency's minor unit; not negative.
        amount_cents: i64,
        /// ISO 4217 code (three letters, any case).
        currency: String,
        /// The end of the period paid for.
        period_end: DateTime<Utc>,
    },
    /// A payment attempt failed (`invoice.payment_failed`).
    RecordPaymentFailure {
        /// Stripe's invoice id; not blank.
        invoice_id: String,
        /// Stripe's attempt count for the invoice.
        attempt: u32,
    },
    /// The grace-period timer fired; suspends a subscription that is still past due.
    ExpireGrace,
    /// Cancel the subscription for good.
    Cancel {
        /// Why.
        reason: String,
    },
    /// An operator gives the tenant a plan without Stripe (admin onboarding, F43).
    StartComplimentary {
        /// The tenant it is for.
        tenant_id: Uuid,
        /// The plan given; not blank.
        plan: Plan,
    },
    /// A Stripe Checkout completed before the tenant exists (`checkout.session.completed`);
    /// remembered until the first payment provisions the tenant.
    RecordCheckout {
        /// Stripe's customer id; not blank.
        stripe_customer_id: String,
        /// Stripe's subscription id; not blank.
        stripe_subscription_id: String,
        /// The plan bought; not blank.
        plan: Plan,
    },
    /// Stripe says whether the subscription ends with the current period.
    SetCancelAtPeriodEnd {
        /// Whether it does.
        cancel_at_period_end: bool,
    },
    /// Move to another plan.
    ChangePlan {
        /// The new plan; not blank.
        plan: Plan,
    },
    /// Stripe refunded (part of) a paid invoice (`refund.*`, `charge.refunded` webhooks
    /// with the refund succeeded). A refund already recorded is a no-op.
    RecordRefund {
        /// Stripe's refund id; not blank.
        refund_id: String,
        /// The paid invoice it returns; `payment_not_found` unless recorded as paid.
        invoice_id: String,
        /// Amount in the currency's minor unit; above zero.
        amount_cents: i64,
        /// ISO 4217 code (three letters, any case).
        currency: String,
    },
}
