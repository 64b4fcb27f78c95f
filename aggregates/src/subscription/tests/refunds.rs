//! Refunds of recorded payments (issue 18), recorded from Stripe's webhooks.

use super::*;

fn refund(refund: &str, invoice: &str, amount_cents: i64) -> SubscriptionCommand {
    SubscriptionCommand::RecordRefund {
        refund_id: refund.into(),
        invoice_id: invoice.into(),
        amount_cents,
        currency: "BRL".into(),
    }
}

fn refunded(refund: &str, invoice: &str, amount_cents: i64) -> E {
    E::PaymentRefunded {
        refund_id: refund.into(),
        invoice_id: invoice.into(),
        amount_cents,
        currency: "brl".into(),
        at: t0(),
    }
}

#[test]
fn given_a_paid_invoice_when_stripe_refunds_part_of_it_then_the_refund_is_recorded() {
    subscription()
        .given(vec![started(), paid("in_1")])
        .when(refund("re_1", "in_1", 1500))
        .then_expect_events(vec![refunded("re_1", "in_1", 1500)]);
}

#[test]
fn given_a_recorded_refund_when_its_webhook_comes_again_then_nothing_is_recorded() {
    subscription()
        .given(vec![
            started(),
            paid("in_1"),
            refunded("re_1", "in_1", 1500),
        ])
        .when(refund("re_1", "in_1", 1500))
        .then_expect_events(vec![]);
}

#[test]
fn given_a_recorded_refund_when_another_refund_of_the_same_payment_comes_then_it_is_recorded_too() {
    subscription()
        .given(vec![
            started(),
            paid("in_1"),
            refunded("re_1", "in_1", 1500),
        ])
        .when(refund("re_2", "in_1", 8400))
        .then_expect_events(vec![refunded("re_2", "in_1", 8400)]);
}

#[test]
fn given_a_cancelled_subscription_when_stripe_refunds_its_last_payment_then_it_is_recorded() {
    subscription()
        .given(vec![started(), paid("in_1"), cancelled()])
        .when(refund("re_1", "in_1", 9900))
        .then_expect_events(vec![refunded("re_1", "in_1", 9900)]);
}

#[test]
fn a_refund_of_an_invoice_never_recorded_as_paid_is_not_found() {
    let err = error_of(
        vec![started(), failed("in_2", 1)],
        refund("re_1", "in_2", 100),
    );
    assert_eq!(
        (err.code(), err.kind()),
        ("payment_not_found", ErrorKind::NotFound)
    );
    let err = error_of(vec![], refund("re_1", "in_1", 100));
    assert_eq!(err.kind(), ErrorKind::NotFound, "no subscription at all");
}

#[test]
fn a_refund_of_nothing_or_without_an_id_is_refused() {
    let given = || vec![started(), paid("in_1")];
    assert_eq!(
        error_of(given(), refund("re_1", "in_1", 0)).code(),
        "invalid_amount"
    );
    assert_eq!(
        error_of(given(), refund(" ", "in_1", 10)).code(),
        "refund_id_required"
    );
}
