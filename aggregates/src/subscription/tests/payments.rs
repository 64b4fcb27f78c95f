//! Payments and payment failures.

use super::*;

#[test]
fn a_payment_is_recorded_and_ends_the_trial() {
    let trialing = started_as(S::Trialing, Some(t0() + Duration::days(14)));
    subscription()
        .given(vec![trialing.clone()])
        .when(pay("in_1"))
        .then_expect_events(vec![paid("in_1")]);
    let s = state(vec![trialing, paid("in_1")]);
    assert_eq!(s.status(), Some(S::Active));
    assert_eq!(s.current_period_end(), Some(t0() + Duration::days(30)));
}

#[test]
fn duplicate_invoice_is_recorded_once() {
    subscription()
        .given(vec![started(), paid("in_1")])
        .when(pay("in_1"))
        .then_expect_events(vec![]);
}

#[test]
fn a_negative_amount_or_a_malformed_currency_is_refused() {
    let bad_amount = SubscriptionCommand::RecordPayment {
        invoice_id: "in_1".into(),
        amount_cents: -1,
        currency: "brl".into(),
        period_end: t0(),
    };
    assert_eq!(
        error_of(vec![started()], bad_amount).code(),
        "invalid_amount"
    );
    let bad_currency = SubscriptionCommand::RecordPayment {
        invoice_id: "in_1".into(),
        amount_cents: 1,
        currency: "real".into(),
        period_end: t0(),
    };
    let err = error_of(vec![started()], bad_currency);
    assert_eq!(
        (err.code(), err.kind()),
        ("invalid_currency", ErrorKind::Unprocessable)
    );
}

#[test]
fn a_failed_payment_makes_the_subscription_past_due() {
    subscription()
        .given(vec![started()])
        .when(fail("in_2", 1))
        .then_expect_events(vec![failed("in_2", 1)]);
    let s = state(vec![started(), failed("in_2", 1)]);
    assert_eq!(s.status(), Some(S::PastDue));
    assert_eq!(s.past_due_since(), Some(t0()));
}

#[test]
fn a_repeated_payment_failure_is_recorded_once_but_a_new_attempt_is_recorded() {
    let given = vec![started(), failed("in_2", 1)];
    subscription()
        .given(given.clone())
        .when(fail("in_2", 1))
        .then_expect_events(vec![]);
    subscription()
        .given(given)
        .when(fail("in_2", 2))
        .then_expect_events(vec![failed("in_2", 2)]);
}

#[test]
fn a_late_failure_of_a_paid_invoice_records_nothing() {
    subscription()
        .given(vec![started(), paid("in_2")])
        .when(fail("in_2", 1))
        .then_expect_events(vec![]);
}

#[test]
fn grace_expiry_suspends_a_past_due_subscription() {
    let given = vec![started(), failed("in_2", 1)];
    subscription()
        .given(given.clone())
        .when(SubscriptionCommand::ExpireGrace)
        .then_expect_events(vec![expired()]);
    assert_eq!(
        state([given, vec![expired()]].concat()).status(),
        Some(S::Suspended)
    );
}
