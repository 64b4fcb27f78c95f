//! Given/when/then tests of the subscription rules, one per rule.

mod complimentary;
mod grace_and_cancellation;
mod payments;
mod refunds;
mod start;
mod stripe_order;

use super::*;
use crate::clock::FixedClock;
use crate::error::{DomainError, ErrorKind};
use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use schemas::events::{SubscriptionEvent as E, SubscriptionStatus as S};
use std::sync::Arc;
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(1);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

fn subscription() -> TestFramework<Subscription> {
    TestFramework::with(SubscriptionServices::new(Arc::new(FixedClock::new(t0()))))
}

fn start(trial_end: Option<DateTime<Utc>>) -> SubscriptionCommand {
    SubscriptionCommand::StartFromCheckout {
        tenant_id: TENANT,
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_1".into(),
        plan: "pro".into(),
        trial_end,
    }
}

fn started_as(status: S, trial_end: Option<DateTime<Utc>>) -> E {
    E::SubscriptionStarted {
        tenant_id: TENANT,
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_1".into(),
        plan: "pro".into(),
        trial_end,
        status,
        at: t0(),
    }
}

fn started() -> E {
    started_as(S::Active, None)
}

fn pay(invoice: &str) -> SubscriptionCommand {
    SubscriptionCommand::RecordPayment {
        invoice_id: invoice.into(),
        amount_cents: 9900,
        currency: "BRL".into(),
        period_end: t0() + Duration::days(30),
    }
}

fn paid(invoice: &str) -> E {
    E::PaymentSucceeded {
        invoice_id: invoice.into(),
        amount_cents: 9900,
        currency: "brl".into(),
        period_end: t0() + Duration::days(30),
        at: t0(),
    }
}

fn fail(invoice: &str, attempt: u32) -> SubscriptionCommand {
    SubscriptionCommand::RecordPaymentFailure {
        invoice_id: invoice.into(),
        attempt,
    }
}

fn failed(invoice: &str, attempt: u32) -> E {
    E::PaymentFailed {
        invoice_id: invoice.into(),
        attempt,
        at: t0(),
    }
}

fn expired() -> E {
    E::GracePeriodExpired { at: t0() }
}

fn cancelled() -> E {
    E::SubscriptionCancelled {
        reason: "requested".into(),
        at: t0(),
    }
}

fn state(events: Vec<E>) -> Subscription {
    let mut s = Subscription::default();
    events.into_iter().for_each(|e| s.apply(e));
    s
}

fn error_of(events: Vec<E>, command: SubscriptionCommand) -> SubscriptionError {
    subscription()
        .given(events)
        .when(command)
        .inspect_result()
        .unwrap_err()
}

#[test]
fn the_aggregate_type_is_the_stored_subscription_string() {
    assert_eq!(Subscription::TYPE, "subscription");
}
