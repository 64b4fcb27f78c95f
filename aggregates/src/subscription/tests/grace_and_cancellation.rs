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
    for command in [pay("in_2"), fail("in_2", 1), change] {
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
