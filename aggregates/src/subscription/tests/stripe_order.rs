//! Stripe facts arriving before the tenant exists, in any order (F21, F22).

use super::*;

fn checkout() -> SubscriptionCommand {
    SubscriptionCommand::RecordCheckout {
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_1".into(),
        plan: "pro".into(),
    }
}

fn checkout_completed() -> E {
    E::CheckoutCompleted {
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_1".into(),
        plan: "pro".into(),
        at: t0(),
    }
}

fn held(invoice: &str) -> E {
    E::PaymentHeld {
        invoice_id: invoice.into(),
        amount_cents: 9900,
        currency: "brl".into(),
        period_end: t0() + Duration::days(30),
        at: t0(),
    }
}

#[test]
fn a_checkout_before_the_tenant_exists_is_remembered_once() {
    subscription()
        .given_no_previous_events()
        .when(checkout())
        .then_expect_events(vec![checkout_completed()]);
    subscription()
        .given(vec![checkout_completed()])
        .when(checkout())
        .then_expect_events(vec![]);
    let s = state(vec![checkout_completed()]);
    assert_eq!(s.status(), None);
    assert_eq!(
        s.pending_checkout().map(|c| c.plan.as_str().to_owned()),
        Some("pro".to_owned())
    );
}

#[test]
fn a_payment_before_the_start_is_held_once_without_starting_anything() {
    subscription()
        .given_no_previous_events()
        .when(pay("in_1"))
        .then_expect_events(vec![held("in_1")]);
    subscription()
        .given(vec![held("in_1")])
        .when(pay("in_1"))
        .then_expect_events(vec![]);
    let s = state(vec![held("in_1")]);
    assert_eq!(s.status(), None);
    assert!(s.has_held_payment());
}

#[test]
fn the_start_records_held_payments_as_paid_right_after_it() {
    subscription()
        .given(vec![held("in_1"), checkout_completed()])
        .when(start(None))
        .then_expect_events(vec![started(), paid("in_1")]);
    let s = state(vec![
        held("in_1"),
        checkout_completed(),
        started(),
        paid("in_1"),
    ]);
    assert_eq!(s.status(), Some(S::Active));
    assert!(!s.has_held_payment());
    assert!(s.pending_checkout().is_none());
    assert!(s.has_paid("in_1"));
}

#[test]
fn a_redelivered_checkout_of_the_running_subscription_changes_nothing() {
    subscription()
        .given(vec![started()])
        .when(checkout())
        .then_expect_events(vec![]);
    let other = SubscriptionCommand::RecordCheckout {
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_9".into(),
        plan: "pro".into(),
    };
    assert_eq!(error_of(vec![started()], other).code(), "already_started");
}

#[test]
fn cancellation_at_period_end_is_recorded_only_when_it_changes() {
    let on = SubscriptionCommand::SetCancelAtPeriodEnd {
        cancel_at_period_end: true,
    };
    let changed = E::CancelAtPeriodEndChanged {
        cancel_at_period_end: true,
        at: t0(),
    };
    subscription()
        .given(vec![started()])
        .when(on.clone())
        .then_expect_events(vec![changed.clone()]);
    subscription()
        .given(vec![started(), changed.clone()])
        .when(on)
        .then_expect_events(vec![]);
    assert!(state(vec![started(), changed]).cancels_at_period_end());
}
