//! Starting from a Stripe Checkout.

use super::*;

#[test]
fn a_checkout_without_a_trial_starts_an_active_subscription() {
    subscription()
        .given_no_previous_events()
        .when(start(None))
        .then_expect_events(vec![started()]);
}

#[test]
fn a_checkout_with_a_trial_ending_in_the_future_starts_trialing() {
    let end = t0() + Duration::days(14);
    subscription()
        .given_no_previous_events()
        .when(start(Some(end)))
        .then_expect_events(vec![started_as(S::Trialing, Some(end))]);
}

#[test]
fn a_trial_ending_now_starts_active() {
    subscription()
        .given_no_previous_events()
        .when(start(Some(t0())))
        .then_expect_events(vec![started_as(S::Active, Some(t0()))]);
}

#[test]
fn starting_twice_with_the_same_ids_records_nothing() {
    subscription()
        .given(vec![started()])
        .when(start(None))
        .then_expect_events(vec![]);
}

#[test]
fn starting_again_from_another_stripe_subscription_is_refused() {
    let other = SubscriptionCommand::StartFromCheckout {
        tenant_id: TENANT,
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_2".into(),
        plan: "pro".into(),
        trial_end: None,
    };
    let err = error_of(vec![started()], other);
    assert_eq!(
        (err.code(), err.kind()),
        ("already_started", ErrorKind::Conflict)
    );
}

#[test]
fn commands_before_the_start_find_no_subscription() {
    for command in [fail("in_1", 1), SubscriptionCommand::ExpireGrace] {
        let err = error_of(vec![], command);
        assert_eq!(
            (err.code(), err.kind()),
            ("subscription_not_found", ErrorKind::NotFound)
        );
    }
}
