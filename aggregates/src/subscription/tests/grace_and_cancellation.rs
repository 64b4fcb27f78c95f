//! Grace period, suspension, cancellation and plan changes.

use super::*;

#[test]
fn grace_expiry_outside_past_due_records_nothing() {
    let histories = [
        vec![started()],
        vec![started(), failed("in_2", 1), paid("in_2")],
        vec![started(), failed("in_2", 1), expired()],
        vec![started(), failed("in_2", 1), cancelled()],
    ];
    for given in histories {
        subscription()
            .given(given)
            .when(SubscriptionCommand::ExpireGrace)
            .then_expect_events(vec![]);
    }
}

#[test]
fn a_payment_reactivates_a_suspended_subscription() {
    let given = vec![started(), failed("in_2", 1), expired()];
    subscription()
        .given(given.clone())
        .when(pay("in_2"))
        .then_expect_events(vec![paid("in_2")]);
    let s = state([given, vec![paid("in_2")]].concat());
    assert_eq!(s.status(), Some(S::Active));
    assert_eq!(s.past_due_since(), None);
}

#[test]
fn a_failed_retry_after_suspension_keeps_it_suspended() {
    let s = state(vec![
        started(),
        failed("in_2", 1),
        expired(),
        failed("in_2", 2),
    ]);
    assert_eq!(s.status(), Some(S::Suspended));
}

#[test]
fn a_cancelled_subscription_refuses_new_facts() {
    let given = vec![started(), paid("in_1"), cancelled()];
    let change = SubscriptionCommand::ChangePlan {
        plan: "starter".into(),
    };
    for command in [fail("in_2", 1), change] {
        let err = error_of(given.clone(), command);
        assert_eq!(
            (err.code(), err.kind()),
            ("subscription_cancelled", ErrorKind::Conflict)
        );
    }
}

#[test]
fn duplicates_after_cancellation_are_still_quiet_no_ops() {
    let given = vec![started(), paid("in_1"), cancelled()];
    let cancel = SubscriptionCommand::Cancel {
        reason: "again".into(),
    };
    for command in [pay("in_1"), start(None), cancel] {
        subscription()
            .given(given.clone())
            .when(command)
            .then_expect_events(vec![]);
    }
}

#[test]
fn cancelling_records_the_reason() {
    subscription()
        .given(vec![started()])
        .when(SubscriptionCommand::Cancel {
            reason: "requested".into(),
        })
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn changing_the_plan_records_both_plans_and_the_same_plan_records_nothing() {
    subscription()
        .given(vec![started()])
        .when(SubscriptionCommand::ChangePlan {
            plan: "business".into(),
        })
        .then_expect_events(vec![E::PlanChanged {
            from: "pro".into(),
            to: "business".into(),
            at: t0(),
        }]);
    subscription()
        .given(vec![started()])
        .when(SubscriptionCommand::ChangePlan { plan: "pro".into() })
        .then_expect_events(vec![]);
}

#[test]
fn a_payment_after_a_cancellation_is_held_for_a_new_subscription() {
    subscription()
        .given(vec![started(), paid("in_1"), cancelled()])
        .when(pay("in_2"))
        .then_expect_events(vec![E::PaymentHeld {
            invoice_id: "in_2".into(),
            amount_cents: 9900,
            currency: "brl".into(),
            period_end: t0() + Duration::days(30),
            at: t0(),
        }]);
}

fn again() -> (SubscriptionCommand, E) {
    (
        SubscriptionCommand::StartFromCheckout {
            tenant_id: TENANT,
            stripe_customer_id: "cus_1".into(),
            stripe_subscription_id: "sub_2".into(),
            plan: "basic".into(),
            trial_end: None,
        },
        E::SubscriptionStarted {
            tenant_id: TENANT,
            stripe_customer_id: "cus_1".into(),
            stripe_subscription_id: "sub_2".into(),
            plan: "basic".into(),
            trial_end: None,
            status: S::Active,
            at: t0(),
        },
    )
}

#[test]
fn a_cancelled_tenant_that_checks_out_again_starts_a_new_subscription_with_its_held_payment() {
    let checkout = SubscriptionCommand::RecordCheckout {
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_2".into(),
        plan: "basic".into(),
    };
    let given = vec![started(), failed("in_1", 1), cancelled()];
    subscription()
        .given(given.clone())
        .when(checkout)
        .then_expect_events(vec![E::CheckoutCompleted {
            stripe_customer_id: "cus_1".into(),
            stripe_subscription_id: "sub_2".into(),
            plan: "basic".into(),
            at: t0(),
        }]);
    let held = E::PaymentHeld {
        invoice_id: "in_2".into(),
        amount_cents: 9900,
        currency: "brl".into(),
        period_end: t0() + Duration::days(30),
        at: t0(),
    };
    let (start, restarted) = again();
    let mut given = given;
    given.push(held);
    subscription()
        .given(given.clone())
        .when(start.clone())
        .then_expect_events(vec![restarted.clone(), paid("in_2")]);
    let mut after = given;
    after.extend([restarted, paid("in_2")]);
    let s = state(after.clone());
    assert_eq!(s.status(), Some(S::Active));
    assert_eq!(s.stripe_subscription_id(), "sub_2");
    assert_eq!(s.plan().as_str(), "basic");
    assert_eq!(s.past_due_since(), None);
    // Stripe redelivering the new checkout's start changes nothing.
    subscription()
        .given(after)
        .when(start)
        .then_expect_events(vec![]);
}

#[test]
fn a_running_subscription_still_refuses_a_checkout_of_another_one() {
    let (start, _) = again();
    let err = error_of(vec![started()], start);
    assert_eq!(err.code(), "already_started");
    let checkout = SubscriptionCommand::RecordCheckout {
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_2".into(),
        plan: "basic".into(),
    };
    assert_eq!(
        error_of(vec![started()], checkout).code(),
        "already_started"
    );
}
